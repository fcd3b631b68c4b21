// etcd-ts as a library. The TypeScript client and the embedded server are exported here as they land.

export * as raft from "./raft/index.js";
