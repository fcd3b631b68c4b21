// Response sizes and fragmentation. Sizes are estimates of the protobuf encoding (key and value bytes plus
// a fixed allowance for the integer fields and tags): good enough to bound memory and to keep fragments
// under a limit with margin; the gRPC layer may re-check exact sizes.

import type { Event, KeyValue } from "../types.js";
import type { WatchResponse } from "./types.js";

/** Fixed allowance for a KeyValue's tags, lengths and four int64 fields. */
const KV_OVERHEAD = 48;
/** Fixed allowance for an Event's type and tags. */
const EVENT_OVERHEAD = 8;
/** Fixed allowance for a WatchResponse's header, watch ID, flags and revisions. */
const RESPONSE_OVERHEAD = 64;

export function kvSize(kv: KeyValue): number {
  return kv.key.length + kv.value.length + KV_OVERHEAD;
}

export function eventSize(ev: Event): number {
  return EVENT_OVERHEAD + kvSize(ev.kv) + (ev.prevKv === undefined ? 0 : kvSize(ev.prevKv));
}

export function responseSize(r: WatchResponse): number {
  let n = RESPONSE_OVERHEAD;
  for (const ev of r.events) n += eventSize(ev);
  return n;
}

/**
 * Splits `r` into responses of at most `maxBytes` (estimated) each, every one but the last marked
 * `fragment`, as etcd's sendFragments does. A response of one event, or within the limit, is returned
 * whole; an event larger than the limit travels alone.
 */
export function fragmentResponse(r: WatchResponse, maxBytes: number): WatchResponse[] {
  if (r.events.length < 2 || responseSize(r) <= maxBytes) return [r];
  const out: WatchResponse[] = [];
  let cur: Event[] = [];
  let size = RESPONSE_OVERHEAD;
  for (const ev of r.events) {
    const es = eventSize(ev);
    if (cur.length > 0 && size + es > maxBytes) {
      out.push({ ...r, events: cur, fragment: true });
      cur = [];
      size = RESPONSE_OVERHEAD;
    }
    cur.push(ev);
    size += es;
  }
  out.push({ ...r, events: cur, fragment: false });
  return out;
}
