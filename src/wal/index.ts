// The storage layer's files: the write-ahead log and the raft snapshot files.

export {
  CorruptWALError,
  DataDirLockedError,
  SnapshotFileError,
  WALError,
  WALSnapshotMismatchError,
  WALSnapshotNotFoundError,
} from "./errors.js";
export { LOCK_NAME } from "./lock.js";
export { RecordType } from "./record.js";
export { classifyTail, type TailVerdict } from "./repair.js";
export { parseSegmentName, segmentName } from "./segment.js";
export { DEFAULT_MAX_SNAPSHOTS, parseSnapName, Snapshotter, snapName } from "./snapshotter.js";
export {
  DEFAULT_MAX_WALS,
  DEFAULT_SEGMENT_BYTES,
  type ReadAllResult,
  WAL,
  type WALOptions,
  type WALPosition,
  type WALSnapshot,
  type WALStats,
} from "./wal.js";
