// A read-only reader of bbolt files: etcd's own backend and the snapshots `etcdctl snapshot save` takes
// from etcd, so that etcd's data can be restored into etcd-ts (migration) and its snapshots inspected.
//
// Layout (bbolt's, little-endian): fixed-size pages; a page starts with a 16-byte header (id u64,
// flags u16, count u16, overflow u32) and spans overflow+1 pages. Pages 0 and 1 are meta pages (magic,
// version, page size, flags, root bucket {root pgid u64, sequence u64}, freelist pgid, high-water pgid,
// txid, FNV-1a-64 checksum of the fields before it); the valid one with the higher txid is current.
// Branch pages hold 16-byte elements (pos u32, ksize u32, child pgid u64), leaf pages 16-byte elements
// (flags u32, pos u32, ksize u32, vsize u32), each key `pos` bytes after its own element, a leaf value
// right after its key. A leaf element flagged 0x01 is a bucket: its value is the bucket header, and a
// header with root 0 is an inline bucket whose page follows it in the value.

import { closeSync, openSync, readSync } from "node:fs";

const MAGIC = 0xed0cdaed;
const VERSION = 2;
const PAGE_HEADER = 16;
const ELEMENT = 16;
const BRANCH = 0x01;
const LEAF = 0x02;
const META = 0x04;
const BUCKET_LEAF = 0x01;
const BUCKET_HEADER = 16;
const META_CHECKSUMMED = 56;

export class BoltFormatError extends Error {
  constructor(why: string) {
    super(`bbolt file: ${why}`);
    this.name = "BoltFormatError";
  }
}

interface Meta {
  pageSize: number;
  root: bigint;
  pgid: bigint;
  txid: bigint;
}

function fnv1a64(b: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const x of b) {
    h ^= BigInt(x);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

function readMeta(page: Buffer): Meta | undefined {
  if (page.length < PAGE_HEADER + META_CHECKSUMMED + 8) return undefined;
  if ((page.readUInt16LE(8) & META) === 0) return undefined;
  const m = page.subarray(PAGE_HEADER);
  if (m.readUInt32LE(0) !== MAGIC || m.readUInt32LE(4) !== VERSION) return undefined;
  if (fnv1a64(m.subarray(0, META_CHECKSUMMED)) !== m.readBigUInt64LE(META_CHECKSUMMED)) return undefined;
  return {
    pageSize: m.readUInt32LE(8),
    root: m.readBigUInt64LE(16),
    pgid: m.readBigUInt64LE(40),
    txid: m.readBigUInt64LE(48),
  };
}

export class BoltFile {
  private constructor(
    private readonly fd: number,
    /** Bytes of the file that belong to the database (a saved snapshot has a checksum after them). */
    private readonly length: number,
    private readonly meta: Meta,
  ) {}

  /** Opens `path` (its first `length` bytes) and picks the current meta page. */
  static open(path: string, length: number): BoltFile {
    const fd = openSync(path, "r");
    try {
      const first = Buffer.alloc(Math.min(length, 4096));
      readSync(fd, first, 0, first.length, 0);
      const m0 = readMeta(first);
      const pageSize = m0?.pageSize ?? first.readUInt32LE(PAGE_HEADER + 8);
      if (!(pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0)) {
        throw new BoltFormatError(`bad page size ${pageSize}`);
      }
      const second = Buffer.alloc(pageSize);
      readSync(fd, second, 0, pageSize, pageSize);
      const m1 = readMeta(second);
      const meta = [m0, m1].filter((m) => m !== undefined).sort((a, b) => (a.txid > b.txid ? -1 : 1))[0];
      if (meta === undefined) throw new BoltFormatError("no valid meta page");
      return new BoltFile(fd, length, meta);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The database's size as bbolt reports it (Tx.Size: high-water page id times page size). */
  get size(): number {
    return Number(this.meta.pgid) * this.meta.pageSize;
  }

  /** The top-level buckets, in byte order of their names. */
  bucketNames(): string[] {
    const out: string[] = [];
    for (const e of this.walk(this.page(this.meta.root))) {
      if (e.flags & BUCKET_LEAF) out.push(e.key.toString("latin1"));
    }
    return out;
  }

  /** The pairs of a top-level bucket in key order (nested buckets are skipped). */
  *pairs(bucket: string): Generator<[key: Buffer, value: Buffer]> {
    for (const e of this.walk(this.page(this.meta.root))) {
      if (!(e.flags & BUCKET_LEAF) || e.key.toString("latin1") !== bucket) continue;
      for (const p of this.walk(this.bucketRoot(e.value))) {
        if (!(p.flags & BUCKET_LEAF)) yield [p.key, p.value];
      }
      return;
    }
  }

  private bucketRoot(header: Buffer): Buffer {
    if (header.length < BUCKET_HEADER) throw new BoltFormatError("short bucket header");
    const root = header.readBigUInt64LE(0);
    return root === 0n ? header.subarray(BUCKET_HEADER) : this.page(root);
  }

  private page(id: bigint): Buffer {
    const ps = this.meta.pageSize;
    const at = Number(id) * ps;
    if (id < 2n || at + PAGE_HEADER > this.length) throw new BoltFormatError(`page ${id} is out of the file`);
    const head = Buffer.alloc(PAGE_HEADER);
    readSync(this.fd, head, 0, PAGE_HEADER, at);
    if (head.readBigUInt64LE(0) !== id)
      throw new BoltFormatError(`page ${id} has id ${head.readBigUInt64LE(0)}`);
    const len = (head.readUInt32LE(12) + 1) * ps;
    if (at + len > this.length) throw new BoltFormatError(`page ${id} runs past the end of the file`);
    const buf = Buffer.alloc(len);
    readSync(this.fd, buf, 0, len, at);
    return buf;
  }

  /** Leaf elements under the page `p` (a page buffer or an inline bucket's page), in key order. */
  private *walk(p: Buffer): Generator<{ flags: number; key: Buffer; value: Buffer }> {
    const flags = p.readUInt16LE(8);
    const count = p.readUInt16LE(10);
    for (let i = 0; i < count; i++) {
      const el = PAGE_HEADER + i * ELEMENT;
      if (flags & BRANCH) {
        yield* this.walk(this.page(p.readBigUInt64LE(el + 8)));
      } else if (flags & LEAF) {
        const pos = p.readUInt32LE(el + 4);
        const ksize = p.readUInt32LE(el + 8);
        const vsize = p.readUInt32LE(el + 12);
        const k = el + pos;
        if (k + ksize + vsize > p.length) throw new BoltFormatError("leaf element out of its page");
        yield {
          flags: p.readUInt32LE(el),
          key: Buffer.from(p.subarray(k, k + ksize)),
          value: Buffer.from(p.subarray(k + ksize, k + ksize + vsize)),
        };
      } else {
        throw new BoltFormatError(`page of unexpected type ${flags}`);
      }
    }
  }
}
