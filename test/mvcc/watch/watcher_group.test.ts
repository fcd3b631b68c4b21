import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { keySpan } from "../../../src/mvcc/key_index.js";
import { IntervalTree } from "../../../src/mvcc/watch/interval_tree.js";
import type { WatchStream } from "../../../src/mvcc/watch/watch_stream.js";
import { Watcher, WatcherGroup } from "../../../src/mvcc/watch/watcher_group.js";

const b = (s: string) => Buffer.from(s, "latin1");
const keyArb = fc.string({ unit: fc.constantFrom("a", "b", "c", "\0", "\xff"), maxLength: 3 });

describe("interval tree", () => {
  test("stab finds exactly the intervals containing the key, through inserts and deletes", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            del: fc.boolean(),
            lo: keyArb,
            hi: fc.option(keyArb, { nil: undefined }),
          }),
          { maxLength: 60 },
        ),
        fc.array(keyArb, { minLength: 1, maxLength: 10 }),
        (ops, probes) => {
          const t = new IntervalTree<string>();
          const model = new Map<string, [string, string | undefined]>();
          for (const op of ops) {
            const id = `${op.lo}|${op.hi ?? "+inf"}`;
            if (op.del) {
              assert.equal(t.delete(op.lo, op.hi), model.delete(id));
            } else {
              t.set(op.lo, op.hi, id);
              model.set(id, [op.lo, op.hi]);
            }
            assert.equal(t.size, model.size);
          }
          for (const k of probes) {
            const got: string[] = [];
            t.stab(k, (v) => got.push(v));
            const want = [...model]
              .filter(([, [lo, hi]]) => lo <= k && (hi === undefined || k < hi))
              .map(([id]) => id);
            assert.deepEqual(got.sort(), want.sort());
          }
          const entries = [...t.entries()].map(([lo, hi]) => `${lo}|${hi ?? "+inf"}`);
          assert.deepEqual(entries.sort(), [...model.keys()].sort());
        },
      ),
      { numRuns: 300 },
    );
  });

  test("stays shallow with many intervals", () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < 20000; i++) t.set(String(i).padStart(6, "0"), String(i + 10).padStart(6, "0"), i);
    assert.ok(t.depth() < 60, `depth ${t.depth()}`);
    const got: number[] = [];
    t.stab("010005", (v) => got.push(v));
    assert.deepEqual(
      got.sort((x, y) => x - y),
      [9996, 9997, 9998, 9999, 10000, 10001, 10002, 10003, 10004, 10005],
    );
    for (let i = 0; i < 20000; i += 2) t.delete(String(i).padStart(6, "0"), String(i + 10).padStart(6, "0"));
    assert.equal(t.size, 10000);
  });
});

describe("watcher group", () => {
  const stream = {} as WatchStream;
  const mk = (id: number, key: string, end?: string) =>
    new Watcher(
      id,
      stream,
      keySpan(b(key), end === undefined ? undefined : b(end)),
      0,
      false,
      false,
      false,
      false,
      false,
    );

  test("matches single keys, ranges, open ranges; several watchers on one range; deletes", () => {
    const g = new WatcherGroup();
    const ws = [mk(0, "foo"), mk(1, "foo"), mk(2, "a", "g"), mk(3, "a", "g"), mk(4, "f", "\0"), mk(5, "zz")];
    for (const w of ws) g.add(w);
    assert.throws(() => g.add(ws[0]));
    const at = (k: string) => {
      const out: number[] = [];
      g.forEachMatch(k, (w) => out.push(w.id));
      return out.sort();
    };
    assert.deepEqual(at("foo"), [0, 1, 2, 3, 4]);
    assert.deepEqual(at("b"), [2, 3]);
    assert.deepEqual(at("g"), [4]);
    assert.deepEqual(at("zz"), [4, 5]);
    assert.deepEqual(at("\0"), []);
    assert.ok(g.contains("zzz"));
    assert.ok(!g.contains("0"));
    assert.ok(g.delete(ws[2]));
    assert.ok(!g.delete(ws[2]));
    assert.deepEqual(at("b"), [3]);
    g.delete(ws[3]);
    g.delete(ws[4]);
    assert.deepEqual(at("b"), []);
    assert.deepEqual(at("foo"), [0, 1]);
    assert.equal(g.size, 3);
  });

  test("agrees with asking every watcher", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, fc.option(keyArb, { nil: undefined }), fc.boolean()), { maxLength: 40 }),
        fc.array(keyArb, { minLength: 1, maxLength: 8 }),
        (specs, probes) => {
          const g = new WatcherGroup();
          const all: Watcher[] = [];
          specs.forEach(([key, end, single], i) => {
            if (key.length === 0) key = "\0";
            const e = single ? undefined : end === undefined ? "\0" : end;
            if (e !== undefined && e !== "\0" && e <= key) return;
            const w = mk(i, key, e);
            all.push(w);
            g.add(w);
          });
          for (const k of probes) {
            const got: number[] = [];
            g.forEachMatch(k, (w) => got.push(w.id));
            assert.deepEqual(
              got.sort((x, y) => x - y),
              all.filter((w) => w.matches(k)).map((w) => w.id),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
