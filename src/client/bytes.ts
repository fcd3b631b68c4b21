// Keys and values as the client takes and returns them. Callers pass strings (UTF-8), Uint8Arrays or
// Buffers; the client hands back Buffers (views over the decoded message, no copies), so `kv.value.toString()`
// reads text and binary data stays exact.

/** A key, value or range end: a UTF-8 string, or raw bytes (Uint8Array, Buffer). */
export type Bytes = string | Uint8Array;

/** A revision, lease ID, member ID or count: bigint, or a safe-integer number for convenience. */
export type Int64 = bigint | number;

const EMPTY = new Uint8Array(0);

/** The bytes of `b` (strings as UTF-8; byte arrays as they are, not copied). */
export function toBytes(b: Bytes | undefined): Uint8Array {
  if (b === undefined) return EMPTY;
  if (typeof b === "string") return Buffer.from(b, "utf8");
  if (b instanceof Uint8Array) return b;
  throw new TypeError(`expected a string or Uint8Array, got ${typeof b}`);
}

/** A Buffer view of `u` (same memory). */
export function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** `n` as a bigint; numbers must be safe integers. */
export function toBigInt(n: Int64): bigint {
  if (typeof n === "bigint") return n;
  if (!Number.isSafeInteger(n)) throw new RangeError(`expected an integer, got ${n}`);
  return BigInt(n);
}

/**
 * The range end that covers every key starting with `prefix` (etcd's GetPrefixRangeEnd): the prefix with
 * its last byte below 0xff incremented and what follows dropped. An empty prefix, or one of only 0xff
 * bytes, has no such bound: the range then runs to the end of the key space, written "\0".
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      // A copy: Buffer's slice() would be a view, and the caller's key must not change.
      const end = Uint8Array.from(prefix.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return Uint8Array.of(0);
}

/** The range end "\0": with a key, "every key >= key"; with the empty key, "every key". */
export const FROM_KEY_END: Uint8Array = Uint8Array.of(0);

/** Lower-case hex of an unsigned 64-bit ID, as etcd prints member and lease IDs. */
export function hexId(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}
