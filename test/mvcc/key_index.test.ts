import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KeyIndex, keySpan, newRevLookup, spanHas, TreeIndex } from "../../src/mvcc/key_index.js";

/**
 * The key of etcd's key index tests:
 *   {{2,0} {4,0} {6,0}t} {{8,0} {10,0} {12,0}t} {{14,0} {14,1} {16,0}t} {}
 */
function fixture(): KeyIndex {
  const ki = new KeyIndex("foo");
  ki.put(2, 0);
  ki.put(4, 0);
  ki.tombstone(6, 0);
  ki.put(8, 0);
  ki.put(10, 0);
  ki.tombstone(12, 0);
  ki.put(14, 0);
  ki.put(14, 1);
  ki.tombstone(16, 0);
  return ki;
}

function at(ki: KeyIndex, rev: number): string {
  const out = newRevLookup();
  return ki.get(rev, out) ? `${out.main}.${out.sub} c${out.created} v${out.ver}` : "-";
}

/** The revisions as "main.sub" with a "t" on tombstones, generations separated by "|". */
function shape(ki: KeyIndex): string {
  const t = ki.allRevisions();
  const parts: string[] = [];
  for (let i = 0; i < t.length; i += 3) parts.push(`${t[i]}.${t[i + 1]}${t[i + 2] ? "t" : ""}`);
  return parts.join(" ");
}

function triples(t: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.length; i += 3) out.push(`${t[i]}.${t[i + 1]}${t[i + 2] ? "t" : ""}`);
  return out;
}

describe("KeyIndex", () => {
  test("get finds the version at each revision across generations", () => {
    const ki = fixture();
    const want: Record<number, string> = {
      0: "-",
      1: "-",
      2: "2.0 c2 v1",
      3: "2.0 c2 v1",
      4: "4.0 c2 v2",
      5: "4.0 c2 v2",
      6: "-",
      7: "-",
      8: "8.0 c8 v1",
      9: "8.0 c8 v1",
      10: "10.0 c8 v2",
      11: "10.0 c8 v2",
      12: "-",
      13: "-",
      14: "14.1 c14 v2",
      15: "14.1 c14 v2",
      16: "-",
      17: "-",
    };
    for (const [rev, w] of Object.entries(want)) assert.equal(at(ki, Number(rev)), w, `at ${rev}`);
    assert.equal(ki.live, false);
    assert.equal(ki.generations, 4);
    ki.put(18, 0);
    assert.equal(ki.live, true);
    assert.equal(at(ki, 18), "18.0 c18 v1");
    assert.equal(at(ki, 17), "-");
    assert.equal(ki.created, 18);
    assert.equal(ki.version, 1);
  });

  test("refuses revisions out of order and tombstones of a missing key", () => {
    const ki = new KeyIndex("k");
    assert.throws(() => ki.tombstone(1, 0), /does not exist/);
    ki.put(5, 1);
    assert.throws(() => ki.put(5, 1), /not after/);
    assert.throws(() => ki.put(5, 0), /not after/);
    assert.throws(() => ki.put(4, 9), /not after/);
    ki.put(5, 2);
    ki.tombstone(6, 0);
    assert.throws(() => ki.tombstone(7, 0), /does not exist/);
    assert.throws(() => ki.put(6, 0), /not after/);
    ki.put(6, 1);
    assert.equal(at(ki, 6), "6.1 c6 v1");
  });

  // Compaction at each revision of the fixture: what stays, what goes, and what `keep` reports (etcd's
  // TestKeyIndexCompactAndKeep table).
  const compactions: [rev: number, left: string, removed: string[], keep: string[]][] = [
    [1, "2.0 4.0 6.0t 8.0 10.0 12.0t 14.0 14.1 16.0t", [], []],
    [2, "2.0 4.0 6.0t 8.0 10.0 12.0t 14.0 14.1 16.0t", [], ["2_0"]],
    [3, "2.0 4.0 6.0t 8.0 10.0 12.0t 14.0 14.1 16.0t", [], ["2_0"]],
    [4, "4.0 6.0t 8.0 10.0 12.0t 14.0 14.1 16.0t", ["2.0"], ["4_0"]],
    [5, "4.0 6.0t 8.0 10.0 12.0t 14.0 14.1 16.0t", ["2.0"], ["4_0"]],
    [6, "8.0 10.0 12.0t 14.0 14.1 16.0t", ["2.0", "4.0", "6.0t"], []],
    [7, "8.0 10.0 12.0t 14.0 14.1 16.0t", ["2.0", "4.0", "6.0t"], []],
    [8, "8.0 10.0 12.0t 14.0 14.1 16.0t", ["2.0", "4.0", "6.0t"], ["8_0"]],
    [10, "10.0 12.0t 14.0 14.1 16.0t", ["2.0", "4.0", "6.0t", "8.0"], ["10_0"]],
    [12, "14.0 14.1 16.0t", ["2.0", "4.0", "6.0t", "8.0", "10.0", "12.0t"], []],
    [14, "14.1 16.0t", ["2.0", "4.0", "6.0t", "8.0", "10.0", "12.0t", "14.0"], ["14_1"]],
    [15, "14.1 16.0t", ["2.0", "4.0", "6.0t", "8.0", "10.0", "12.0t", "14.0"], ["14_1"]],
    [16, "", ["2.0", "4.0", "6.0t", "8.0", "10.0", "12.0t", "14.0", "14.1", "16.0t"], []],
    [17, "", ["2.0", "4.0", "6.0t", "8.0", "10.0", "12.0t", "14.0", "14.1", "16.0t"], []],
  ];

  test("compact and keep, each from the fresh fixture", () => {
    for (const [rev, left, removed, keep] of compactions) {
      const k = fixture();
      const kept = new Set<string>();
      k.keep(rev, kept);
      assert.deepEqual([...kept], keep, `keep ${rev}`);
      const rm: number[] = [];
      k.compact(rev, rm);
      assert.equal(shape(k), left, `compact ${rev}`);
      assert.deepEqual(triples(rm), removed, `removed at ${rev}`);
      assert.equal(k.isEmpty, left === "", `empty after ${rev}`);
      // Reads at or after the compaction revision are unchanged.
      const orig = fixture();
      for (let r = rev; r <= 18; r++) assert.equal(at(k, r), at(orig, r), `get ${r} after compact ${rev}`);
    }
  });

  test("compact step by step gives the same result as at once", () => {
    const k = fixture();
    const all: number[] = [];
    for (const [rev, left, removed] of compactions) {
      k.compact(rev, all);
      assert.equal(shape(k), left, `compact ${rev}`);
      assert.deepEqual(triples(all), removed, `removed through ${rev}`);
    }
  });

  test("versions survive compaction of the generation's early revisions", () => {
    const k = new KeyIndex("k");
    for (let r = 2; r <= 6; r++) k.put(r, 0);
    k.compact(5, []);
    assert.equal(shape(k), "5.0 6.0");
    assert.equal(at(k, 5), "5.0 c2 v4");
    assert.equal(at(k, 6), "6.0 c2 v5");
    k.put(7, 0);
    assert.equal(at(k, 7), "7.0 c2 v6");
    // As rebuilt from the backend after compaction: restore from the first surviving revision.
    const r = new KeyIndex("k");
    r.restore(2, 5, 0, 4);
    r.put(6, 0);
    r.put(7, 0);
    assert.equal(at(r, 7), "7.0 c2 v6");
    assert.equal(at(r, 4), "-");
  });
});

describe("key spans and the tree index", () => {
  const b = (s: string): Buffer => Buffer.from(s, "latin1");
  test("etcd key/range_end semantics", () => {
    const one = keySpan(b("foo"));
    assert.ok(spanHas(one, "foo") && !spanHas(one, "foo0"));
    assert.deepEqual(keySpan(b("foo"), new Uint8Array(0)), one);
    const from = keySpan(b("foo"), Uint8Array.of(0));
    assert.ok(spanHas(from, "foo") && spanHas(from, "\xff\xff") && !spanHas(from, "fon"));
    const all = keySpan(Uint8Array.of(0), Uint8Array.of(0));
    assert.ok(spanHas(all, "\0") && spanHas(all, "a"));
    const prefix = keySpan(b("a/"), b("a0"));
    assert.ok(spanHas(prefix, "a/") && spanHas(prefix, "a/\xff") && !spanHas(prefix, "a0"));
  });

  test("visit, count, compact drop empty keys", () => {
    const ti = new TreeIndex();
    ti.getOrCreate("a").put(2, 0);
    ti.getOrCreate("b").put(3, 0);
    ti.getOrCreate("a").tombstone(4, 0);
    ti.getOrCreate("c").put(4, 1);
    const keysAt = (rev: number): string[] => {
      const out: string[] = [];
      ti.visit(keySpan(b("a"), Uint8Array.of(0)), rev, (ki, o) => {
        out.push(`${ki.key}@${o.main}`);
      });
      return out;
    };
    assert.deepEqual(keysAt(3), ["a@2", "b@3"]);
    assert.deepEqual(keysAt(4), ["b@3", "c@4"]);
    assert.equal(ti.count(keySpan(b("a"), b("c")), 3), 2);
    assert.equal(ti.count(keySpan(b("c"), b("a")), 4), 0, "end before start is empty");
    assert.deepEqual(triples(ti.compact(4)), ["2.0", "4.0t"]);
    assert.equal(ti.get("a"), undefined);
    assert.equal(ti.size, 2);
    assert.deepEqual([...ti.keep(4)].sort(), ["3_0", "4_1"]);
  });
});
