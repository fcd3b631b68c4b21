// The backend's single writer and its readers. Writes go to an in-memory buffer (one ordered map per
// bucket, last write of a key wins) that the Backend commits to LMDB in one transaction; every read
// merges that buffer over LMDB, so readers see buffered writes without forcing a commit. Nothing here
// commits: a commit never happens in the middle of synchronous code (see Backend), which is what keeps
// the consistent index atomic with the data it covers.

import type { Database } from "lmdb";
import type { BucketName } from "./buckets.js";

/** A key and its value. */
export type KeyValuePair = [key: Uint8Array, value: Uint8Array];

/**
 * Reads of the backend. Keys compare as bytes. `end` is exclusive; an absent `end` means "to the end of
 * the bucket". Returned arrays must not be modified (they may be the buffered write itself).
 */
export interface ReadTx {
  /** The value of `key`, or undefined. */
  get(bucket: BucketName, key: Uint8Array): Uint8Array | undefined;
  /**
   * As get, without copying out of LMDB: the bytes are valid only until the next backend read or write
   * (etcd's "unsafe" reads). Decode or copy them at once.
   */
  getUnsafe(bucket: BucketName, key: Uint8Array): Uint8Array | undefined;
  /** Pairs with start <= key < end, ascending, at most `limit` of them (0: no limit). */
  range(bucket: BucketName, start?: Uint8Array, end?: Uint8Array, limit?: number): KeyValuePair[];
  /** Calls `fn` for each pair with start <= key < end, ascending; `fn` returning false stops the walk. */
  forEach(
    bucket: BucketName,
    fn: (key: Uint8Array, value: Uint8Array) => unknown,
    start?: Uint8Array,
    end?: Uint8Array,
  ): void;
}

/** The backend's only writer. Keys are copied on put; values are kept by reference until committed. */
export interface BatchTx extends ReadTx {
  put(bucket: BucketName, key: Uint8Array, value: Uint8Array): void;
  delete(bucket: BucketName, key: Uint8Array): void;
  /** Writes buffered since the last commit. */
  readonly pending: number;
}

/** One bucket: its LMDB database and the writes buffered for it (null marks a delete). */
export interface BucketState {
  readonly name: BucketName;
  db: Database<Buffer, Buffer>;
  readonly buf: Map<string, Uint8Array | null>;
}

/** What the buffered transaction needs from its backend. */
export interface TxHost {
  bucket(name: BucketName): BucketState;
  /** Called after every buffered write (the backend schedules commits from here). */
  written(): void;
}

const EMPTY = new Uint8Array(0);

/** The bytes of `k` as a latin1 string: JS string order on these is byte order. */
export function keyString(k: Uint8Array): string {
  return (Buffer.isBuffer(k) ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength)).toString("latin1");
}

function asBuffer(k: Uint8Array): Buffer {
  return Buffer.isBuffer(k) ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength);
}

export class BufferedBatchTx implements BatchTx {
  pending = 0;

  constructor(private readonly host: TxHost) {}

  put(bucket: BucketName, key: Uint8Array, value: Uint8Array): void {
    if (key.length === 0) throw new RangeError("backend: empty keys are not allowed");
    this.host.bucket(bucket).buf.set(keyString(key), value);
    this.pending++;
    this.host.written();
  }

  delete(bucket: BucketName, key: Uint8Array): void {
    if (key.length === 0) throw new RangeError("backend: empty keys are not allowed");
    this.host.bucket(bucket).buf.set(keyString(key), null);
    this.pending++;
    this.host.written();
  }

  get(bucket: BucketName, key: Uint8Array): Uint8Array | undefined {
    const b = this.host.bucket(bucket);
    if (b.buf.size > 0) {
      const v = b.buf.get(keyString(key));
      if (v !== undefined) return v ?? undefined;
    }
    if (key.length === 0) return undefined;
    return b.db.getBinary(asBuffer(key));
  }

  getUnsafe(bucket: BucketName, key: Uint8Array): Uint8Array | undefined {
    const b = this.host.bucket(bucket);
    if (b.buf.size > 0) {
      const v = b.buf.get(keyString(key));
      if (v !== undefined) return v ?? undefined;
    }
    if (key.length === 0) return undefined;
    // lmdb's reusable buffer carries the value's size in an own `length` property; hand out a plain view.
    const v = b.db.getBinaryFast(asBuffer(key));
    return v === undefined ? undefined : v.subarray(0, v.length);
  }

  range(bucket: BucketName, start?: Uint8Array, end?: Uint8Array, limit = 0): KeyValuePair[] {
    const out: KeyValuePair[] = [];
    this.forEach(
      bucket,
      (k, v) => {
        out.push([k, v]);
        return limit <= 0 || out.length < limit;
      },
      start,
      end,
    );
    return out;
  }

  forEach(
    bucket: BucketName,
    fn: (key: Uint8Array, value: Uint8Array) => unknown,
    start?: Uint8Array,
    end?: Uint8Array,
  ): void {
    const b = this.host.bucket(bucket);
    if (start !== undefined && start.length === 0) start = undefined;
    if (end !== undefined && start !== undefined && Buffer.compare(asBuffer(start), asBuffer(end)) >= 0)
      return;
    // Buffered writes in [start, end), in key order, to merge over LMDB's (older) pairs.
    const pend: [string, Uint8Array | null][] = [];
    if (b.buf.size > 0) {
      const s = start === undefined ? "" : keyString(start);
      const e = end === undefined ? undefined : keyString(end);
      for (const entry of b.buf) {
        if (entry[0] >= s && (e === undefined || entry[0] < e)) pend.push(entry);
      }
      pend.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    }
    let i = 0;
    const opts: { start?: Buffer; end?: Buffer } = {};
    if (start !== undefined) opts.start = asBuffer(start);
    if (end !== undefined) opts.end = asBuffer(end);
    for (const { key, value } of b.db.getRange(opts)) {
      if (i < pend.length) {
        const ks = key.toString("latin1");
        while (i < pend.length && pend[i][0] < ks) {
          const [pk, pv] = pend[i++];
          if (pv !== null && fn(Buffer.from(pk, "latin1"), pv) === false) return;
        }
        if (i < pend.length && pend[i][0] === ks) {
          const pv = pend[i++][1];
          if (pv !== null && fn(key, pv) === false) return;
          continue;
        }
      }
      if (fn(key, value ?? EMPTY) === false) return;
    }
    while (i < pend.length) {
      const [pk, pv] = pend[i++];
      if (pv !== null && fn(Buffer.from(pk, "latin1"), pv) === false) return;
    }
  }
}
