import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { update } from "../../src/pkg/crc32c.js";
import {
  crcRecordData,
  decodeRecord,
  encodeRecord,
  framedSize,
  HEADER_SIZE,
  RecordType,
  sealRecords,
  writeRecords,
} from "../../src/wal/record.js";

const types = [RecordType.Metadata, RecordType.Entry, RecordType.State, RecordType.Snapshot];

test("record: framed size is 8-aligned and fits header, data and at most 7 padding bytes", () => {
  for (let n = 0; n < 100; n++) {
    const s = framedSize(n);
    assert.equal(s % 8, 0);
    assert.ok(s >= HEADER_SIZE + n && s < HEADER_SIZE + n + 8);
  }
});

test("record: round trip of chained records, any types and data", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 100 })), { maxLength: 10 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (recs, seed) => {
        const buf = writeRecords(
          recs.map((r) => r[0]),
          recs.map((r) => r[1]),
        );
        const last = sealRecords(buf, seed);
        let off = 0;
        let crc = seed;
        for (const [type, data] of recs) {
          const d = decodeRecord(buf, off, crc);
          assert.equal(d.kind, "record");
          if (d.kind !== "record") return;
          assert.equal(d.type, type);
          assert.deepEqual(d.data, data);
          assert.equal(off % 8, 0);
          crc = d.crc;
          off = d.next;
        }
        assert.equal(off, buf.length);
        assert.equal(crc, last);
        assert.equal(decodeRecord(buf, off, crc).kind, "zero");
      },
    ),
  );
});

test("record: the chain binds each record to its predecessor", () => {
  const a = encodeRecord(RecordType.Entry, new Uint8Array([1, 2, 3]), 0x1234);
  assert.equal(decodeRecord(a.bytes, 0, 0x1234).kind, "record");
  const d = decodeRecord(a.bytes, 0, 0x1235);
  assert.equal(d.kind, "badBody");
});

test("record: a crc record checks itself and carries the running crc", () => {
  const r = encodeRecord(RecordType.Crc, crcRecordData(0xdeadbeef), 42);
  const d = decodeRecord(r.bytes, 0, 999);
  assert.equal(d.kind, "record");
  if (d.kind === "record") assert.equal(d.crc, 0xdeadbeef);
  assert.equal(r.crc, 0xdeadbeef);
});

test("record: every single-byte change of a header is caught by the header check", () => {
  const z = new Uint8Array(6);
  const base = update(0, z) & 0xffff;
  for (let p = 0; p < 6; p++) {
    for (let v = 1; v < 256; v++) {
      const e = new Uint8Array(6);
      e[p] = v;
      // CRC is affine: a change e is missed iff crc(e) agrees with crc(0) on the checked bits.
      assert.notEqual(update(0, e) & 0xffff, base, `missed change ${v} at header byte ${p}`);
    }
  }
});

test("record: truncated input is short, a damaged header is badHeader, damaged data is badBody", () => {
  const { bytes } = encodeRecord(RecordType.Entry, new Uint8Array(20).fill(7), 0);
  for (let n = 1; n < bytes.length; n++) {
    const d = decodeRecord(bytes.subarray(0, n), 0, 0);
    assert.equal(d.kind, "short", `cut at ${n}`);
  }
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.slice();
    b[i] ^= 0x10;
    const d = decodeRecord(b, 0, 0);
    assert.equal(d.kind, i < 8 ? "badHeader" : "badBody", `flip at ${i}`);
  }
});
