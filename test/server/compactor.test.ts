import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CompactionRetentionError,
  type CompactorHost,
  compactionPolicy,
  PeriodicCompactor,
  RevisionCompactor,
} from "../../src/server/compactor/index.js";
import { FakeTimers } from "./fake_timers.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A member whose revision grows by one a minute; records the compactions asked for. */
function host(timers: FakeTimers, fail?: (rev: number) => Error | undefined) {
  const compacted: { at: number; rev: number }[] = [];
  const h: CompactorHost & { compacted: typeof compacted; logs: string[] } = {
    compacted,
    logs: [],
    rev: () => 1 + Math.floor(timers.now() / MIN),
    compact: async (rev) => {
      const err = fail?.(rev);
      compacted.push({ at: timers.now(), rev });
      if (err) throw err;
    },
    info: (_f, msg) => h.logs.push(msg),
    warn: (_f, msg) => h.logs.push(msg),
    timers,
  };
  return h;
}

describe("auto compaction retention (etcd's reading of the flags)", () => {
  it("reads a bare number as hours (periodic) or revisions (revision), anything else as a duration", () => {
    assert.deepEqual(compactionPolicy("periodic", "1"), { mode: "periodic", periodMs: HOUR });
    assert.deepEqual(compactionPolicy("periodic", "72"), { mode: "periodic", periodMs: 72 * HOUR });
    assert.deepEqual(compactionPolicy("periodic", "10m"), { mode: "periodic", periodMs: 10 * MIN });
    assert.deepEqual(compactionPolicy("periodic", "1.5h"), { mode: "periodic", periodMs: 1.5 * HOUR });
    assert.deepEqual(compactionPolicy("revision", "1000"), { mode: "revision", retain: 1000 });
    assert.deepEqual(compactionPolicy("periodic", "0"), { mode: "off" });
    assert.deepEqual(compactionPolicy("revision", ""), { mode: "off" });
    assert.throws(() => compactionPolicy("periodic", "1x"), CompactionRetentionError);
  });
});

describe("periodic compactor", () => {
  // Records are taken every tenth of the period and one period's worth is kept; a check comes a tenth
  // after the newest record, so after the first compaction the revision used is a tenth older than that.
  it("keeps one hour: no compaction in the first hour, then hourly at the revision of an hour before", async () => {
    const t = new FakeTimers();
    const h = host(t);
    const c = new PeriodicCompactor(HOUR, h);
    c.run();
    c.resume();
    await t.advance(HOUR - 1);
    assert.deepEqual(h.compacted, []);
    await t.advance(1);
    assert.deepEqual(h.compacted, [{ at: HOUR, rev: 1 }]);
    await t.advance(HOUR);
    assert.deepEqual(h.compacted[1], { at: 2 * HOUR, rev: 55 });
    assert.ok(h.logs.includes("completed auto periodic compaction"));
    c.stop();
  });

  it("keeps 24 hours: the first compaction after a day, then one every hour, each a day behind", async () => {
    const t = new FakeTimers();
    const h = host(t);
    const c = new PeriodicCompactor(24 * HOUR, h);
    c.run();
    c.resume();
    await t.advance(24 * HOUR - MIN);
    assert.equal(h.compacted.length, 0);
    await t.advance(3 * HOUR + MIN);
    assert.deepEqual(
      h.compacted.map((x) => [x.at / HOUR, x.rev]),
      [
        [24, 1],
        [25, 55],
        [26, 115],
        [27, 175],
      ],
    );
    c.stop();
  });

  it("a 5-second retention compacts every 5 s (records every 0.5 s)", async () => {
    const t = new FakeTimers();
    const h = host(t);
    const c = new PeriodicCompactor(5000, h);
    c.run();
    c.resume();
    await t.advance(15_000);
    assert.deepEqual(
      h.compacted.map((x) => x.at),
      [5000, 10_000, 15_000],
    );
    c.stop();
  });

  it("does nothing while paused (a follower) and compacts with the window it saw once resumed", async () => {
    const t = new FakeTimers();
    const h = host(t);
    const c = new PeriodicCompactor(HOUR, h);
    c.run();
    await t.advance(3 * HOUR);
    assert.deepEqual(h.compacted, []);
    c.resume();
    await t.advance(6 * MIN);
    assert.equal(h.compacted.length, 1);
    const { at, rev } = h.compacted[0]!;
    assert.equal(at, 3 * HOUR + 6 * MIN);
    assert.equal(rev, 121, "one hour before the newest record (3h)");
    c.stop();
  });

  it("retries a failed compaction a tenth of the period later; 'already compacted' counts as done", async () => {
    const t = new FakeTimers();
    let failures = 2;
    const h = host(t, () => (failures-- > 0 ? new Error("etcdserver: request timed out") : undefined));
    const c = new PeriodicCompactor(HOUR, h);
    c.run();
    c.resume();
    await t.advance(HOUR + 12 * MIN);
    assert.deepEqual(
      h.compacted.map((x) => x.at),
      [HOUR, HOUR + 6 * MIN, HOUR + 12 * MIN],
    );
    assert.equal(h.logs.filter((m) => m === "failed auto periodic compaction").length, 2);

    const t2 = new FakeTimers();
    const h2 = host(t2, () => new Error("etcdserver: mvcc: required revision has been compacted"));
    const c2 = new PeriodicCompactor(HOUR, h2);
    c2.run();
    c2.resume();
    await t2.advance(2 * HOUR);
    assert.deepEqual(
      h2.compacted.map((x) => x.at),
      [HOUR, 2 * HOUR],
    );
    c.stop();
    c2.stop();
  });

  it("stops: no timer left behind, no compaction after stop()", async () => {
    const t = new FakeTimers();
    const h = host(t);
    const c = new PeriodicCompactor(HOUR, h);
    c.run();
    c.resume();
    c.stop();
    await t.advance(5 * HOUR);
    assert.deepEqual(h.compacted, []);
  });
});

describe("revision compactor", () => {
  it("every 5 minutes compacts at the current revision minus the retention, never twice at one revision", async () => {
    const t = new FakeTimers();
    let rev = 3;
    const h = host(t);
    h.rev = () => rev;
    const c = new RevisionCompactor(10, h);
    c.run();
    c.resume();
    await t.advance(5 * MIN);
    assert.deepEqual(h.compacted, [], "3 - 10 is not a revision");
    rev = 25;
    await t.advance(5 * MIN);
    assert.deepEqual(h.compacted, [{ at: 10 * MIN, rev: 15 }]);
    await t.advance(5 * MIN);
    assert.equal(h.compacted.length, 1, "nothing written since: no second compaction at 15");
    rev = 40;
    c.pause();
    await t.advance(5 * MIN);
    assert.equal(h.compacted.length, 1, "paused");
    c.resume();
    await t.advance(5 * MIN);
    assert.deepEqual(h.compacted[1], { at: 25 * MIN, rev: 30 });
    assert.ok(h.logs.includes("completed auto revision compaction"));
    c.stop();
  });
});
