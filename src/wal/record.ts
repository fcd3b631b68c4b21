// Record framing of WAL segments.
//
// Every record starts at an offset that is a multiple of 8 and occupies a multiple of 8 bytes:
//
//   offset  size  field
//   0       4     dataLen     u32 LE, length of `data`
//   4       1     type        RecordType (1..5); 0 never occurs, so an all-zero header means "no record"
//   5       1     padLen      0..7 zero bytes after `data`, so the next record is 8-aligned again
//   6       2     headerCheck u16 LE, low 16 bits of CRC-32C(bytes 0..5)
//   8       4     crc         u32 LE, chained CRC-32C (below)
//   12      n     data
//   12+n    pad   zero bytes
//
// The first 8 bytes (the header word) are 8-aligned, so they never straddle a disk sector: after a
// crash a header is either entirely written or entirely zero, never a torn length. The header check
// lets a damaged length or type be recognized before it is trusted (every single-byte error in the
// header is detected; see the record tests).
//
// `crc` chains: crc = CRC-32C continued from the previous record's crc over header word ++ data (the
// crc field itself and the padding are not covered; padding must be zero). A Crc record is the
// exception: its crc is seeded with 0 (so it can be checked on its own) and its data, a u32 LE, is the
// running crc the records after it continue from. Each segment starts with one, carrying the running
// crc at the end of the previous segment, so the chain survives rotation and release of old segments.

import { update } from "../pkg/crc32c.js";

export enum RecordType {
  /** Opaque caller metadata (member ID, cluster ID); identical in every segment. */
  Metadata = 1,
  /** One raft entry, encoded with encodeEntry. */
  Entry = 2,
  /** A raft HardState, encoded with encodeHardState. */
  State = 3,
  /** u32 LE running crc of everything before this record: starts every segment. */
  Crc = 4,
  /** Snapshot marker: SnapshotMetadata (index, term, conf state) encoded with encodeSnapshotMetadata. */
  Snapshot = 5,
}

const MAX_TYPE = RecordType.Snapshot;
export const HEADER_SIZE = 12;
/** Largest data length of one record (the u32 dataLen field). */
export const MAX_DATA_LEN = 0xffff_ffff - 16;

/** Bytes a record with `dataLen` bytes of data occupies, padding included (a multiple of 8). */
export function framedSize(dataLen: number): number {
  return Math.ceil((HEADER_SIZE + dataLen) / 8) * 8;
}

function headerCheck(buf: Uint8Array, off: number): number {
  return update(0, buf, off, off + 6) & 0xffff;
}

/**
 * Writes a record's header and data at `buf[off]` with a zero crc field (see sealRecord) and zero
 * padding. `buf` must have framedSize(data.length) bytes free at `off`; returns the offset after it.
 */
export function writeRecord(buf: Uint8Array, off: number, type: RecordType, data: Uint8Array): number {
  const n = data.length;
  if (n > MAX_DATA_LEN) throw new RangeError(`wal: record of ${n} bytes is too large`);
  const size = framedSize(n);
  const pad = size - HEADER_SIZE - n;
  buf[off] = n & 0xff;
  buf[off + 1] = (n >>> 8) & 0xff;
  buf[off + 2] = (n >>> 16) & 0xff;
  buf[off + 3] = (n >>> 24) & 0xff;
  buf[off + 4] = type;
  buf[off + 5] = pad;
  const hc = headerCheck(buf, off);
  buf[off + 6] = hc & 0xff;
  buf[off + 7] = hc >>> 8;
  buf.fill(0, off + 8, off + HEADER_SIZE);
  buf.set(data, off + HEADER_SIZE);
  buf.fill(0, off + HEADER_SIZE + n, off + size);
  return off + size;
}

function readU32(buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
}

function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = v >>> 24;
}

function computeCrc(buf: Uint8Array, off: number, type: number, dataLen: number, prevCrc: number): number {
  const seed = type === RecordType.Crc ? 0 : prevCrc;
  const c = update(seed, buf, off, off + 8);
  return update(c, buf, off + HEADER_SIZE, off + HEADER_SIZE + dataLen);
}

/**
 * Fills in the crc field of the record written at `buf[off]` by writeRecord, chained from `prevCrc`.
 * Returns the running crc after the record.
 */
export function sealRecord(buf: Uint8Array, off: number, prevCrc: number): number {
  const n = readU32(buf, off);
  const type = buf[off + 4];
  const crc = computeCrc(buf, off, type, n, prevCrc);
  writeU32(buf, off + 8, crc);
  return type === RecordType.Crc ? readU32(buf, off + HEADER_SIZE) : crc;
}

/** A complete framed record (writeRecord + sealRecord). */
export function encodeRecord(
  type: RecordType,
  data: Uint8Array,
  prevCrc: number,
): { bytes: Uint8Array; crc: number } {
  const bytes = new Uint8Array(framedSize(data.length));
  writeRecord(bytes, 0, type, data);
  const crc = sealRecord(bytes, 0, prevCrc);
  return { bytes, crc };
}

/** Data of a Crc record: the running crc it carries. */
export function crcRecordData(runningCrc: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, runningCrc);
  return b;
}

export type Decoded =
  /** A valid record. `data` is a view into the input; `crc` is the running crc after it. */
  | { kind: "record"; type: RecordType; data: Uint8Array; crc: number; next: number }
  /** The header word is all zero: no record was ever written here. */
  | { kind: "zero" }
  /** The record (or its header) runs past the end of the input. */
  | { kind: "short"; reason: string }
  /** The header is damaged (header check, type or padding field): never the result of a torn write. */
  | { kind: "badHeader"; reason: string }
  /** The header is sound but the body fails (crc mismatch or non-zero padding); `dataEnd` ends the data. */
  | { kind: "badBody"; reason: string; dataEnd: number };

/** Decodes the record at `buf[off]` (off a multiple of 8), checking its crc against `prevCrc`. */
export function decodeRecord(buf: Uint8Array, off: number, prevCrc: number): Decoded {
  const len = buf.length;
  if (off + 8 > len) {
    for (let i = off; i < len; i++) if (buf[i] !== 0) return { kind: "short", reason: "header cut short" };
    return off === len ? { kind: "zero" } : { kind: "short", reason: "header cut short" };
  }
  let any = 0;
  for (let i = off; i < off + 8; i++) any |= buf[i];
  if (any === 0) return { kind: "zero" };
  const hc = buf[off + 6] | (buf[off + 7] << 8);
  if (hc !== headerCheck(buf, off)) return { kind: "badHeader", reason: "header check mismatch" };
  const n = readU32(buf, off);
  const type = buf[off + 4];
  const pad = buf[off + 5];
  if (type < 1 || type > MAX_TYPE) return { kind: "badHeader", reason: `unknown record type ${type}` };
  const size = framedSize(n);
  if (pad !== size - HEADER_SIZE - n) return { kind: "badHeader", reason: `bad padding length ${pad}` };
  if (type === RecordType.Crc && n !== 4) return { kind: "badHeader", reason: `crc record of ${n} bytes` };
  if (off + size > len) return { kind: "short", reason: "record cut short" };
  const end = off + size;
  const dataEnd = off + HEADER_SIZE + n;
  for (let i = dataEnd; i < end; i++) {
    if (buf[i] !== 0) return { kind: "badBody", reason: "non-zero padding", dataEnd };
  }
  const crc = computeCrc(buf, off, type, n, prevCrc);
  if (crc !== readU32(buf, off + 8)) return { kind: "badBody", reason: "crc mismatch", dataEnd };
  const data = buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + n);
  return { kind: "record", type, data, crc: type === RecordType.Crc ? readU32(data, 0) : crc, next: end };
}

/**
 * Seals every record of `buf` (records written back to back by writeRecord), chaining from `prevCrc`.
 * Returns the running crc after the last one.
 */
export function sealRecords(buf: Uint8Array, prevCrc: number): number {
  let crc = prevCrc;
  let off = 0;
  while (off < buf.length) {
    const size = framedSize(readU32(buf, off));
    if (off + size > buf.length) throw new RangeError(`wal: malformed record buffer at ${off}`);
    crc = sealRecord(buf, off, crc);
    off += size;
  }
  return crc;
}

/** Frames (unsealed) records of the given types and data back to back in one buffer. */
export function writeRecords(types: readonly RecordType[], datas: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const d of datas) total += framedSize(d.length);
  // Every byte is written by writeRecord (header, zeroed crc, data, zero padding).
  const b = Buffer.allocUnsafe(total);
  const buf = new Uint8Array(b.buffer, b.byteOffset, total);
  let off = 0;
  for (let i = 0; i < datas.length; i++) off = writeRecord(buf, off, types[i], datas[i]);
  return buf;
}
