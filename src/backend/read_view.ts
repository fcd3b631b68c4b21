// A consistent read-only view of the backend for long scans (HashKV over a large key bucket): an LMDB
// read transaction taken after committing the buffered writes, read in chunks that yield to the event
// loop, so the member keeps ticking, applying and answering while it scans. Writes made meanwhile are
// not seen; close() releases the transaction (the backend closes open views when it closes).

import type { Database, Transaction } from "lmdb";
import type { BucketName } from "./buckets.js";

export const READ_VIEW_CHUNK = 4096;

export class ReadView {
  private txn: Transaction | undefined;
  /** The cursor of the scan under way, if any. */
  private cursor: Iterator<unknown> | undefined;

  /** @internal Made by Backend.readView(). */
  constructor(
    private readonly db: (name: BucketName) => Database<Buffer, Buffer>,
    txn: Transaction,
    private readonly onClose: (v: ReadView) => void,
  ) {
    this.txn = txn;
  }

  /**
   * Calls `fn` for each pair of `bucket` in [start, end) in key order, yielding to the event loop every
   * `chunk` pairs. Rejects if the view is closed meanwhile.
   */
  async forEach(
    bucket: BucketName,
    fn: (key: Buffer, value: Buffer) => void,
    start?: Uint8Array,
    end?: Uint8Array,
    chunk = READ_VIEW_CHUNK,
  ): Promise<void> {
    const txn = this.open();
    const it = this.db(bucket)
      .getRange({
        transaction: txn,
        ...(start !== undefined ? { start: Buffer.from(start) } : {}),
        ...(end !== undefined ? { end: Buffer.from(end) } : {}),
      })
      [Symbol.iterator]();
    this.cursor = it;
    try {
      for (let n = 1; ; n++) {
        const r = it.next();
        if (r.done) return;
        fn(r.value.key, r.value.value);
        if (n % chunk === 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          // Closed meanwhile (the backend closed or swapped): the cursor went with the transaction.
          this.open();
        }
      }
    } finally {
      this.releaseCursor(it);
    }
  }

  close(): void {
    const txn = this.txn;
    if (txn === undefined) return;
    this.txn = undefined;
    // LMDB's rule: a cursor is closed before its transaction.
    if (this.cursor !== undefined) this.releaseCursor(this.cursor);
    txn.done();
    this.onClose(this);
  }

  private releaseCursor(it: Iterator<unknown>): void {
    if (this.cursor !== it) return;
    this.cursor = undefined;
    it.return?.();
  }

  private open(): Transaction {
    if (this.txn === undefined) throw new Error("backend read view: closed");
    return this.txn;
  }
}
