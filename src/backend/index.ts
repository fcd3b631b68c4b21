// The backend's public surface: LMDB-backed buckets, the buffered batch transaction, snapshots.

export {
  Backend,
  type BackendLogger,
  type BackendOptions,
  type BackendStats,
  backendExists,
  type HashIgnore,
} from "./backend.js";
export { type BatchTx, type KeyValuePair, keyString, type ReadTx } from "./batch_tx.js";
export { BoltFile, BoltFormatError } from "./bbolt.js";
export {
  ALL_BUCKETS,
  Bucket,
  type BucketName,
  decodeUint64BE,
  encodeUint64BE,
  isBucketName,
  MetaKey,
} from "./buckets.js";
export { ReadView } from "./read_view.js";
export { BackendSnapshot, SNAPSHOT_MAGIC, SNAPSHOT_VERSION, SnapshotFormatError } from "./snapshot.js";
export { SNAPSHOT_FILE_ALIGN, writeSnapshotFile } from "./snapshot_file.js";
