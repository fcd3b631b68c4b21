// Key ranges as clientv3 builds them: the end of a prefix range, and keys given as command-line text.

const utf8 = new TextEncoder();

/** A command-line string as the key bytes Go's string([]byte) conversion gives (UTF-8). */
export function keyBytes(s: string): Uint8Array {
  return utf8.encode(s);
}

/**
 * clientv3's getPrefix: the first key after every key with this prefix (last byte below 0xff incremented,
 * the rest dropped), or "\x00" (to the end of the key space) when there is none.
 */
export function prefixRangeEnd(key: Uint8Array): Uint8Array {
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i]! < 0xff) {
      // A copy (a Buffer's slice() would be a view, and the increment would change the key itself).
      const end = new Uint8Array(key.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}
