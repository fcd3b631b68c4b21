import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Inflights } from "../../src/raft/inflights.js";

/** Adds messages with the given last indexes (each of `size` bytes). */
function addAll(inf: Inflights, indexes: number[], size = 0): void {
  for (const i of indexes) inf.add(i, size);
}

describe("Inflights count limit", () => {
  test("fills up at maxCount and refuses more", () => {
    const inf = new Inflights(3, 0);
    assert.equal(inf.count(), 0);
    assert.equal(inf.full(), false);
    inf.add(1, 10);
    inf.add(2, 10);
    assert.equal(inf.count(), 2);
    assert.equal(inf.full(), false);
    inf.add(3, 10);
    assert.equal(inf.count(), 3);
    assert.equal(inf.full(), true);
    assert.throws(() => inf.add(4, 10), { message: "cannot add into a full inflights" });
    assert.equal(inf.count(), 3);
  });

  test("freeLE frees every message whose last index is <= to", () => {
    const inf = new Inflights(10, 0);
    addAll(inf, [5, 10, 15, 20]);
    inf.freeLE(4);
    assert.equal(inf.count(), 4);
    inf.freeLE(5);
    assert.equal(inf.count(), 3);
    inf.freeLE(12);
    assert.equal(inf.count(), 2);
    // A stale acknowledgement frees nothing.
    inf.freeLE(7);
    assert.equal(inf.count(), 2);
    inf.freeLE(19);
    assert.equal(inf.count(), 1);
    inf.freeLE(100);
    assert.equal(inf.count(), 0);
    assert.equal(inf.full(), false);
    // Freeing an empty window is a no-op.
    inf.freeLE(200);
    assert.equal(inf.count(), 0);
  });

  test("freeing makes room again", () => {
    const inf = new Inflights(2, 0);
    addAll(inf, [1, 2]);
    assert.equal(inf.full(), true);
    inf.freeLE(1);
    assert.equal(inf.full(), false);
    inf.add(3, 0);
    assert.equal(inf.full(), true);
    assert.equal(inf.count(), 2);
  });

  test("reset empties the window", () => {
    const inf = new Inflights(2, 100);
    inf.add(1, 60);
    inf.add(2, 60);
    assert.equal(inf.full(), true);
    inf.reset();
    assert.equal(inf.count(), 0);
    assert.equal(inf.full(), false);
    // Bytes were reset too: 99 more bytes still fit.
    inf.add(3, 99);
    assert.equal(inf.full(), false);
  });
});

describe("Inflights byte limit", () => {
  test("full once the bytes reach maxBytes", () => {
    const inf = new Inflights(10, 100);
    inf.add(1, 40);
    inf.add(2, 40);
    assert.equal(inf.full(), false);
    inf.add(3, 19);
    assert.equal(inf.full(), false, "99 bytes < 100");
    inf.add(4, 1);
    assert.equal(inf.full(), true, "100 bytes >= 100");
    assert.equal(inf.count(), 4);
    assert.throws(() => inf.add(5, 0), { message: "cannot add into a full inflights" });
  });

  test("a message may overshoot the limit, but then nothing else is admitted", () => {
    const inf = new Inflights(10, 100);
    inf.add(1, 90);
    assert.equal(inf.full(), false);
    inf.add(2, 50);
    assert.equal(inf.full(), true);
    inf.freeLE(1);
    // 50 bytes left.
    assert.equal(inf.full(), false);
    inf.add(3, 49);
    assert.equal(inf.full(), false);
    inf.add(4, 1);
    assert.equal(inf.full(), true);
  });

  test("a single message larger than the limit fills the window", () => {
    const inf = new Inflights(10, 100);
    inf.add(7, 500);
    assert.equal(inf.count(), 1);
    assert.equal(inf.full(), true);
    inf.freeLE(7);
    assert.equal(inf.full(), false);
    assert.equal(inf.count(), 0);
  });

  test("freeLE releases exactly the bytes of the freed messages", () => {
    const inf = new Inflights(10, 100);
    inf.add(1, 30);
    inf.add(2, 30);
    inf.add(3, 30);
    inf.freeLE(2);
    // 30 bytes in flight: 69 more are fine, the 70th fills it.
    inf.add(4, 69);
    assert.equal(inf.full(), false);
    inf.add(5, 1);
    assert.equal(inf.full(), true);
  });

  test("maxBytes 0 means no byte limit", () => {
    const inf = new Inflights(3, 0);
    inf.add(1, 1e9);
    inf.add(2, 1e9);
    assert.equal(inf.full(), false);
    inf.add(3, 0);
    assert.equal(inf.full(), true);
  });

  test("either limit fills the window", () => {
    const inf = new Inflights(2, 1000);
    inf.add(1, 1);
    inf.add(2, 1);
    assert.equal(inf.full(), true, "count limit");
    const inf2 = new Inflights(2, 10);
    inf2.add(1, 10);
    assert.equal(inf2.full(), true, "byte limit");
    assert.equal(inf2.count(), 1);
  });
});

describe("Inflights over many adds and frees", () => {
  test("a sliding window keeps exact counts past the internal compaction point", () => {
    const inf = new Inflights(100, 0);
    for (let i = 1; i <= 100; i++) inf.add(i, 0);
    assert.equal(inf.full(), true);
    inf.freeLE(70);
    assert.equal(inf.count(), 30);
    for (let i = 101; i <= 170; i++) inf.add(i, 0);
    assert.equal(inf.count(), 100);
    assert.equal(inf.full(), true);
    assert.throws(() => inf.add(171, 0));
    inf.freeLE(100);
    assert.equal(inf.count(), 70);
    inf.freeLE(169);
    assert.equal(inf.count(), 1);
    inf.freeLE(170);
    assert.equal(inf.count(), 0);
  });

  test("thousands of messages through a small window", () => {
    const inf = new Inflights(4, 400);
    let next = 1;
    let acked = 0;
    for (let round = 0; round < 2000; round++) {
      while (!inf.full()) inf.add(next++, 100);
      // Four messages of 100 bytes each: both limits are hit at once.
      assert.equal(inf.count(), 4);
      acked += 1 + (round % 3);
      inf.freeLE(acked);
      assert.equal(inf.count(), Math.max(0, next - 1 - acked));
      if (acked >= next - 1) acked = next - 1;
    }
  });

  test("matches a simple queue model (property)", () => {
    type Op = { kind: "add"; size: number; gap: number } | { kind: "free"; back: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant("add" as const),
        size: fc.integer({ min: 0, max: 40 }),
        gap: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({ kind: fc.constant("free" as const), back: fc.integer({ min: -2, max: 8 }) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 150 }),
        fc.array(op, { maxLength: 300 }),
        (maxCount, maxBytes, ops) => {
          const inf = new Inflights(maxCount, maxBytes);
          const model: { index: number; size: number }[] = [];
          let last = 0;
          const modelFull = (): boolean => {
            const bytes = model.reduce((s, m) => s + m.size, 0);
            return model.length >= maxCount || (maxBytes > 0 && bytes >= maxBytes);
          };
          for (const o of ops) {
            if (o.kind === "add") {
              last += o.gap;
              if (modelFull()) {
                assert.throws(() => inf.add(last, o.size));
              } else {
                inf.add(last, o.size);
                model.push({ index: last, size: o.size });
              }
            } else {
              const to = last - o.back;
              inf.freeLE(to);
              while (model.length > 0 && model[0]!.index <= to) model.shift();
            }
            assert.equal(inf.count(), model.length);
            assert.equal(inf.full(), modelFull());
          }
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe("Inflights.clone", () => {
  test("copies the window, limits and bytes", () => {
    const inf = new Inflights(5, 100);
    inf.add(1, 30);
    inf.add(2, 30);
    inf.add(3, 30);
    inf.freeLE(1);
    const c = inf.clone();
    assert.equal(c.maxCount, 5);
    assert.equal(c.maxBytes, 100);
    assert.equal(c.count(), 2);
    assert.equal(c.full(), false);
    // 60 bytes in flight in the clone: 39 more fit, 40 fill it.
    c.add(4, 39);
    assert.equal(c.full(), false);
    c.add(5, 1);
    assert.equal(c.full(), true);
    // The clone frees the same messages as the original would.
    c.freeLE(2);
    assert.equal(c.count(), 3);
  });

  test("clone and original evolve independently", () => {
    const inf = new Inflights(3, 0);
    addAll(inf, [1, 2]);
    const c = inf.clone();
    c.add(3, 0);
    assert.equal(c.count(), 3);
    assert.equal(c.full(), true);
    assert.equal(inf.count(), 2);
    assert.equal(inf.full(), false);

    inf.freeLE(2);
    assert.equal(inf.count(), 0);
    assert.equal(c.count(), 3);

    c.reset();
    assert.equal(c.count(), 0);
    inf.add(10, 0);
    assert.equal(inf.count(), 1);
    assert.equal(c.count(), 0);
  });

  test("cloning a full window yields a full window", () => {
    const inf = new Inflights(2, 0);
    addAll(inf, [4, 8]);
    const c = inf.clone();
    assert.equal(c.full(), true);
    assert.equal(c.count(), 2);
    const byBytes = new Inflights(10, 50);
    byBytes.add(1, 20);
    byBytes.add(2, 40);
    const c2 = byBytes.clone();
    assert.equal(c2.full(), true);
    assert.equal(c2.count(), 2);
  });

  test("cloning after the internal compaction keeps only live messages", () => {
    const inf = new Inflights(200, 0);
    for (let i = 1; i <= 150; i++) inf.add(i, 0);
    inf.freeLE(140);
    const c = inf.clone();
    assert.equal(c.count(), 10);
    c.freeLE(145);
    assert.equal(c.count(), 5);
    assert.equal(inf.count(), 10);
  });
});
