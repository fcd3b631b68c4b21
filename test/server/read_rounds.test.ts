// Linearizable read rounds: batching, the answer that ends a round, and what happens when the ReadIndex
// request is lost (found by the robustness harness: a follower cut off from the leader kept a lost
// request and its reads waited for the 7 s timeout after the partition healed; etcd re-sends every
// 500 ms).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ReadState } from "../../src/raft/rawnode.js";
import { ReadRounds } from "../../src/server/read_rounds.js";
import { FakeTimers } from "./fake_timers.js";

function setup(timeoutMs = 7000) {
  const timers = new FakeTimers();
  const sent: bigint[] = [];
  const logs: string[] = [];
  let applied = 0;
  const pending: { index: number; f: () => void }[] = [];
  let next = 100n;
  const rounds = new ReadRounds(
    {
      nextCtx: () => next++,
      sendReadIndex: (ctx) => sent.push(ctx.readBigUInt64BE(0)),
      whenApplied: (index, f) => (applied >= index ? f() : pending.push({ index, f })),
      timeoutError: () => new Error("etcdserver: request timed out"),
      timers,
      warn: (_f, m) => logs.push(m),
    },
    timeoutMs,
  );
  const answer = (ctx: bigint, index: number): ReadState[] => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(ctx);
    return [{ index, requestCtx: b }];
  };
  const apply = (i: number) => {
    applied = i;
    for (const p of pending.splice(0)) {
      if (p.index <= i) p.f();
      else pending.push(p);
    }
  };
  return { timers, sent, logs, rounds, answer, apply };
}

/** Settles a promise into a state the test can look at without awaiting it. */
function track(p: Promise<void>) {
  const s = { done: false, err: undefined as unknown };
  p.then(
    () => {
      s.done = true;
    },
    (e: unknown) => {
      s.err = e;
    },
  );
  return s;
}

const flush = () => new Promise((r) => setImmediate(r));

describe("read rounds", () => {
  it("batch: reads arriving during a round share the next one; each resolves once its index is applied", async () => {
    const { sent, rounds, answer, apply } = setup();
    const a = track(rounds.notify());
    const b = track(rounds.notify());
    const c = track(rounds.notify());
    assert.deepEqual(sent, [100n], "a's round; b and c wait for the next");
    rounds.onReadStates(answer(100n, 5));
    assert.deepEqual(sent, [100n, 101n], "one round for b and c, at once");
    await flush();
    assert.equal(a.done, false, "not before index 5 is applied");
    apply(5);
    await flush();
    assert.equal(a.done, true);
    assert.equal(b.done || c.done, false);
    rounds.onReadStates(answer(101n, 5));
    await flush();
    assert.equal(b.done && c.done, true);
  });

  it("a lost request is sent again every 500 ms with the same context; an answer to any copy ends the round", async () => {
    const { timers, sent, logs, rounds, answer, apply } = setup();
    apply(9);
    const r = track(rounds.notify());
    await timers.advance(499);
    assert.deepEqual(sent, [100n]);
    await timers.advance(1);
    await timers.advance(500);
    assert.deepEqual(sent, [100n, 100n, 100n]);
    assert.equal(
      logs.filter((l) => l === "waiting for ReadIndex response took too long, retrying").length,
      2,
    );
    rounds.onReadStates(answer(100n, 9));
    await flush();
    assert.equal(r.done, true, "answered 1 s after the request, not at the 7 s timeout");
    await timers.advance(10_000);
    assert.equal(sent.length, 3, "no retries after the round ended");
  });

  it("an unanswered round fails its reads at the timeout; later reads get a new round", async () => {
    const { timers, sent, rounds } = setup(2000);
    const r = track(rounds.notify());
    await timers.advance(1999);
    await flush();
    assert.equal(r.err, undefined);
    const later = track(rounds.notify());
    await timers.advance(1);
    await flush();
    assert.match(String(r.err), /request timed out/);
    assert.equal(later.err, undefined);
    assert.equal(sent.at(-1), 101n, "the waiting read went out in a new round");
  });

  it("a leader change asks again at once under a new context; stop fails everything", async () => {
    const { sent, rounds } = setup();
    const r = track(rounds.notify());
    rounds.restart();
    assert.deepEqual(sent, [100n, 101n]);
    rounds.failAll(new Error("etcdserver: server stopped"));
    await flush();
    assert.match(String(r.err), /server stopped/);
  });
});
