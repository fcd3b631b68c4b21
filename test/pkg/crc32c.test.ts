import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { crc32c, update } from "../../src/pkg/crc32c.js";

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bit-at-a-time reference implementation. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test("crc32c: standard check value and RFC 3720 (iSCSI) vectors", () => {
  assert.equal(crc32c(ascii("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(ascii("a")), 0xc1d04330);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(ascii("The quick brown fox jumps over the lazy dog")), 0x22620404);
});

test("crc32c: update chains like checksum of the concatenation", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
      const ab = new Uint8Array(a.length + b.length);
      ab.set(a);
      ab.set(b, a.length);
      assert.equal(update(update(0, a), b), crc32c(ab));
    }),
  );
});

test("crc32c: slicing-by-8 agrees with the bitwise reference at every length and alignment", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(20), fc.nat(20), (bytes, s, e) => {
      const start = Math.min(s, bytes.length);
      const end = Math.max(start, bytes.length - e);
      assert.equal(update(0, bytes, start, end), reference(bytes.subarray(start, end)));
    }),
  );
});
