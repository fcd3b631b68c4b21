// The key space's public surface.

export { applyCompare, applyCompares, compareKV } from "./compare.js";
export * from "./errors.js";
export { hashKV } from "./hash.js";
export { type KeySpan, keySpan } from "./key_index.js";
export { decodeKeyValue, encodeKeyValue, KeyValueDecodeError } from "./kv_codec.js";
export {
  type CommitListener,
  type CompactResult,
  KVStore,
  type KVStoreLogger,
  type KVStoreOptions,
  TxnWrite,
} from "./kvstore.js";
export { applyRange } from "./range.js";
export * from "./requests.js";
export {
  bytesToRev,
  compareRev,
  isTombstoneKey,
  MARKED_REV_BYTES_LEN,
  REV_BYTES_LEN,
  type Revision,
  revToBytes,
} from "./revision.js";
export {
  type ApplyContext,
  applyDeleteRange,
  applyPut,
  applyTxn,
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_TXN_OPS,
} from "./txn.js";
export * from "./types.js";
