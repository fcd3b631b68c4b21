// A consistent copy of the whole backend as a byte stream, and its restore.
//
// The copy reads every bucket through one LMDB read transaction, so it is the backend as of one commit
// while writers go on committing (LMDB keeps the pages a reader still sees). Format, all integers
// big-endian:
//
//   header   "ETCDTSDB" (8 bytes), format version u32 (1)
//   records  0x01 bucket:  name length u8, name (ASCII)        -- the pairs that follow belong to it
//            0x02 pair:    key length u32, key, value length u32, value
//            0x00 end
//   trailer  SHA-256 of every byte before it (32 bytes)
//
// Buckets come in name order and pairs in key order, so equal backends give byte-identical streams.

import { createHash, type Hash } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Database, Transaction } from "lmdb";
import { type BucketName, isBucketName, lockFilePath, openEnv, syncEnv } from "./buckets.js";

export const SNAPSHOT_MAGIC = "ETCDTSDB";
export const SNAPSHOT_VERSION = 1;
const TAG_END = 0x00;
const TAG_BUCKET = 0x01;
const TAG_PAIR = 0x02;
const HASH_LEN = 32;
const DEFAULT_CHUNK = 64 * 1024;
const RESTORE_TXN_PAIRS = 10_000;

/** The snapshot stream is malformed or its checksum does not match. */
export class SnapshotFormatError extends Error {
  readonly code = "ErrSnapshotFormat";
  constructor(message: string) {
    super(`backend snapshot: ${message}`);
    this.name = "SnapshotFormatError";
  }
}

/** Accumulates bytes into fixed-size chunks and hashes them as they are emitted. */
class ChunkWriter {
  private buf: Buffer;
  private pos = 0;
  readonly out: Buffer[] = [];
  readonly hash: Hash = createHash("sha256");
  bytes = 0;

  constructor(private readonly chunkSize: number) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  u8(n: number): void {
    if (this.pos + 1 > this.buf.length) this.flush();
    this.buf[this.pos++] = n;
  }

  u32(n: number): void {
    if (this.pos + 4 > this.buf.length) this.flush();
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  bytesOf(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) {
      if (this.pos === this.buf.length) this.flush();
      const n = Math.min(b.length - off, this.buf.length - this.pos);
      this.buf.set(b.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
    }
  }

  get full(): boolean {
    return this.out.length > 0;
  }

  flush(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.hash.update(chunk);
    this.out.push(chunk);
    this.bytes += chunk.length;
    this.buf = Buffer.allocUnsafe(this.chunkSize);
    this.pos = 0;
  }
}

/** A bucket as the snapshot reads it. */
export interface SnapshotSource {
  name: BucketName;
  db: Database<Buffer, Buffer>;
}

/**
 * A point-in-time copy of the backend, readable once as a byte stream. It holds an LMDB read
 * transaction until fully read or closed: close it when abandoning it, or the database file cannot
 * reuse the pages it pins.
 */
export class BackendSnapshot implements AsyncIterable<Uint8Array> {
  private txn: Transaction | undefined;
  /** The bucket iterator being read, if any. */
  private cursor: Iterator<{ key: Buffer; value: Buffer }> | undefined;
  private started = false;
  private bytesWritten = 0;

  /** @internal Made by Backend.snapshot(). */
  constructor(
    private readonly sources: readonly SnapshotSource[],
    txn: Transaction,
    private readonly onClose: (s: BackendSnapshot) => void,
    private readonly chunkSize = DEFAULT_CHUNK,
  ) {
    this.txn = txn;
  }

  /** True once read to the end or closed. */
  get closed(): boolean {
    return this.txn === undefined;
  }

  /** Bytes emitted so far. */
  get bytes(): number {
    return this.bytesWritten;
  }

  /** Releases the read transaction; further reads fail. Idempotent. */
  close(): void {
    const txn = this.txn;
    if (txn === undefined) return;
    this.txn = undefined;
    // Release the cursor before its transaction (and never touch it after the database closes).
    this.cursor?.return?.();
    this.cursor = undefined;
    txn.done();
    this.onClose(this);
  }

  /**
   * The stream's chunks. Between chunks it yields to the event loop, so writers keep going while a
   * large backend is copied.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.started) throw new Error("backend snapshot: already read");
    this.started = true;
    try {
      for (const chunk of this.chunks()) {
        this.bytesWritten += chunk.length;
        yield chunk;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.close();
    }
  }

  /** The snapshot as a Node readable stream. */
  toStream(): Readable {
    return Readable.from(this, { objectMode: false });
  }

  /** Writes the whole snapshot to `w`; resolves with the number of bytes written. */
  async writeTo(w: NodeJS.WritableStream): Promise<number> {
    await pipeline(this.toStream(), w);
    return this.bytesWritten;
  }

  private *chunks(): Generator<Buffer> {
    const txn = this.txn;
    if (txn === undefined) throw new Error("backend snapshot: closed");
    const w = new ChunkWriter(this.chunkSize);
    w.bytesOf(Buffer.from(SNAPSHOT_MAGIC, "latin1"));
    w.u32(SNAPSHOT_VERSION);
    for (const { name, db } of this.sources) {
      w.u8(TAG_BUCKET);
      w.u8(name.length);
      w.bytesOf(Buffer.from(name, "latin1"));
      const cursor = db.getRange({ transaction: txn })[Symbol.iterator]();
      this.cursor = cursor;
      for (;;) {
        // Between chunks the snapshot may have been closed (and the database with it): check first.
        if (this.txn === undefined) throw new Error("backend snapshot: closed while reading");
        const r = cursor.next();
        if (r.done) break;
        const { key, value } = r.value;
        w.u8(TAG_PAIR);
        w.u32(key.length);
        w.bytesOf(key);
        w.u32(value.length);
        w.bytesOf(value);
        if (w.full) yield* w.out.splice(0);
      }
      this.cursor = undefined;
    }
    w.u8(TAG_END);
    w.flush();
    yield* w.out.splice(0);
    yield w.hash.digest();
  }
}

/** Pulls exact byte counts out of a chunked source, hashing what it hands out. */
class ByteReader {
  private chunks: Buffer[] = [];
  private avail = 0;
  private readonly it: AsyncIterator<Uint8Array | string>;
  readonly hash = createHash("sha256");
  hashing = true;

  constructor(source: AsyncIterable<Uint8Array | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes, or a format error at end of stream. */
  async take(n: number): Promise<Buffer> {
    while (this.avail < n) {
      const r = await this.it.next();
      if (r.done) throw new SnapshotFormatError(`truncated (wanted ${n} more bytes, have ${this.avail})`);
      const c = typeof r.value === "string" ? Buffer.from(r.value, "latin1") : Buffer.from(r.value);
      if (c.length === 0) continue;
      this.chunks.push(c);
      this.avail += c.length;
    }
    let out: Buffer;
    if (this.chunks[0].length >= n) {
      out = this.chunks[0].subarray(0, n);
      this.chunks[0] = this.chunks[0].subarray(n);
      if (this.chunks[0].length === 0) this.chunks.shift();
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.avail -= n;
    if (this.hashing) this.hash.update(out);
    return out;
  }

  /** True if the source has no bytes left. */
  async atEnd(): Promise<boolean> {
    while (this.avail === 0) {
      const r = await this.it.next();
      if (r.done) return true;
      const c = typeof r.value === "string" ? Buffer.from(r.value, "latin1") : Buffer.from(r.value);
      if (c.length > 0) {
        this.chunks.push(c);
        this.avail += c.length;
      }
    }
    return false;
  }
}

/**
 * Writes the snapshot read from `source` as a new backend file at `path`. The file appears at `path`
 * only after the whole stream was read and its checksum verified; until then it is `<path>.restoring`.
 * Refuses to replace an existing file unless `overwrite`.
 */
export async function restoreSnapshotFile(
  source: AsyncIterable<Uint8Array | string>,
  path: string,
  opts: { overwrite?: boolean; mapSize?: number } = {},
): Promise<{ pairs: number }> {
  if (existsSync(path) && !opts.overwrite) throw new Error(`backend restore: ${path} already exists`);
  const tmp = `${path}.restoring`;
  rmSync(tmp, { force: true });
  rmSync(lockFilePath(tmp), { force: true });
  const env = openEnv(tmp, { mapSize: opts.mapSize });
  let pairs = 0;
  let ok = false;
  try {
    const r = new ByteReader(source);
    const magic = (await r.take(8)).toString("latin1");
    if (magic !== SNAPSHOT_MAGIC) throw new SnapshotFormatError(`bad magic ${JSON.stringify(magic)}`);
    const version = (await r.take(4)).readUInt32BE(0);
    if (version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`unsupported version ${version}`);
    let db: Database<Buffer, Buffer> | undefined;
    let batch: [Buffer, Buffer][] = [];
    const flush = (): void => {
      if (batch.length === 0 || db === undefined) return;
      const target = db;
      const items = batch;
      env.root.transactionSync(() => {
        for (const [k, v] of items) target.putSync(k, v);
      });
      batch = [];
    };
    for (;;) {
      const tag = (await r.take(1))[0];
      if (tag === TAG_END) break;
      if (tag === TAG_BUCKET) {
        flush();
        const len = (await r.take(1))[0];
        const name = (await r.take(len)).toString("latin1");
        if (!isBucketName(name)) throw new SnapshotFormatError(`unknown bucket ${JSON.stringify(name)}`);
        db = env.dbs.get(name);
      } else if (tag === TAG_PAIR) {
        if (db === undefined) throw new SnapshotFormatError("pair before any bucket");
        const k = Buffer.from(await r.take((await r.take(4)).readUInt32BE(0)));
        const v = Buffer.from(await r.take((await r.take(4)).readUInt32BE(0)));
        batch.push([k, v]);
        pairs++;
        if (batch.length >= RESTORE_TXN_PAIRS) flush();
      } else {
        throw new SnapshotFormatError(`bad record tag ${tag}`);
      }
    }
    flush();
    const want = r.hash.digest();
    r.hashing = false;
    const got = await r.take(HASH_LEN);
    if (!got.equals(want)) throw new SnapshotFormatError("checksum mismatch");
    if (!(await r.atEnd())) throw new SnapshotFormatError("trailing bytes after the checksum");
    syncEnv(env.root);
    ok = true;
  } finally {
    await env.root.close();
    if (!ok) {
      rmSync(tmp, { force: true });
    }
    rmSync(lockFilePath(tmp), { force: true });
  }
  if (existsSync(path)) rmSync(path);
  rmSync(lockFilePath(path), { force: true });
  renameSync(tmp, path);
  return { pairs };
}
