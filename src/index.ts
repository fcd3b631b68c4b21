// etcd-ts as a library: the TypeScript client (src/client, etcd's clientv3) at the top level, and the
// Raft core as a namespace. The embedded server is exported here as it lands.

export * from "./client/index.js";
export * as raft from "./raft/index.js";
