import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Backoff } from "../../src/transport/backoff.js";

describe("backoff", () => {
  test("doubles from the initial delay up to the cap", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 5000, jitter: 0 });
    const got = Array.from({ length: 9 }, () => b.next());
    assert.deepEqual(got, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    assert.equal(b.attempts, 9);
  });

  test("reset starts over", () => {
    const b = new Backoff({ initialMs: 50, maxMs: 1000, jitter: 0 });
    b.next();
    b.next();
    b.reset();
    assert.equal(b.next(), 50);
  });

  test("jitter comes from the injected random and stays within bounds", () => {
    const lo = new Backoff({ initialMs: 100, jitter: 0.2 }, () => 0);
    const hi = new Backoff({ initialMs: 100, jitter: 0.2 }, () => 0.999999);
    const mid = new Backoff({ initialMs: 100, jitter: 0.2 }, () => 0.5);
    assert.deepEqual([lo.next(), lo.next()], [80, 160]);
    assert.deepEqual([hi.next(), hi.next()], [120, 240]);
    assert.deepEqual([mid.next(), mid.next()], [100, 200]);
  });

  test("the same random sequence gives the same delays", () => {
    const seq = () => {
      let x = 0.1;
      return () => (x = (x * 9301 + 0.49297) % 1);
    };
    const a = new Backoff({}, seq());
    const b = new Backoff({}, seq());
    for (let i = 0; i < 20; i++) assert.equal(a.next(), b.next());
  });

  test("bad options are refused", () => {
    assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
    assert.throws(() => new Backoff({ jitter: 1 }), RangeError);
  });
});
