// Reading a snapshot file: what `etcdctl snapshot save` stored from a member's Maintenance.Snapshot
// stream, or a backend file copied out of a data dir.
//
// A saved snapshot of an etcd-ts member is, as etcd's is, `payload || SHA-256(payload)` with the payload
// a multiple of 512 bytes (that is how etcd's tools tell a trailing checksum is there: size % 512 == 32).
// The payload is the backend's snapshot stream (src/backend/snapshot.ts: "ETCDTSDB", version, bucket and
// pair records, an end record and the stream's own SHA-256), then zero padding up to the 512 multiple.
//
// Other files we recognise by their first page: an LMDB file (an etcd-ts `member/snap/db`, usable with
// --skip-hash-check like etcd's bbolt copies), and etcd's own bbolt files (its snapshots and db files),
// read through src/backend/bbolt.ts so etcd's data can be restored into etcd-ts.

import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import {
  BoltFile,
  BoltFormatError,
  isBucketName,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
} from "../../backend/index.js";
import { EtcdutlError, goFsError } from "./errors.js";

const SHA_LEN = 32;
/** etcd's checksum test: "512 is chosen because it's a minimum disk sector size". */
const SECTOR = 512;
const TAG_END = 0x00;
const TAG_BUCKET = 0x01;
const TAG_PAIR = 0x02;

/** LMDB's meta page magic (0xBEEFC0DE), little-endian after the page header (16 or 24 bytes). */
const LMDB_MAGIC = 0xbeefc0de;
/** bbolt's meta page magic (0xED0CDAED), little-endian after its 16-byte page header. */
const BOLT_MAGIC = 0xed0cdaed;

export type SnapshotKind = "etcd-ts" | "lmdb" | "bbolt" | "unknown";

export interface SnapshotFileInfo {
  path: string;
  size: number;
  kind: SnapshotKind;
  /** The file ends with a SHA-256 of the rest (etcd's test: size % 512 == 32). */
  hasHash: boolean;
  /** Bytes before the checksum (the whole file if there is none). */
  dataLength: number;
}

/**
 * Stats and classifies `path`. A missing file gives Go's `<op> <path>: no such file or directory` (etcd's
 * status stats the file first, its restore opens it).
 */
export function inspectSnapshotFile(path: string, op: "stat" | "open" = "stat"): SnapshotFileInfo {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    size = st.size;
  } catch (e) {
    throw goFsError(op, path, e);
  }
  const head = Buffer.alloc(64);
  let n = 0;
  try {
    const fd = openSync(path, "r");
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw goFsError("open", path, e);
  }
  const hasHash = size % SECTOR === SHA_LEN;
  return {
    path,
    size,
    kind: classify(head.subarray(0, n)),
    hasHash,
    dataLength: hasHash ? size - SHA_LEN : size,
  };
}

function classify(head: Buffer): SnapshotKind {
  if (head.length >= 8 && head.toString("latin1", 0, 8) === SNAPSHOT_MAGIC) return "etcd-ts";
  const u32 = (off: number) => (head.length >= off + 4 ? head.readUInt32LE(off) : -1);
  if (u32(16) === BOLT_MAGIC) return "bbolt";
  if (u32(16) === LMDB_MAGIC || u32(24) === LMDB_MAGIC) return "lmdb";
  return "unknown";
}

/** The error for files this tool cannot read, naming what they are. */
export function unreadableError(info: SnapshotFileInfo): EtcdutlError {
  return new EtcdutlError(`${info.path} is not an etcd or etcd-ts snapshot or backend file (unknown format)`);
}

/**
 * The pairs of an etcd bbolt file, bucket by bucket in stored order (names and keys ascending), with the
 * names of all its top-level buckets (empty ones too) and the size bbolt reports.
 */
export function withBoltFile<T>(
  info: SnapshotFileInfo,
  fn: (db: { buckets: string[]; size: number; pairs: (bucket: string) => Iterable<[Buffer, Buffer]> }) => T,
): T {
  let db: BoltFile;
  try {
    db = BoltFile.open(info.path, info.dataLength);
  } catch (e) {
    if (e instanceof BoltFormatError) throw new EtcdutlError(`${info.path}: ${e.message}`);
    throw e;
  }
  try {
    return fn({ buckets: db.bucketNames(), size: db.size, pairs: (b) => db.pairs(b) });
  } catch (e) {
    if (e instanceof BoltFormatError) throw new EtcdutlError(`${info.path}: ${e.message}`);
    throw e;
  } finally {
    db.close();
  }
}

/** Go's %v of a byte slice: `[1 2 3]`. */
function goBytes(b: Uint8Array): string {
  return `[${Array.from(b).join(" ")}]`;
}

/** Checks the trailing SHA-256 against the data before it; etcd's message on a mismatch. */
export async function verifyFileHash(info: SnapshotFileInfo): Promise<void> {
  if (!info.hasHash) throw new Error("verifyFileHash: the file has no checksum");
  const h = createHash("sha256");
  if (info.dataLength > 0) {
    for await (const chunk of createReadStream(info.path, { start: 0, end: info.dataLength - 1 })) {
      h.update(chunk as Buffer);
    }
  }
  const want = Buffer.alloc(SHA_LEN);
  const fd = openSync(info.path, "r");
  try {
    readSync(fd, want, 0, SHA_LEN, info.dataLength);
  } finally {
    closeSync(fd);
  }
  const got = h.digest();
  if (!got.equals(want)) throw new EtcdutlError(`expected sha256 ${goBytes(want)}, got ${goBytes(got)}`);
}

/** One bucket entry of a snapshot stream. */
export interface SnapshotPair {
  bucket: string;
  key: Buffer;
  value: Buffer;
}

/** Exact-size reads out of a chunked source, hashing what it hands out. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  readonly hash = createHash("sha256");
  /** Bytes handed out so far. */
  offset = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  async take(n: number, hashed = true): Promise<Buffer> {
    while (this.buf.length < n) {
      const r = await this.it.next();
      if (r.done) throw new FormatError(`truncated at byte ${this.offset + this.buf.length}`);
      this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    if (hashed) this.hash.update(out);
    return out;
  }

  /** Everything left must be zero bytes (the padding up to the 512-byte multiple). */
  async expectZeros(): Promise<void> {
    for (;;) {
      for (let i = 0; i < this.buf.length; i++) {
        if (this.buf[i] !== 0)
          throw new FormatError(`unexpected data after the end at byte ${this.offset + i}`);
      }
      this.offset += this.buf.length;
      this.buf = Buffer.alloc(0);
      const r = await this.it.next();
      if (r.done) return;
      this.buf = r.value;
    }
  }
}

class FormatError extends EtcdutlError {
  constructor(why: string) {
    super(`snapshot file is damaged or not an etcd-ts snapshot: ${why}`);
  }
}

/**
 * The pairs of an etcd-ts snapshot file, bucket by bucket in stored order (names and keys ascending),
 * read from its first `info.dataLength` bytes. Pairs are handed out as they are read and the stream's
 * own checksum is verified at its end: what was read counts only once the iteration completes.
 */
export async function* readSnapshotPairs(info: SnapshotFileInfo): AsyncGenerator<SnapshotPair> {
  if (info.kind !== "etcd-ts") throw unreadableError(info);
  if (info.dataLength === 0) throw new FormatError("empty file");
  const source = createReadStream(info.path, { start: 0, end: info.dataLength - 1, highWaterMark: 1 << 20 });
  try {
    const r = new Reader(source as AsyncIterable<Buffer>);
    await r.take(8);
    const version = (await r.take(4)).readUInt32BE(0);
    if (version !== SNAPSHOT_VERSION) throw new FormatError(`unsupported format version ${version}`);
    let bucket: string | undefined;
    for (;;) {
      const tag = (await r.take(1))[0];
      if (tag === TAG_END) break;
      if (tag === TAG_BUCKET) {
        const len = (await r.take(1))[0]!;
        const name = (await r.take(len)).toString("latin1");
        if (!isBucketName(name)) throw new FormatError(`unknown bucket ${JSON.stringify(name)}`);
        bucket = name;
      } else if (tag === TAG_PAIR) {
        if (bucket === undefined) throw new FormatError("a pair before any bucket");
        const key = Buffer.from(await r.take((await r.take(4)).readUInt32BE(0)));
        const value = Buffer.from(await r.take((await r.take(4)).readUInt32BE(0)));
        yield { bucket, key, value };
      } else {
        throw new FormatError(`bad record tag ${tag} at byte ${r.offset - 1}`);
      }
    }
    const want = r.hash.digest();
    const got = await r.take(SHA_LEN, false);
    if (!got.equals(want)) throw new FormatError("the backend stream's checksum does not match");
    await r.expectZeros();
  } finally {
    source.destroy();
  }
}
