// Shared helpers of the WAL tests.

import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { LogFields, RaftLogger } from "../../src/raft/logger.js";
import { type Entry, EntryType } from "../../src/raft/types.js";
import { decodeRecord, RecordType } from "../../src/wal/record.js";

export function tmpDir(prefix = "wal-test-"): string {
  return fs.mkdtempSync(join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A logger that keeps what it was told. */
export function captureLogger(): RaftLogger & {
  lines: { level: string; msg: string; fields?: LogFields }[];
} {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      lines.push({ level, msg, fields });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Data derived from the index alone, with no zero bytes (so a changed byte is never mistaken for a lost sector). */
export function entryData(index: number, size: number): Uint8Array {
  const r = prng(index * 7919 + size);
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = 1 + Math.floor(r() * 255);
  return d;
}

export function entry(index: number, term = 1, size = 32): Entry {
  return { index, term, type: EntryType.Normal, data: entryData(index, size) };
}

export interface RecordSpan {
  off: number;
  end: number;
  type: RecordType;
  data: Uint8Array;
}

/** The valid records of a segment file, in order (the crc chain is followed from the segment's crc record). */
export function recordLayout(buf: Uint8Array): RecordSpan[] {
  const out: RecordSpan[] = [];
  let off = 0;
  let crc = 0;
  for (;;) {
    const d = decodeRecord(buf, off, crc);
    if (d.kind !== "record") return out;
    out.push({ off, end: d.next, type: d.type, data: d.data });
    crc = d.crc;
    off = d.next;
  }
}

export { RecordType };
