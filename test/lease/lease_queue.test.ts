import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { LeaseQueue } from "../../src/lease/lease_queue.js";

describe("LeaseQueue", () => {
  test("earliest first, one entry per lease, ties by ID", () => {
    const q = new LeaseQueue();
    q.upsert(3n, 30);
    q.upsert(1n, 10);
    q.upsert(2n, 10);
    q.upsert(4n, 5);
    q.upsert(4n, 40); // moved later
    assert.equal(q.size, 4);
    assert.equal(q.timeOf(4n), 40);
    q.remove(3n);
    q.remove(99n);
    assert.deepEqual(q.peek(), { id: 1n, time: 10 });
    const out: bigint[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.id);
    assert.deepEqual(out, [1n, 2n, 4n]);
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
  });

  test("matches a sorted model under random upserts and removals", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("upsert" as const),
        id: fc.bigInt(0n, 20n),
        time: fc.integer({ max: 50 }),
      }),
      fc.record({ kind: fc.constant("remove" as const), id: fc.bigInt(0n, 20n) }),
      fc.record({ kind: fc.constant("pop" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new LeaseQueue();
        const model = new Map<bigint, number>();
        const first = (): [bigint, number] | undefined =>
          [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0];
        for (const o of ops) {
          if (o.kind === "upsert") {
            q.upsert(o.id, o.time);
            model.set(o.id, o.time);
          } else if (o.kind === "remove") {
            q.remove(o.id);
            model.delete(o.id);
          } else {
            const want = first();
            const got = q.pop();
            assert.deepEqual(got && [got.id, got.time], want);
            if (want) model.delete(want[0]);
          }
          assert.equal(q.size, model.size);
          const top = q.peek();
          assert.deepEqual(top && [top.id, top.time], first());
        }
      }),
      { numRuns: 300 },
    );
  });
});
