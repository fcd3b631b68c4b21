// HashKV: a CRC-32C over the key bucket up to a revision, as etcd computes it, so members that applied
// the same history agree whether or not their physical compaction has finished.

import type { ReadTx } from "../backend/batch_tx.js";
import { Bucket } from "../backend/buckets.js";
import { update as crc32cUpdate } from "../pkg/crc32c.js";
import { bytesToMain, bytesToSub, revToBytes } from "./revision.js";

/**
 * Hashes the name of the key bucket, then every (revision key, value) pair with main <= rev, in order.
 * Revisions at or below `compactRev` count only if `keep` (what compaction at `rev` keeps, as
 * "main_sub") holds them, which skips revisions a running compaction is about to delete.
 */
export function hashKV(tx: ReadTx, compactRev: number, rev: number, keep: ReadonlySet<string>): number {
  let h = crc32cUpdate(0, Buffer.from(Bucket.key, "latin1"));
  tx.forEach(
    Bucket.key,
    (k, v) => {
      const main = bytesToMain(k);
      if (main <= compactRev && keep.size > 0 && !keep.has(`${main}_${bytesToSub(k)}`)) return;
      h = crc32cUpdate(h, k);
      h = crc32cUpdate(h, v);
    },
    undefined,
    revToBytes(rev + 1, 0),
  );
  return h;
}
