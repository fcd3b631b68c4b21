import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decodeLease, encodeLease, LeaseDecodeError, leaseIdOfKey, leaseKey } from "../../src/lease/codec.js";
import { formatLeaseId, leaseId } from "../../src/lease/lease.js";

describe("lease encoding (etcd's leasepb.Lease and 8-byte keys)", () => {
  test("known bytes", () => {
    // protoc --encode=leasepb.Lease: ID: 1 TTL: 10 -> 08 01 10 0a; RemainingTTL: 300 -> 18 ac 02.
    assert.equal(encodeLease({ id: 1n, ttl: 10, remainingTtl: 0 }).toString("hex"), "0801100a");
    assert.equal(encodeLease({ id: 1n, ttl: 10, remainingTtl: 300 }).toString("hex"), "0801100a18ac02");
    // Negative int64: ten-byte varint.
    assert.equal(
      encodeLease({ id: -1n, ttl: 5, remainingTtl: 0 }).toString("hex"),
      "08ffffffffffffffffff011005",
    );
    assert.equal(leaseKey(0x0102030405060708n).toString("hex"), "0102030405060708");
    assert.equal(leaseKey(-1n).toString("hex"), "ffffffffffffffff");
    assert.equal(leaseIdOfKey(leaseKey(-2n)), -2n);
    assert.equal(formatLeaseId(-1n), "ffffffffffffffff");
    assert.equal(formatLeaseId(0x694d7ab1c2d3e4f5n), "694d7ab1c2d3e4f5");
  });

  test("round trip; unknown fields skipped; damage detected", () => {
    fc.assert(
      fc.property(
        fc.bigInt(-(1n << 63n), (1n << 63n) - 1n),
        fc.integer({ min: 0, max: 9_000_000_000 }),
        fc.integer({ min: 0, max: 9_000_000_000 }),
        (id, ttl, remainingTtl) => {
          const r = { id, ttl, remainingTtl };
          assert.deepEqual(decodeLease(encodeLease(r)), r);
          assert.equal(leaseIdOfKey(leaseKey(id)), id);
        },
      ),
    );
    // Field 4 (varint) and field 5 (bytes) are ignored.
    const extra = Buffer.concat([
      encodeLease({ id: 3n, ttl: 7, remainingTtl: 1 }),
      Buffer.from("20012a026869", "hex"),
    ]);
    assert.deepEqual(decodeLease(extra), { id: 3n, ttl: 7, remainingTtl: 1 });
    assert.throws(() => decodeLease(Buffer.from("08ff", "hex")), LeaseDecodeError);
    assert.throws(() => decodeLease(Buffer.from("2a05", "hex")), LeaseDecodeError);
    assert.throws(() => leaseIdOfKey(Buffer.alloc(7)), LeaseDecodeError);
  });

  test("IDs: int64, with uint64 readings mapped to the same lease", () => {
    assert.equal(leaseId(5n), 5n);
    assert.equal(leaseId((1n << 64n) - 1n), -1n);
    assert.equal(leaseId(1n << 63n), -(1n << 63n));
    assert.throws(() => leaseId(1n << 64n), RangeError);
    assert.throws(() => leaseId(-(1n << 63n) - 1n), RangeError);
  });
});
