import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { BTree } from "../../src/mvcc/btree.js";

interface Item {
  key: string;
  n: number;
}

/** The model: a plain sorted array. */
function modelRange(model: Map<string, number>, start: string, end: string | undefined): string[] {
  return [...model.keys()].filter((k) => k >= start && (end === undefined || k < end)).sort();
}

function treeRange(t: BTree<Item>, start: string, end: string | undefined, limit = Infinity): string[] {
  const out: string[] = [];
  t.ascend(start, end, (it) => {
    out.push(it.key);
    return out.length < limit;
  });
  return out;
}

describe("BTree", () => {
  test("matches a sorted-map model under random inserts, deletes and range walks", () => {
    // Short keys over a small alphabet (with \0 and \xff) collide often; many ops force splits and rebuilds.
    const key = fc.string({ unit: fc.constantFrom("\0", "a", "b", "c", "\xff"), minLength: 0, maxLength: 4 });
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.constant("set" as const), key) },
      { weight: 3, arbitrary: fc.tuple(fc.constant("del" as const), key) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.constant("range" as const), key, fc.option(key, { nil: undefined })),
      },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 1500, size: "max" }), (ops) => {
        const t = new BTree<Item>();
        const model = new Map<string, number>();
        let n = 0;
        for (const o of ops) {
          if (o[0] === "set") {
            t.set({ key: o[1], n });
            model.set(o[1], n++);
          } else if (o[0] === "del") {
            assert.equal(t.delete(o[1]), model.delete(o[1]));
          } else {
            assert.deepEqual(treeRange(t, o[1], o[2]), modelRange(model, o[1], o[2]));
          }
          assert.equal(t.size, model.size);
        }
        for (const [k, v] of model) assert.equal(t.get(k)?.n, v);
        assert.deepEqual(
          [...t].map((it) => it.key),
          [...model.keys()].sort(),
        );
      }),
      { numRuns: 150 },
    );
  });

  test("stays correct through bulk growth, early-stopped walks and mass deletion", () => {
    const t = new BTree<Item>();
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${String((i * 7919) % 20_000).padStart(6, "0")}`);
    for (const [i, k] of keys.entries()) t.set({ key: k, n: i });
    assert.equal(t.size, 20_000);
    assert.deepEqual(treeRange(t, "k000100", "k000105"), [
      "k000100",
      "k000101",
      "k000102",
      "k000103",
      "k000104",
    ]);
    assert.deepEqual(treeRange(t, "k019998", undefined), ["k019998", "k019999"]);
    assert.deepEqual(treeRange(t, "", undefined, 3), ["k000000", "k000001", "k000002"]);
    // Delete all but every 100th key (this triggers the sparse rebuild), then check everything.
    for (const k of keys) if (Number(k.slice(1)) % 100 !== 0) assert.ok(t.delete(k));
    assert.equal(t.size, 200);
    const left = treeRange(t, "", undefined);
    assert.equal(left.length, 200);
    assert.deepEqual(left, [...left].sort());
    assert.equal(t.get("k000100")?.key, "k000100");
    assert.equal(t.get("k000101"), undefined);
    for (const k of left) t.delete(k);
    assert.equal(t.size, 0);
    assert.deepEqual(treeRange(t, "", undefined), []);
    t.set({ key: "again", n: 1 });
    assert.equal(t.get("again")?.n, 1);
  });
});
