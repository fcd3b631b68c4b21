// Txn conditions, as etcd's applyCompare/compareKV.

import { type Compare, CompareResult, CompareTarget } from "./requests.js";
import type { KeyValue, ReadView } from "./types.js";

const EMPTY = new Uint8Array(0);
const ABSENT: KeyValue = {
  key: EMPTY,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: EMPTY,
  lease: 0n,
};

function cmp(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares one key's state against the condition. A missing key compares as all zero. */
export function compareKV(c: Compare, kv: KeyValue): boolean {
  let result: number;
  switch (c.target) {
    case CompareTarget.VALUE:
      result = Buffer.compare(kv.value, c.value ?? EMPTY);
      break;
    case CompareTarget.CREATE:
      result = cmp(kv.createRevision, c.createRevision ?? 0);
      break;
    case CompareTarget.MOD:
      result = cmp(kv.modRevision, c.modRevision ?? 0);
      break;
    case CompareTarget.VERSION:
      result = cmp(kv.version, c.version ?? 0);
      break;
    case CompareTarget.LEASE:
      result = cmp(kv.lease, c.lease ?? 0n);
      break;
    default:
      result = 0;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
    default:
      return true;
  }
}

/**
 * True if every key of the compare's range satisfies it. With no key in the range, a VALUE compare
 * fails (there is no value to compare) and the others compare against zero.
 */
export function applyCompare(view: ReadView, c: Compare): boolean {
  let kvs: KeyValue[];
  try {
    kvs = view.range(c.key, c.rangeEnd).kvs;
  } catch {
    return false;
  }
  if (kvs.length === 0) return c.target === CompareTarget.VALUE ? false : compareKV(c, ABSENT);
  for (const kv of kvs) if (!compareKV(c, kv)) return false;
  return true;
}

/** True if all conditions hold (an empty list holds). */
export function applyCompares(view: ReadView, cs: readonly Compare[] | undefined): boolean {
  if (cs === undefined) return true;
  for (const c of cs) if (!applyCompare(view, c)) return false;
  return true;
}
