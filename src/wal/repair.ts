// The torn-tail rule: telling a write cut short by a crash (repaired) from damage (refused).
//
// Failure model. Records are appended; a batch is written and then fdatasync'ed, and no caller hears
// "durable" before that. Segments are preallocated with zeros. So after a crash everything up to the
// end of the last completed fdatasync is intact, and only the batch that was in flight can be
// incomplete. Disks write whole sectors atomically (512 bytes, or 4 KiB pages that are whole
// sectors), in any order, so each sector of the in-flight range holds either its new content or its
// old content, which past the durable prefix is zeros. A file may also end early (a copy cut short, or
// a size change not yet durable).
//
// Scanning the last segment stops at the first offset `p` that does not hold a valid record. Let
// `rest` be the bytes from `p` to the end of the file. Then, in order:
//   1. rest is all zeros                                          -> clean end of the log.
//   2. the file ends inside the record (or inside its 8-byte header) -> torn: the file was cut short.
//   3. the header at p is all zeros but rest is not:
//        the bytes from p to the end of p's sector are all zeros   -> torn: that sector was lost while
//                                                                      later ones of the batch landed;
//        otherwise                                                 -> corrupt (a written sector holds
//                                                                      data but not the header before it).
//   4. the header fails its own check (header check, type, padding length) -> corrupt: an 8-aligned
//      header never straddles a sector, so a crash cannot leave a half header.
//   5. the header is sound but the body fails (crc mismatch, non-zero padding):
//        some sector holding bytes of the record's header or data is all zeros from max(p, sector
//        start) to the sector end                                  -> torn (a lost sector of the batch);
//        otherwise                                                 -> corrupt (bytes were changed, not lost).
// Torn: the segment is cut at p (everything from p on is zeroed, with a warning naming file, offset
// and reason) and the log continues from there. Corrupt: CorruptWALError naming file and offset.
// Segments other than the last were completely fdatasync'ed before the next one was created, so any
// invalid record in them is corrupt, whatever it looks like.
//
// This is etcd's rule (a record with an all-zero sector is torn, any other crc failure is corruption)
// made exact for this format. Its one blind spot is shared with etcd: a record whose data contains a
// whole sector of zeros and that is damaged elsewhere looks torn, so the records after it are dropped.

import type { Decoded } from "./record.js";
import { fdatasync, ftruncate } from "./segment.js";

export const SECTOR = 512;

const ZEROS = Buffer.alloc(64 * 1024);

/** Whether buf[start, end) is all zero bytes. */
export function isZero(buf: Uint8Array, start: number, end: number): boolean {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = start; i < end; i += ZEROS.length) {
    const n = Math.min(ZEROS.length, end - i);
    if (b.compare(ZEROS, 0, n, i, i + n) !== 0) return false;
  }
  return true;
}

export type TailVerdict =
  | { kind: "clean" }
  | { kind: "torn"; reason: string }
  | { kind: "corrupt"; reason: string };

/**
 * Classifies the end of the valid records of the last segment: `buf` is the whole file, `p` the
 * offset of the first invalid record and `d` what decodeRecord said about it. See the file comment.
 */
export function classifyTail(buf: Uint8Array, p: number, d: Decoded): TailVerdict {
  const len = buf.length;
  if (isZero(buf, p, len)) return { kind: "clean" };
  switch (d.kind) {
    case "record":
      throw new Error("classifyTail called on a valid record");
    case "short":
      return { kind: "torn", reason: `file ends inside the record: ${d.reason}` };
    case "zero": {
      const sectorEnd = Math.min(len, (Math.floor(p / SECTOR) + 1) * SECTOR);
      if (isZero(buf, p, sectorEnd))
        return { kind: "torn", reason: "lost sector: no record header, data after it" };
      return { kind: "corrupt", reason: "zero record header followed by data in the same sector" };
    }
    case "badHeader":
      return { kind: "corrupt", reason: d.reason };
    case "badBody": {
      for (let s = Math.floor(p / SECTOR) * SECTOR; s < d.dataEnd; s += SECTOR) {
        if (isZero(buf, Math.max(p, s), Math.min(len, s + SECTOR))) {
          return {
            kind: "torn",
            reason: `${d.reason} with an unwritten (all-zero) sector at ${Math.max(p, s)}`,
          };
        }
      }
      return { kind: "corrupt", reason: d.reason };
    }
  }
}

/**
 * Cuts the segment open on `fd` at `offset` (the first byte of the torn record): everything after it
 * becomes zeros again, the file is preallocated back to `size` bytes, and the result is fdatasync'ed
 * before any new record is written there.
 */
export async function truncateTail(fd: number, offset: number, size: number): Promise<void> {
  await ftruncate(fd, offset);
  await ftruncate(fd, Math.max(offset, size));
  await fdatasync(fd);
}
