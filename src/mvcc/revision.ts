// Revisions and their backend keys. A revision is (main, sub): main counts write transactions, sub the
// changes inside one. In the key bucket a revision is 17 bytes, 8-byte big-endian main, '_', 8-byte
// big-endian sub, with a trailing 't' for a tombstone (etcd's layout), so byte order is revision order.

export interface Revision {
  main: number;
  sub: number;
}

export const REV_BYTES_LEN = 17;
export const MARKED_REV_BYTES_LEN = 18;
const TOMBSTONE_MARK = 0x74; // 't'
const SEPARATOR = 0x5f; // '_'
const TWO_32 = 4294967296;

export function compareRev(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub;
}

/** Writes the revision key into `out` (17 bytes, 18 with the tombstone mark); returns `out`. */
export function writeRevBytes(out: Buffer, main: number, sub: number, tombstone = false): Buffer {
  out.writeUInt32BE(Math.floor(main / TWO_32), 0);
  out.writeUInt32BE(main >>> 0, 4);
  out[8] = SEPARATOR;
  out.writeUInt32BE(Math.floor(sub / TWO_32), 9);
  out.writeUInt32BE(sub >>> 0, 13);
  if (tombstone) out[17] = TOMBSTONE_MARK;
  return out;
}

/** A fresh backend key for (main, sub). */
export function revToBytes(main: number, sub: number, tombstone = false): Buffer {
  return writeRevBytes(
    Buffer.allocUnsafe(tombstone ? MARKED_REV_BYTES_LEN : REV_BYTES_LEN),
    main,
    sub,
    tombstone,
  );
}

function u64(b: Uint8Array, off: number): number {
  const hi = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
  const lo = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
  return hi * TWO_32 + lo;
}

/** Main revision of a backend key. */
export function bytesToMain(b: Uint8Array): number {
  return u64(b, 0);
}

/** Sub revision of a backend key. */
export function bytesToSub(b: Uint8Array): number {
  return u64(b, 9);
}

export function bytesToRev(b: Uint8Array): Revision {
  if (b.length !== REV_BYTES_LEN && b.length !== MARKED_REV_BYTES_LEN) {
    throw new RangeError(`mvcc: revision key of ${b.length} bytes`);
  }
  return { main: u64(b, 0), sub: u64(b, 9) };
}

/** True if the backend key marks a tombstone (a delete). */
export function isTombstoneKey(b: Uint8Array): boolean {
  return b.length === MARKED_REV_BYTES_LEN && b[17] === TOMBSTONE_MARK;
}
