// Watch requests and responses, shaped after etcd's WatchCreateRequest and WatchResponse (rpc.proto) so
// the gRPC layer maps them field by field; and what the watchable store needs from the key space.

import type { Event, RangeOptions, RangeResult } from "../types.js";

/** Watch ID of a stream-wide progress notification (etcd's clientv3.InvalidWatchID). */
export const PROGRESS_ALL_WATCH_ID = -1;

/** Event filters (etcd's WatchCreateRequest.FilterType): drop puts, drop deletes. */
export interface WatchFilters {
  noPut?: boolean;
  noDelete?: boolean;
}

/** One watch on a stream (etcd's WatchCreateRequest). */
export interface WatchRequest {
  /** The key, or the start of the range. Empty means "\0", the smallest key (as etcd). */
  key: Uint8Array;
  /**
   * Absent or empty: just `key`. "\0": every key >= key. Otherwise [key, rangeEnd), which must not be
   * empty (EmptyWatcherRangeError).
   */
  rangeEnd?: Uint8Array;
  /**
   * First revision to report. 0 (or absent, or negative): from the next write. At or below the current
   * revision: history is replayed from there, then live events follow. Below the compaction revision:
   * the watch is canceled with a response carrying compactRevision.
   */
  startRev?: number;
  filters?: WatchFilters;
  /** Attach to each event the key as it was before it (prevKv). Costs one index and backend read per event. */
  prevKv?: boolean;
  /** Send an empty response with the current revision every progress interval without other traffic. */
  progressNotify?: boolean;
  /** Split responses larger than the store's maxResponseBytes into fragments (see WatchResponse.fragment). */
  fragment?: boolean;
  /** Explicit watch ID (> 0); 0 or absent: the stream picks the lowest free one from its counter (etcd's AutoWatchID). */
  watchId?: number;
}

/**
 * What a watch stream delivers (etcd's WatchResponse without the header's member fields). Kinds:
 * - created: `created`, the watch ID, the store revision when it was created;
 * - events: `events` in revision order, `revision` the revision through which this watch has now been
 *   brought (the last event's revision or later); events are shared between watchers: do not modify;
 * - progress: no events, `revision` = every event of the watch (or, with watchId -1, of every watch on
 *   the stream) at or below it has been delivered;
 * - canceled: `canceled`, after cancel() (no more responses for that ID follow) or because the watch
 *   fell behind a compaction (`compactRevision` > 0, the oldest revision still available).
 */
export interface WatchResponse {
  watchId: number;
  events: Event[];
  revision: number;
  created: boolean;
  canceled: boolean;
  /** The compaction revision, when the watch was canceled for needing history older than it; else 0. */
  compactRevision: number;
  cancelReason?: string;
  /** More fragments of the same response follow (only for watches that asked for fragmenting). */
  fragment: boolean;
}

/** The key space as the watchable store uses it; KVStore provides it. */
export interface WatchableKV {
  rev(): number;
  compactRev(): number;
  range(key: Uint8Array, rangeEnd?: Uint8Array, opts?: RangeOptions): RangeResult;
  setCommitListener(fn: ((events: Event[], rev: number) => void) | undefined): void;
  rangeEvents(key: Uint8Array, end: Uint8Array | undefined, fromRev: number, toRev: number): Event[];
}

export interface WatchLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface WatchableStoreOptions {
  /**
   * Responses a stream may hold for its consumer before its watchers stop receiving live events and
   * are caught up from history later (they never skip). Default 1024. Control responses (created,
   * canceled, requested progress) are always queued, so one slow client cannot refuse them.
   */
  maxPendingResponses?: number;
  /** Same bound in (estimated protobuf) bytes; a response is always accepted by an empty queue. Default 8 MiB. */
  maxPendingBytes?: number;
  /** Watchers caught up per round of the sync loop (etcd's maxWatchersPerSync). Default 512. */
  maxWatchersPerSync?: number;
  /** Revisions read from history per round (etcd's watchBatchMaxRevs). Default 1000. */
  maxRevsPerSync?: number;
  /** Interval of progress notifications for watches with progressNotify. Default 10 min (etcd's); 0: no timer. */
  progressNotifyIntervalMs?: number;
  /** Fragment threshold in estimated bytes for watches with `fragment`. Default 1.5 MiB (etcd's --max-request-bytes). */
  maxResponseBytes?: number;
  logger?: WatchLogger;
}
