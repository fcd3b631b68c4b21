// HashKV: a CRC-32C over the key bucket up to a revision, as etcd computes it, so members that applied
// the same history agree whether or not their physical compaction has finished.

import type { ReadTx } from "../backend/batch_tx.js";
import { Bucket } from "../backend/buckets.js";
import type { ReadView } from "../backend/read_view.js";
import { update as crc32cUpdate } from "../pkg/crc32c.js";
import { bytesToMain, bytesToSub, revToBytes } from "./revision.js";

/**
 * Hashes the name of the key bucket, then every (revision key, value) pair with main <= rev, in order.
 * Revisions at or below `compactRev` count only if `keep` (what compaction at `rev` keeps, as
 * "main_sub") holds them, which skips revisions a running compaction is about to delete.
 */
export function hashKV(tx: ReadTx, compactRev: number, rev: number, keep: ReadonlySet<string>): number {
  const acc = new KVHasher(compactRev, keep);
  tx.forEach(Bucket.key, (k, v) => acc.add(k, v), undefined, revToBytes(rev + 1, 0));
  return acc.hash;
}

/**
 * The same hash over a consistent read view, scanned in chunks that yield to the event loop (a large key
 * bucket takes seconds; the member must keep heartbeating meanwhile).
 */
export async function hashKVAsync(
  view: ReadView,
  compactRev: number,
  rev: number,
  keep: ReadonlySet<string>,
): Promise<number> {
  const acc = new KVHasher(compactRev, keep);
  await view.forEach(Bucket.key, (k, v) => acc.add(k, v), undefined, revToBytes(rev + 1, 0));
  return acc.hash;
}

class KVHasher {
  hash = crc32cUpdate(0, Buffer.from(Bucket.key, "latin1"));

  constructor(
    private readonly compactRev: number,
    private readonly keep: ReadonlySet<string>,
  ) {}

  add(k: Uint8Array, v: Uint8Array): void {
    const main = bytesToMain(k);
    if (main <= this.compactRev && this.keep.size > 0 && !this.keep.has(`${main}_${bytesToSub(k)}`)) return;
    this.hash = crc32cUpdate(this.hash, k);
    this.hash = crc32cUpdate(this.hash, v);
  }
}
