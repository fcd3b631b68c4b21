// The lessor's public surface.

export {
  type Checkpointer,
  CheckpointSchedule,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  type LeaseCheckpoint,
  MAX_CHECKPOINT_BATCH,
} from "./checkpoint.js";
export {
  decodeLease,
  encodeLease,
  LeaseDecodeError,
  type LeaseRecord,
  leaseIdOfKey,
  leaseKey,
} from "./codec.js";
export * from "./errors.js";
export {
  type Clock,
  FOREVER,
  formatLeaseId,
  Lease,
  type LeaseStatus,
  leaseId,
  MAX_LEASE_TTL,
  minLeaseTTL,
  monotonicClock,
  NO_LEASE,
} from "./lease.js";
export { LeaseQueue } from "./lease_queue.js";
export {
  DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS,
  DEFAULT_LEASE_REVOKE_RATE,
  DEFAULT_LOOP_INTERVAL_MS,
  type ExpiredHandler,
  type LeaseBackend,
  Lessor,
  type LessorLogger,
  type LessorOptions,
  type RangeDeleter,
  type RevokeResult,
  type RunResult,
  type TimeToLive,
  type TxnDelete,
} from "./lessor.js";
export { TokenBucket } from "./rate_limiter.js";
