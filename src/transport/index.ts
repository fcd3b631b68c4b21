// Peer transport: Raft messages and snapshots between members (see transport.ts for the wire).

export { Backoff, type BackoffOptions } from "./backoff.js";
export { encodeFrame, encodeFrames, FrameDecoder, FrameError, HEARTBEAT_FRAME } from "./frame.js";
export { hostPort, type PeerNet, PlainHttpNet } from "./net.js";
export { ListenError, PeerTransport, stderrTransportLogger } from "./transport.js";
export {
  idFromHex,
  idToHex,
  type PeerStats,
  type PeerTransportOptions,
  TEXT_CLUSTER_ID_MISMATCH,
  TEXT_MEMBER_REMOVED,
  TEXT_TO_MISMATCH,
  type TransportHandlers,
} from "./types.js";
