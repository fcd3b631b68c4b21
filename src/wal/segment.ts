// Segment files: naming, listing, creation with preallocation, and the small fd helpers the WAL uses.
//
// A segment is `<seq>-<index>.wal` (16 lower-case hex digits each, as etcd): `seq` counts segments from
// 0 with no gaps, `index` is the raft index the segment's first entry was expected to have when it was
// cut (the last entry index written before it, plus one). A new segment is prepared as
// `<name>.tmp` (preallocated with ftruncate, header records written and fdatasync'ed), then renamed into
// place and the directory fsync'ed, so a segment that is visible always has a complete, durable header.

import fs from "node:fs";
import { join } from "node:path";
import { fsyncDir } from "../pkg/fs.js";
import { WALError } from "./errors.js";

export const SEGMENT_EXT = ".wal";
export const TMP_EXT = ".tmp";

export interface SegmentName {
  seq: number;
  index: number;
  name: string;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, "0");
}

export function segmentName(seq: number, index: number): string {
  return `${hex16(seq)}-${hex16(index)}${SEGMENT_EXT}`;
}

const NAME_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** The parts of a segment file name, or undefined for any other file name. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const seq = Number.parseInt(m[1], 16);
  const index = Number.parseInt(m[2], 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(index)) return undefined;
  return { seq, index, name };
}

/** Segments in `dir`, ordered by sequence number; other files are ignored. */
export function listSegments(dir: string): SegmentName[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const segs: SegmentName[] = [];
  for (const n of names) {
    const s = parseSegmentName(n);
    if (s) segs.push(s);
  }
  return segs.sort((a, b) => a.seq - b.seq);
}

/**
 * Throws unless the sequence numbers are consecutive. (Name indexes may decrease: a follower whose
 * uncommitted tail is overwritten by a new leader cuts its next segment at a lower index.)
 */
export function checkSequence(dir: string, segs: readonly SegmentName[]): void {
  for (let i = 1; i < segs.length; i++) {
    if (segs[i].seq !== segs[i - 1].seq + 1) {
      throw new WALError(
        `wal: segment missing in ${dir}: ${segs[i - 1].name} is followed by ${segs[i].name}`,
      );
    }
  }
}

/** Position of the last segment whose name index is <= `index`, or -1. */
export function searchIndex(segs: readonly SegmentName[], index: number): number {
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i].index <= index) return i;
  return -1;
}

/** Removes `*.wal.tmp` files left by a crash while a segment was being prepared. */
export function removeTmpSegments(dir: string): string[] {
  const removed: string[] = [];
  for (const n of fs.readdirSync(dir)) {
    if (n.endsWith(SEGMENT_EXT + TMP_EXT)) {
      fs.rmSync(join(dir, n), { force: true });
      removed.push(n);
    }
  }
  return removed;
}

export { fsyncDir };

// Promise forms of the fd operations, on the callback API (lighter than FileHandle).

export function pwriteAll(fd: number, buf: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      fs.write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) reject(err);
        else if (done + n < buf.length) step(done + n);
        else resolve();
      });
    };
    step(0);
  });
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function ftruncate(fd: number, len: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, len, (err) => (err ? reject(err) : resolve())));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(path, flags, 0o600, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

/**
 * Creates segment `name` in `dir` holding `header` (complete, sealed records) followed by zeros up to
 * `size` bytes, durably: written as a .tmp file, fdatasync'ed, renamed, directory fsync'ed. Returns an
 * fd open for writing on the new segment.
 */
export async function createSegment(
  dir: string,
  name: string,
  header: Uint8Array,
  size: number,
): Promise<number> {
  const path = join(dir, name);
  const tmp = path + TMP_EXT;
  const fd = await openFd(tmp, "w+");
  try {
    await ftruncate(fd, Math.max(size, header.length));
    await pwriteAll(fd, header, 0);
    await fdatasync(fd);
    fs.renameSync(tmp, path);
    fsyncDir(dir);
    return fd;
  } catch (err) {
    await closeFd(fd).catch(() => {});
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export { openFd };
