// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum of iSCSI, ext4, etcd's WAL and
// snapshots. Table-driven with slicing-by-8: eight 256-entry tables let the inner loop consume eight
// bytes per step with independent lookups.
//
// `update(crc, bytes)` continues a checksum the way Go's crc32.Update does: `crc` is a finished
// checksum (0 to start), and update(update(0, a), b) === checksum(a ++ b). That is what chaining
// across records and segments needs.

const POLY = 0x82f63b78;

/** Eight tables of 256 entries, back to back: table k maps a byte to its CRC after k more zero bytes. */
const TABLES: Uint32Array = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n];
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
})();

/**
 * Continues `crc` (a finished CRC-32C, 0 for none) over `bytes[start, end)` (`end` is clamped to the
 * length). Returns the finished checksum as an unsigned 32-bit number.
 */
export function update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (end > bytes.length) end = bytes.length;
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  const end8 = end - 8;
  while (i <= end8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    const hi = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + (hi & 0xff)] ^
      t[512 + ((hi >>> 8) & 0xff)] ^
      t[256 + ((hi >>> 16) & 0xff)] ^
      t[hi >>> 24];
    i += 8;
  }
  while (i < end) c = t[(c ^ bytes[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  return update(0, bytes);
}
