// The Raft core's public surface. Everything here is pure: no I/O, timers, clock or randomness.

export * from "./codec.js";
export { type Config, ReadOnlyOption } from "./config.js";
export * from "./errors.js";
export { discardLogger, type LogFields, type RaftLogger } from "./logger.js";
export { type Rand, seededRand } from "./rand.js";
export {
  type ProgressStatus,
  RawNode,
  type ReadState,
  type Ready,
  type SoftState,
  StateType,
  type Status,
} from "./rawnode.js";
export { limitSize, MemoryStorage, type Storage } from "./storage.js";
export * from "./types.js";
