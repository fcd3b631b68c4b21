// Corruption checks between members: at start and periodically on the leader (see checker.ts).

export { CorruptionChecker, CorruptionError, type CorruptionHost } from "./checker.js";
export { corruptMembers, type MemberHash } from "./judge.js";
export { fetchPeerHash, PEER_HASHKV_PATH, type PeerHashAnswer, type PeerHashKVBody } from "./peer_hash.js";
