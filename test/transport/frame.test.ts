import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decodeMessage, encodeMessage } from "../../src/raft/codec.js";
import {
  encodeFrame,
  encodeFrames,
  FrameDecoder,
  FrameError,
  HEARTBEAT_FRAME,
} from "../../src/transport/frame.js";
import { app, checkApp } from "./helpers.js";

function collect(chunks: Uint8Array[], max?: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const d = new FrameDecoder((p) => out.push(Uint8Array.from(p)), max);
  for (const c of chunks) d.push(c);
  assert.ok(d.idle, "input ends at a frame boundary");
  return out;
}

/** Cuts `buf` at the given offsets (sorted, deduplicated). */
function cut(buf: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.filter((x) => x > 0 && x < buf.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe("frames", () => {
  test("a batch is length-prefixed payloads, back to back", () => {
    const a = Uint8Array.of(1, 2, 3);
    const b = Uint8Array.of(9);
    const buf = encodeFrames([a, b], 4);
    assert.deepEqual([...buf], [0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 1, 9]);
    assert.deepEqual(collect([buf]), [a, b]);
  });

  test("messages survive a split at every byte offset", () => {
    const msgs = [app(1n, 2n, 1, 40), app(1n, 2n, 2, 0), app(1n, 2n, 3, 300)];
    const payloads = msgs.map(encodeMessage);
    const buf = Buffer.concat([
      HEARTBEAT_FRAME,
      encodeFrames(
        payloads,
        payloads.reduce((n, p) => n + p.length, 0),
      ),
      HEARTBEAT_FRAME,
    ]);
    for (let i = 0; i <= buf.length; i++) {
      for (const j of [i + 1, i + 3, i + 5, i + 200]) {
        const got = collect(cut(buf, [i, j])).map(decodeMessage);
        assert.equal(got.length, 3, `cut at ${i},${j}`);
        for (const [k, m] of got.entries()) {
          assert.ok(checkApp(m, k + 1, [40, 0, 300][k]), `message ${k} cut at ${i},${j}`);
        }
      }
    }
  });

  test("one byte at a time", () => {
    const p = encodeMessage(app(5n, 6n, 77));
    const buf = Buffer.concat([encodeFrame(p), encodeFrame(p)]);
    const chunks = [...buf].map((b) => Uint8Array.of(b));
    const got = collect(chunks);
    assert.equal(got.length, 2);
    assert.ok(checkApp(decodeMessage(got[1]), 77));
  });

  test("heartbeats deliver nothing but are counted", () => {
    const seen: Uint8Array[] = [];
    const d = new FrameDecoder((p) => seen.push(p));
    d.push(Buffer.concat([HEARTBEAT_FRAME, HEARTBEAT_FRAME.subarray(0, 2)]));
    assert.equal(d.idle, false);
    d.push(HEARTBEAT_FRAME.subarray(2));
    assert.equal(seen.length, 0);
    assert.equal(d.frames, 2);
    assert.ok(d.idle);
  });

  test("a frame within one chunk is a view of it, not a copy", () => {
    const buf = encodeFrame(Uint8Array.of(7, 7, 7));
    let view: Uint8Array | undefined;
    new FrameDecoder((p) => {
      view = p;
    }).push(buf);
    assert.equal(view?.buffer, buf.buffer);
  });

  test("a length above the limit is refused before anything is allocated", () => {
    const d = new FrameDecoder(() => {}, 1000);
    assert.throws(() => d.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), FrameError);
  });

  test("property: any split of any frames decodes to the same payloads", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 12 }),
        fc.array(fc.nat(1200), { maxLength: 30 }),
        (payloads, cuts) => {
          const buf = encodeFrames(
            payloads,
            payloads.reduce((n, p) => n + p.length, 0),
          );
          const want = payloads.filter((p) => p.length > 0);
          assert.deepEqual(collect(cut(buf, cuts)), want);
        },
      ),
      { numRuns: 500 },
    );
  });
});
