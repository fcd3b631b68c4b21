// Concurrency recipes on top of the client (etcd's clientv3/concurrency): sessions, locks, elections and
// software transactional memory.

export { Election } from "./election.js";
export { Mutex } from "./mutex.js";
export { Session, type SessionOptions } from "./session.js";
export { type Isolation, runSTM, type STM, type STMOptions, type STMResult } from "./stm.js";
