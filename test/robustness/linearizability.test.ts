// The register linearizability checker on hand-made histories: it must reject a stale read, a lost
// write, two reads in the wrong order, a double compare-and-set and a value nobody wrote, accept
// concurrent operations in any valid order and indeterminate operations whether or not they took
// effect, and say "unknown" (not "ok") when its budget runs out. Plus a randomized check that histories
// produced by a real atomic register with arbitrary overlapping intervals always pass.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { seededRand } from "../../src/raft/rand.js";
import { checkKey, checkRegisters } from "./checker/linearizability.js";
import type { Operation, RegisterInput, RegisterOutput } from "./history.js";

type Op = Operation<RegisterInput, RegisterOutput>;

/** A tiny DSL: [client, op, call, ret | undefined (indeterminate), result]. */
function h(
  ...rows: [
    string,
    "r" | "w" | "cas" | "w?" | "cas?" | "wfail",
    number,
    number | undefined,
    string | null | boolean | [boolean, string | null] | undefined,
    string?,
  ][]
): Op[] {
  return rows.map(([client, f, call, ret, res, arg], id) => {
    const key = "k";
    switch (f) {
      case "r":
        return {
          id,
          client,
          input: { f: "read", key },
          call,
          ret,
          status: "ok",
          output: { value: res as string | null },
        };
      case "w":
        return {
          id,
          client,
          input: { f: "write", key, value: res as string },
          call,
          ret,
          status: "ok",
          output: {},
        };
      case "w?":
        return { id, client, input: { f: "write", key, value: res as string }, call, status: "info" };
      case "wfail":
        return { id, client, input: { f: "write", key, value: res as string }, call, ret, status: "fail" };
      case "cas": {
        const [ok, seen] = res as [boolean, string | null];
        return {
          id,
          client,
          input: { f: "cas", key, expect: arg!, value: `${arg}>${id}` },
          call,
          ret,
          status: "ok",
          output: ok ? { ok } : { ok, value: seen },
        };
      }
      default:
        return {
          id,
          client,
          input: { f: "cas", key, expect: arg!, value: res as string },
          call,
          status: "info",
        };
    }
  });
}

const verdict = (ops: Op[], budget?: number) => checkKey("k", ops, budget ? { budget } : {}).verdict;

describe("register linearizability checker", () => {
  test("accepts a sequential history", () => {
    assert.equal(verdict(h(["a", "r", 0, 1, null], ["a", "w", 2, 3, "x"], ["b", "r", 4, 5, "x"])), "ok");
  });

  test("accepts a read concurrent with a write returning either value", () => {
    const base: Parameters<typeof h> = [["a", "w", 0, 1, "x"]];
    assert.equal(verdict(h(...base, ["a", "w", 2, 10, "y"], ["b", "r", 3, 4, "x"])), "ok");
    assert.equal(verdict(h(...base, ["a", "w", 2, 10, "y"], ["b", "r", 3, 4, "y"])), "ok");
    // Both concurrent readers may see the new value while the write is still in flight.
    assert.equal(
      verdict(h(...base, ["a", "w", 2, 10, "y"], ["b", "r", 3, 4, "y"], ["c", "r", 5, 6, "y"])),
      "ok",
    );
  });

  test("rejects a stale read (a read that starts after a write returned sees the value before it)", () => {
    const r = checkKey("k", h(["a", "w", 0, 1, "x"], ["a", "w", 2, 3, "y"], ["b", "r", 4, 5, "x"]));
    assert.equal(r.verdict, "fail");
    assert.match(r.reason!, /cannot be placed/);
  });

  test("rejects a lost write (acknowledged, never seen by a later read)", () => {
    assert.equal(verdict(h(["a", "w", 0, 1, "x"], ["b", "r", 2, 3, null])), "fail");
  });

  test("rejects two reads in the wrong order (new value, then the old one)", () => {
    // The write is in flight during both reads, so each alone is fine; together they are not.
    const ops = h(
      ["a", "w", 0, 1, "x"],
      ["a", "w", 2, 20, "y"],
      ["b", "r", 3, 4, "y"],
      ["c", "r", 5, 6, "x"],
    );
    assert.equal(verdict(ops), "fail");
    // The same reads overlapping each other are fine.
    const ok = h(["a", "w", 0, 1, "x"], ["a", "w", 2, 20, "y"], ["b", "r", 3, 6, "y"], ["c", "r", 5, 7, "x"]);
    assert.equal(verdict(ok), "ok");
  });

  test("compare-and-set: succeeds only on its expected value, at most once per value", () => {
    // Two sequential cas from the same expected value cannot both succeed.
    assert.equal(
      verdict(
        h(
          ["a", "w", 0, 1, "x"],
          ["a", "cas", 2, 3, [true, null], "x"],
          ["b", "cas", 4, 5, [true, null], "x"],
        ),
      ),
      "fail",
    );
    // Concurrent ones neither: one of them must come second and find the other's value.
    assert.equal(
      verdict(
        h(
          ["a", "w", 0, 1, "x"],
          ["a", "cas", 2, 5, [true, null], "x"],
          ["b", "cas", 3, 6, [true, null], "x"],
        ),
      ),
      "fail",
    );
    // A failed cas is a read of what it found.
    assert.equal(
      verdict(
        h(
          ["a", "w", 0, 1, "x"],
          ["a", "cas", 2, 3, [true, null], "x"],
          ["b", "cas", 4, 5, [false, "x>1"], "x"],
        ),
      ),
      "ok",
    );
    assert.equal(
      verdict(
        h(
          ["a", "w", 0, 1, "x"],
          ["a", "cas", 2, 3, [true, null], "x"],
          ["b", "cas", 4, 5, [false, "x"], "x"],
        ),
      ),
      "fail",
    );
    // A cas that "failed" while the register held its expected value is wrong.
    assert.equal(verdict(h(["a", "w", 0, 1, "x"], ["b", "cas", 2, 3, [false, "x"], "x"])), "fail");
  });

  test("indeterminate operations may take effect or not", () => {
    // Never observed: as if it did not happen.
    assert.equal(
      verdict(h(["a", "w", 0, 1, "x"], ["a", "w?", 2, undefined, "y"], ["b", "r", 5, 6, "x"])),
      "ok",
    );
    // Observed much later: it took effect.
    assert.equal(
      verdict(h(["a", "w", 0, 1, "x"], ["a", "w?", 2, undefined, "y"], ["b", "r", 50, 60, "y"])),
      "ok",
    );
    // Observed, then a later read sees the value before it: the write cannot be undone.
    assert.equal(
      verdict(
        h(
          ["a", "w", 0, 1, "x"],
          ["a", "w?", 2, undefined, "y"],
          ["b", "r", 50, 60, "y"],
          ["b", "r", 70, 71, "x"],
        ),
      ),
      "fail",
    );
    // Observed before it was invoked: impossible.
    const early = checkKey("k", h(["b", "r", 0, 1, "y"], ["a", "w?", 2, undefined, "y"]));
    assert.equal(early.verdict, "fail");
    assert.match(early.reason!, /before op 1 that writes it was invoked/);
    // An indeterminate cas whose value was seen succeeded, so its expected value must have been there.
    assert.equal(
      verdict(h(["a", "w", 0, 1, "x"], ["a", "cas?", 2, undefined, "z", "x"], ["b", "r", 10, 11, "z"])),
      "ok",
    );
    assert.equal(
      verdict(h(["a", "w", 0, 1, "w"], ["a", "cas?", 2, undefined, "z", "x"], ["b", "r", 10, 11, "z"])),
      "fail",
    );
  });

  test("a write that certainly failed must not be seen", () => {
    const r = checkKey("k", h(["a", "wfail", 0, 1, "x"], ["b", "r", 2, 3, "x"]));
    assert.equal(r.verdict, "fail");
    assert.match(r.reason!, /no operation wrote|cannot be placed/);
    const r2 = checkKey("k", h(["b", "r", 2, 3, "ghost"]));
    assert.equal(r2.verdict, "fail");
    assert.match(r2.reason!, /a value no operation wrote/);
  });

  test("reports unknown, not ok, when the budget runs out", () => {
    const ops: Op[] = [];
    // Many concurrent writes and reads: a large search space.
    for (let i = 0; i < 30; i++) {
      ops.push({
        id: ops.length,
        client: `w${i}`,
        input: { f: "write", key: "k", value: `v${i}` },
        call: i * 0.01,
        ret: 100,
        status: "ok",
        output: {},
      });
    }
    ops.push({
      id: ops.length,
      client: "r",
      input: { f: "read", key: "k" },
      call: 101,
      ret: 102,
      status: "ok",
      output: { value: "v0" },
    });
    assert.equal(verdict(ops, 50), "unknown");
  });

  test("keys are checked independently; the worst verdict wins", () => {
    const a = h(["a", "w", 0, 1, "x"], ["b", "r", 2, 3, "x"]);
    const b = h(["a", "w", 0, 1, "x"], ["b", "r", 2, 3, null]).map((o) => ({
      ...o,
      id: o.id + 10,
      input: { ...o.input, key: "other" },
    }));
    const r = checkRegisters([...a, ...b]);
    assert.equal(r.verdict, "fail");
    assert.deepEqual(
      r.keys.map((k) => [k.key, k.verdict]),
      [
        ["k", "ok"],
        ["other", "fail"],
      ],
    );
  });

  test("random histories of a real atomic register always pass", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = seededRand(seed);
      let value: string | null = null;
      const ops: Op[] = [];
      // Each operation takes effect at an instant t; its interval [call, ret] is any one around t.
      for (let i = 0, t = 0; i < 60; i++) {
        t += 1 + rnd.intn(3);
        const call = t - rnd.next() * 8;
        const ret = t + rnd.next() * 8;
        const client = `c${rnd.intn(6)}`;
        const roll = rnd.intn(4);
        let op: Op;
        if (roll === 0) {
          op = { id: i, client, input: { f: "read", key: "k" }, call, ret, status: "ok", output: { value } };
        } else if (roll === 1) {
          value = `v${i}`;
          op = { id: i, client, input: { f: "write", key: "k", value }, call, ret, status: "ok", output: {} };
        } else if (roll === 2) {
          const expect = rnd.intn(2) === 0 && value !== null ? value : `v${rnd.intn(i + 1)}`;
          const ok = value !== null && value === expect;
          const before = value;
          if (ok) value = `v${i}`;
          op = {
            id: i,
            client,
            input: { f: "cas", key: "k", expect, value: `v${i}` },
            call,
            ret,
            status: "ok",
            output: ok ? { ok } : { ok, value: before },
          };
        } else {
          // Indeterminate: took effect (or not) at t, the client never learned.
          const took = rnd.intn(2) === 0;
          if (took) value = `v${i}`;
          op = { id: i, client, input: { f: "write", key: "k", value: `v${i}` }, call, status: "info" };
        }
        ops.push(op);
      }
      const r = checkKey("k", ops);
      assert.equal(r.verdict, "ok", `seed ${seed}: ${r.reason}`);
    }
  });
});
