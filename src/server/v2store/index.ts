// The v2 keys store behind /v2/keys (--enable-v2), replicated through Raft (InternalRaftRequest.v2).

export { V2Code, V2Error, type V2ErrorJson } from "./errors.js";
export { cleanPath, type NodeExtern, type V2Action, type V2Event } from "./node.js";
export { v2StoreFor } from "./registry.js";
export { HISTORY, type V2Applied, type V2ApplyResult, V2Store } from "./store.js";
export { type V2Watch, WatcherHub } from "./watchers.js";
