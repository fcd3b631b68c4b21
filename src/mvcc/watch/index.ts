// The watchable store's public surface.

export * from "./errors.js";
export { eventSize, fragmentResponse, kvSize, responseSize } from "./fragment.js";
export { IntervalTree } from "./interval_tree.js";
export * from "./types.js";
export { WatchStream } from "./watch_stream.js";
export {
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_PENDING_RESPONSES,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MAX_REVS_PER_SYNC,
  DEFAULT_MAX_WATCHERS_PER_SYNC,
  DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS,
  WatchableStore,
  type WatchStats,
  type WatchStreamOptions,
} from "./watchable_store.js";
export { Watcher, WatcherGroup } from "./watcher_group.js";
