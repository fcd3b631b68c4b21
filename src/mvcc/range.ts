// RangeRequest semantics on top of the store-level range, as etcd's applier: limit with the `more`
// flag, min/max mod/create revision filters, sort order and target, keys_only, count_only.

import { type RangeRequest, type RangeResponse, SortOrder, SortTarget } from "./requests.js";
import type { KeyValue, ReadView } from "./types.js";

const EMPTY = new Uint8Array(0);

type KvCompare = (a: KeyValue, b: KeyValue) => number;

const byTarget: Record<SortTarget, KvCompare> = {
  [SortTarget.KEY]: (a, b) => Buffer.compare(a.key, b.key),
  [SortTarget.VERSION]: (a, b) => a.version - b.version,
  [SortTarget.CREATE]: (a, b) => a.createRevision - b.createRevision,
  [SortTarget.MOD]: (a, b) => a.modRevision - b.modRevision,
  [SortTarget.VALUE]: (a, b) => Buffer.compare(a.value, b.value),
};

/**
 * Answers a RangeRequest from `view`. The store returns keys in ascending key order; sorting by another
 * target is stable, so keys with equal targets stay in key order (ascending, also when descending).
 * `count` is the number of keys in the range at the revision read, before filters and limit.
 */
export function applyRange(view: ReadView, r: RangeRequest): RangeResponse {
  const reqLimit = r.limit ?? 0;
  const minMod = r.minModRevision ?? 0;
  const maxMod = r.maxModRevision ?? 0;
  const minCreate = r.minCreateRevision ?? 0;
  const maxCreate = r.maxCreateRevision ?? 0;
  const target = r.sortTarget ?? SortTarget.KEY;
  let order = r.sortOrder ?? SortOrder.NONE;
  // Results come in ascending key order already: sort by key ascending is a no-op, and another target
  // without an order sorts ascending (etcd). Decided before the fetch limit, which depends on it.
  if (target !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  else if (target === SortTarget.KEY && order === SortOrder.ASCEND) order = SortOrder.NONE;
  const filtered = minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;

  // Fetch everything when results get filtered or re-sorted; otherwise one more than asked, for `more`.
  let limit = reqLimit;
  if (order !== SortOrder.NONE || filtered) limit = 0;
  if (limit > 0) limit++;
  const rr = view.range(r.key, r.rangeEnd, { limit, rev: r.revision ?? 0, countOnly: r.countOnly ?? false });

  let kvs = rr.kvs;
  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        (maxMod === 0 || kv.modRevision <= maxMod) &&
        (minMod === 0 || kv.modRevision >= minMod) &&
        (maxCreate === 0 || kv.createRevision <= maxCreate) &&
        (minCreate === 0 || kv.createRevision >= minCreate),
    );
  }
  if (order !== SortOrder.NONE) {
    const c = byTarget[target] ?? byTarget[SortTarget.KEY];
    kvs = order === SortOrder.DESCEND ? kvs.slice().sort((a, b) => c(b, a)) : kvs.slice().sort(c);
  }
  let more = false;
  if (reqLimit > 0 && kvs.length > reqLimit) {
    kvs = kvs.slice(0, reqLimit);
    more = true;
  }
  if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
  return { header: { revision: rr.rev }, kvs, more, count: rr.count };
}
