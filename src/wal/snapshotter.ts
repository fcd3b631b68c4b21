// Raft snapshot files: `<dir>/<term>-<index>.snap` (16 hex digits each, as etcd), one per snapshot the
// server took, holding the raft Snapshot (metadata: index, term, conf state; data: whatever the server
// puts there) with a checksum. The backend database (`snap/db`) is not ours.
//
// File format:
//   0  4  magic "SNP1" (format version 1)
//   4  4  u32 LE CRC-32C of the payload
//   8  -  payload: encodeSnapshot(snapshot) (src/raft/codec.ts)
// A file is valid when the magic and the crc match, the payload decodes, and its term and index are the
// ones in the file name. save() writes `<name>.tmp`, fsyncs it, renames it into place and fsyncs the
// directory, so a crash never leaves a partial `.snap`. load() tries the newest name first and renames a
// broken file to `<name>.broken` (with a warning) before trying the next: a broken snapshot is kept for
// inspection but never chosen again.

import fs from "node:fs";
import { join } from "node:path";
import { crc32c } from "../pkg/crc32c.js";
import { decodeSnapshot, encodeSnapshot } from "../raft/codec.js";
import type { RaftLogger } from "../raft/logger.js";
import { isEmptySnapshot, type Snapshot } from "../raft/types.js";
import { SnapshotFileError } from "./errors.js";
import { stderrLogger } from "./logger.js";
import { fsyncDir } from "./segment.js";
import type { WALPosition } from "./wal.js";

const MAGIC = new Uint8Array([0x53, 0x4e, 0x50, 0x31]); // "SNP1"
const HEADER = 8;
export const SNAP_EXT = ".snap";
export const BROKEN_EXT = ".broken";
export const DEFAULT_MAX_SNAPSHOTS = 5;

function hex16(n: number): string {
  return n.toString(16).padStart(16, "0");
}

export function snapName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}${SNAP_EXT}`;
}

const NAME_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function parseSnapName(name: string): { term: number; index: number } | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  return { term: Number.parseInt(m[1], 16), index: Number.parseInt(m[2], 16) };
}

/** The bytes of a snapshot file. */
export function encodeSnapshotFile(s: Snapshot): Uint8Array {
  const payload = encodeSnapshot(s);
  const out = new Uint8Array(HEADER + payload.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, crc32c(payload), true);
  out.set(payload, HEADER);
  return out;
}

/** Decodes and verifies the bytes of snapshot file `file` (named for error messages). */
export function decodeSnapshotFile(file: string, buf: Uint8Array): Snapshot {
  if (buf.length < HEADER) throw new SnapshotFileError(file, `${buf.length} bytes is too short`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new SnapshotFileError(file, "not a snapshot file (bad magic)");
  }
  const want = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(4, true);
  const payload = buf.subarray(HEADER);
  if (crc32c(payload) !== want) throw new SnapshotFileError(file, "crc mismatch");
  try {
    return decodeSnapshot(payload.slice());
  } catch (err) {
    throw new SnapshotFileError(file, `undecodable: ${(err as Error).message}`);
  }
}

export class Snapshotter {
  private readonly logger: RaftLogger;

  constructor(
    readonly dir: string,
    opts: { logger?: RaftLogger } = {},
  ) {
    this.logger = opts.logger ?? stderrLogger;
  }

  /** Writes `s` durably as `<term>-<index>.snap`. An empty snapshot (index 0) is not saved. */
  save(s: Snapshot): void {
    if (isEmptySnapshot(s)) return;
    fs.mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, snapName(s.metadata.term, s.metadata.index));
    const tmp = `${path}.tmp`;
    const bytes = encodeSnapshotFile(s);
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    fsyncDir(this.dir);
  }

  /** Snapshot file names, newest (highest term, then index) first. Removes `.snap.tmp` left by a crash. */
  snapNames(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    for (const n of names) {
      if (n.endsWith(`${SNAP_EXT}.tmp`)) fs.rmSync(join(this.dir, n), { force: true });
    }
    // Fixed-width hex sorts like the numbers it spells.
    return names.filter((n) => NAME_RE.test(n)).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  /** Reads and verifies one snapshot file of this directory; throws SnapshotFileError. */
  read(name: string): Snapshot {
    const file = join(this.dir, name);
    let buf: Uint8Array;
    try {
      const b = fs.readFileSync(file);
      buf = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (err) {
      throw new SnapshotFileError(file, (err as Error).message);
    }
    const s = decodeSnapshotFile(file, buf);
    const want = parseSnapName(name);
    if (!want || want.term !== s.metadata.term || want.index !== s.metadata.index) {
      throw new SnapshotFileError(
        file,
        `holds the snapshot of term ${s.metadata.term} index ${s.metadata.index}, not the one its name says`,
      );
    }
    return s;
  }

  /** The newest valid snapshot, or undefined if there is none. Broken files are renamed `.broken`. */
  load(): Snapshot | undefined {
    return this.loadMatching(() => true);
  }

  /**
   * The newest valid snapshot that is also one of `walSnaps` (WAL.validSnapshotEntries): the newest
   * snapshot the WAL can be opened at.
   */
  loadNewestAvailable(walSnaps: readonly WALPosition[]): Snapshot | undefined {
    return this.loadMatching((term, index) => walSnaps.some((w) => w.term === term && w.index === index));
  }

  /** Deletes the oldest snapshot files so that at most `maxSnapshots` remain (0: keep all). */
  purge(maxSnapshots: number = DEFAULT_MAX_SNAPSHOTS): string[] {
    if (maxSnapshots <= 0) return [];
    const old = this.snapNames().slice(maxSnapshots);
    for (const n of old) {
      fs.rmSync(join(this.dir, n), { force: true });
      this.logger.info("snap: purged snapshot file", { file: n });
    }
    return old;
  }

  private loadMatching(accept: (term: number, index: number) => boolean): Snapshot | undefined {
    for (const name of this.snapNames()) {
      const p = parseSnapName(name)!;
      if (!accept(p.term, p.index)) continue;
      try {
        return this.read(name);
      } catch (err) {
        if (!(err instanceof SnapshotFileError)) throw err;
        const file = join(this.dir, name);
        this.logger.warn("snap: skipping a broken snapshot file", { file, reason: err.reason });
        fs.renameSync(file, file + BROKEN_EXT);
      }
    }
    return undefined;
  }
}
