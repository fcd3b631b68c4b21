import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Bucket } from "../../src/backend/buckets.js";
import type { LeaseCheckpoint } from "../../src/lease/checkpoint.js";
import { decodeLease, leaseKey } from "../../src/lease/codec.js";
import {
  LeaseExistsError,
  LeaseNotFoundError,
  LeaseTTLTooLargeError,
  NotPrimaryError,
} from "../../src/lease/errors.js";
import { MAX_LEASE_TTL, minLeaseTTL } from "../../src/lease/lease.js";
import type { LessorOptions } from "../../src/lease/lessor.js";
import { LeaseNotFoundError as MvccLeaseNotFoundError } from "../../src/mvcc/errors.js";
import { b, FakeClock, get, type Member, openMember, put, str, TempDirs } from "./helpers.js";

const dirs = new TempDirs();
const open: Member[] = [];
after(() => {
  for (const m of open) m.close();
  dirs.cleanup();
});

function member(opts: Partial<LessorOptions> & { clock: FakeClock }, path = dirs.dbPath()): Member {
  const m = openMember(path, opts);
  open.push(m);
  return m;
}

/** Closes a member (and forgets it, so the suite's cleanup does not close it twice). */
function closeMember(m: Member): void {
  m.close();
  open.splice(open.indexOf(m), 1);
}

describe("minimum TTL", () => {
  test("derived from the election timeout as etcd's server does", () => {
    assert.equal(minLeaseTTL(10, 100), 2); // 1.5 s rounded up
    assert.equal(minLeaseTTL(10, 150), 3); // 2.25 s
    assert.equal(minLeaseTTL(5, 100), 1); // floor(7.5) = 7 ticks: 0.7 s
    assert.equal(minLeaseTTL(50, 100), 8); // 7.5 s
  });
});

describe("grant", () => {
  test("raises short TTLs to the minimum, refuses too large, taken and zero IDs", () => {
    const clock = new FakeClock();
    const { lessor, backend } = member({ clock, minTtl: 3 });
    assert.equal(lessor.grant(1n, 1).ttl, 3);
    assert.equal(lessor.grant(2n, -5).ttl, 3);
    assert.equal(lessor.grant(3n, 60).ttl, 60);
    assert.equal(lessor.grant(4n, MAX_LEASE_TTL).ttl, MAX_LEASE_TTL);
    assert.throws(() => lessor.grant(5n, MAX_LEASE_TTL + 1), LeaseTTLTooLargeError);
    assert.throws(() => lessor.grant(5n, MAX_LEASE_TTL + 1), {
      name: "LeaseTTLTooLargeError",
      message: "etcdserver: too large lease TTL",
    });
    assert.throws(() => lessor.grant(3n, 10), LeaseExistsError);
    assert.throws(() => lessor.grant(3n, 10), { message: "etcdserver: lease already exists" });
    assert.throws(() => lessor.grant(0n, 10), LeaseNotFoundError);
    assert.throws(() => lessor.grant(6n, 1.5), RangeError);
    assert.equal(lessor.lookup(5n), undefined);
    assert.equal(lessor.lookup(3n)?.ttl, 60);
    // Persisted as etcd's leasepb.Lease under the 8-byte big-endian ID.
    const v = backend.readTx().get(Bucket.lease, leaseKey(1n));
    assert.deepEqual(decodeLease(v!), { id: 1n, ttl: 3, remainingTtl: 0 });
    assert.deepEqual(
      lessor.leases().map((l) => l.id),
      [1n, 2n, 3n, 4n],
    );
  });

  test("IDs are int64: a uint64 reading names the same lease", () => {
    const clock = new FakeClock();
    const { lessor, kv } = member({ clock });
    lessor.grant((1n << 64n) - 1n, 10);
    assert.ok(lessor.exists(-1n));
    assert.throws(() => lessor.grant(-1n, 10), LeaseExistsError);
    put(kv, "k", (1n << 64n) - 1n);
    assert.equal(lessor.leaseOf(b("k")), -1n);
    assert.throws(() => lessor.grant(1n << 64n, 10), RangeError);
  });
});

describe("expiry", () => {
  test("only the primary runs lease clocks", () => {
    const clock = new FakeClock();
    const expired: bigint[][] = [];
    const { lessor } = member({ clock, onExpired: (ids) => expired.push(ids) });
    lessor.grant(1n, 5);
    clock.advance(3_600_000);
    assert.deepEqual(lessor.expiredLeases(), []);
    assert.deepEqual(lessor.runOnce().expired, []);
    assert.equal(lessor.lookup(1n)?.expiry, Number.POSITIVE_INFINITY);

    lessor.promote();
    assert.equal(lessor.lookup(1n)?.expiry, clock.now() + 5000);
    clock.advance(4999);
    assert.deepEqual(lessor.runOnce().expired, []);
    clock.advance(1);
    assert.deepEqual(lessor.runOnce().expired, [1n]);
    assert.deepEqual(expired, [[1n]]);

    // Granted on the primary: the clock starts at once.
    lessor.grant(2n, 10);
    assert.equal(lessor.lookup(2n)?.expiry, clock.now() + 10_000);

    lessor.demote();
    clock.advance(60_000);
    assert.deepEqual(lessor.runOnce().expired, []);
    assert.equal(lessor.lookup(2n)?.expiry, Number.POSITIVE_INFINITY);
  });

  test("promote extends by the given time", () => {
    const clock = new FakeClock();
    const { lessor } = member({ clock });
    lessor.grant(1n, 10);
    lessor.promote(1000);
    assert.equal(lessor.lookup(1n)?.expiry, clock.now() + 11_000);
  });

  test("expired leases are reported once until the retry interval passes, rate limited", () => {
    const clock = new FakeClock();
    const reports: bigint[][] = [];
    const { lessor } = member({
      clock,
      leaseRevokeRate: 10, // bursts of 5, 10 a second
      expiredLeaseRetryIntervalMs: 3000,
      onExpired: (ids) => reports.push(ids),
    });
    lessor.promote();
    for (let i = 1n; i <= 12n; i++) lessor.grant(i, 5);
    clock.advance(5000);
    assert.deepEqual(lessor.runOnce().expired, [1n, 2n, 3n, 4n, 5n]);
    assert.deepEqual(lessor.runOnce().expired, [], "no tokens left");
    clock.advance(300); // 3 tokens
    assert.deepEqual(lessor.runOnce().expired, [6n, 7n, 8n]);
    clock.advance(1000); // refilled to the burst of 5
    assert.deepEqual(lessor.runOnce().expired, [9n, 10n, 11n, 12n]);
    clock.advance(1000);
    assert.deepEqual(lessor.runOnce().expired, [], "each reported once");
    // The server applies some revokes; the rest are reported again after the retry interval.
    for (const id of [1n, 2n, 3n, 4n, 6n, 7n, 8n, 9n, 10n, 11n, 12n]) lessor.revoke(id);
    clock.advance(1000); // 3 s after lease 5 was reported
    assert.deepEqual(lessor.runOnce().expired, [5n]);
    assert.deepEqual(reports.flat().sort(), [1n, 2n, 3n, 4n, 5n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n].sort());
    // Off the primary nothing is reported; the new primary starts the clock afresh.
    lessor.demote();
    clock.advance(10_000);
    assert.deepEqual(lessor.runOnce().expired, []);
    lessor.promote();
    assert.deepEqual(lessor.runOnce().expired, []);
    clock.advance(5000);
    assert.deepEqual(lessor.runOnce().expired, [5n]);
  });

  test("a renewed lease is not reported", () => {
    const clock = new FakeClock();
    const { lessor } = member({ clock, onExpired: () => {} });
    lessor.promote();
    lessor.grant(1n, 5);
    clock.advance(4000);
    return lessor.renew(1n).then((ttl) => {
      assert.equal(ttl, 5);
      clock.advance(4000);
      assert.deepEqual(lessor.runOnce().expired, []);
      clock.advance(1000);
      assert.deepEqual(lessor.runOnce().expired, [1n]);
    });
  });

  test("promotion spreads leases that would expire together (etcd's rule)", () => {
    const clock = new FakeClock();
    const { lessor } = member({ clock, leaseRevokeRate: 10 }); // at most 7 (3/4 of 10) a second
    for (let i = 1n; i <= 30n; i++) lessor.grant(i, 10);
    lessor.promote();
    const now = clock.now();
    const expiries = lessor
      .leases()
      .map((l) => l.expiry - now)
      .sort((x, y) => x - y);
    assert.deepEqual(expiries.slice(0, 7), Array(7).fill(10_000));
    assert.ok(expiries[7] > 11_000);
    for (const e of expiries) {
      const inWindow = expiries.filter((x) => x >= e && x < e + 1000).length;
      assert.ok(inWindow <= 7, `${inWindow} leases expire within a second of ${e}`);
    }
    assert.ok(expiries[29] < 10_000 + (1000 * 30) / 7 + 1, `last expiry ${expiries[29]}`);

    // Fewer leases than the rate: nothing moves.
    const few = member({ clock, leaseRevokeRate: 100 }).lessor;
    for (let i = 1n; i <= 30n; i++) few.grant(i, 10);
    few.promote();
    assert.ok(few.leases().every((l) => l.expiry === clock.now() + 10_000));
  });
});

describe("revoke", () => {
  test("deletes every attached key in one revision, and the lease", () => {
    const clock = new FakeClock();
    const { lessor, kv, backend } = member({ clock });
    lessor.grant(7n, 30);
    lessor.grant(8n, 30);
    put(kv, "a", 7n);
    put(kv, "c", 7n);
    put(kv, "b", 7n);
    put(kv, "d", 8n);
    put(kv, "e");
    put(kv, "c", 7n, "again");
    assert.deepEqual(lessor.keysOf(7n).map(str), ["a", "b", "c"]);
    assert.equal(lessor.leaseOf(b("d")), 8n);
    assert.equal(lessor.leaseOf(b("e")), 0n);

    const events: number[] = [];
    kv.setCommitListener((evs, rev) => events.push(rev, evs.length));
    const before = kv.rev();
    const res = lessor.revoke(7n);
    assert.deepEqual(res, { deleted: 3, rev: before + 1 });
    assert.equal(kv.rev(), before + 1, "one revision for all the keys");
    assert.deepEqual(events, [before + 1, 3]);
    for (const k of ["a", "b", "c"]) assert.equal(get(kv, k), undefined);
    assert.equal(get(kv, "d"), "v");
    assert.equal(get(kv, "e"), "v");
    assert.equal(lessor.exists(7n), false);
    assert.equal(lessor.leaseOf(b("a")), 0n);
    assert.equal(backend.readTx().get(Bucket.lease, leaseKey(7n)), undefined);
    assert.throws(() => lessor.revoke(7n), { message: "etcdserver: requested lease not found" });
    assert.throws(() => put(kv, "a", 7n), MvccLeaseNotFoundError);

    // A lease without keys is revoked without a revision.
    lessor.grant(9n, 30);
    assert.deepEqual(lessor.revoke(9n), { deleted: 0, rev: undefined });
    assert.equal(kv.rev(), before + 1);
  });

  test("keys moved to another lease or deleted are detached", () => {
    const clock = new FakeClock();
    const { lessor, kv } = member({ clock });
    lessor.grant(1n, 30);
    lessor.grant(2n, 30);
    put(kv, "x", 1n);
    put(kv, "y", 1n);
    put(kv, "z", 1n);
    put(kv, "x", 2n); // moved
    put(kv, "y"); // lease dropped
    kv.deleteRange({ key: b("z") });
    assert.deepEqual(lessor.keysOf(1n), []);
    assert.deepEqual(lessor.keysOf(2n).map(str), ["x"]);
    const before = kv.rev();
    assert.deepEqual(lessor.revoke(1n), { deleted: 0, rev: undefined });
    assert.equal(kv.rev(), before);
    assert.equal(get(kv, "x"), "v");
  });
});

describe("renew", () => {
  test("primary only; restarts the clock from the full TTL", async () => {
    const clock = new FakeClock();
    const { lessor } = member({ clock });
    lessor.grant(1n, 10);
    await assert.rejects(lessor.renew(1n), NotPrimaryError);
    await assert.rejects(lessor.renew(1n), { message: "not a primary lessor" });
    lessor.promote();
    clock.advance(6000);
    assert.equal(lessor.timeToLive(1n).ttl, 4);
    assert.equal(await lessor.renew(1n), 10);
    assert.equal(lessor.timeToLive(1n).ttl, 10);
    await assert.rejects(lessor.renew(2n), LeaseNotFoundError);
  });

  test("an expired lease is not revived: renew waits for its revocation or for demotion", async () => {
    const clock = new FakeClock();
    const { lessor } = member({ clock });
    lessor.promote();
    lessor.grant(1n, 5);
    lessor.grant(2n, 5);
    clock.advance(5000);
    const r1 = lessor.renew(1n);
    const r2 = lessor.renew(2n);
    let settled = false;
    r1.catch(() => {}).finally(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, "still waiting");
    lessor.revoke(1n);
    await assert.rejects(r1, LeaseNotFoundError);
    lessor.demote();
    await assert.rejects(r2, NotPrimaryError);
    assert.ok(lessor.exists(2n));
  });
});

describe("driving", () => {
  test("start() runs the periodic work on a timer until stop()", async () => {
    const clock = new FakeClock();
    const reports: bigint[][] = [];
    const { lessor } = member({ clock, onExpired: (ids) => reports.push(ids) });
    lessor.promote();
    lessor.grant(1n, 5);
    clock.advance(5000);
    lessor.start(5);
    const deadline = Date.now() + 2000;
    while (reports.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    lessor.stop();
    assert.deepEqual(reports, [[1n]]);
  });

  test("a failed checkpoint proposal fails the renew that needed it", async () => {
    const clock = new FakeClock();
    const { lessor } = member({ clock, checkpointIntervalMs: 1000 });
    lessor.setCheckpointer((cps) => lessor.applyCheckpoints(cps));
    lessor.promote();
    lessor.grant(1n, 10);
    clock.advance(2000);
    assert.deepEqual(lessor.runOnce().checkpoints, [{ id: 1n, remainingTtl: 8 }]);
    lessor.setCheckpointer(() => Promise.reject(new Error("proposal dropped")));
    await assert.rejects(lessor.renew(1n), /proposal dropped/);
    assert.equal(lessor.timeToLive(1n).ttl, 8, "not renewed");
  });
});

describe("checkpoints", () => {
  /** A primary and a follower sharing checkpoints the way raft would: applied on both. */
  function pair(clock: FakeClock, extra: Partial<Omit<LessorOptions, "clock">> = {}) {
    const proposed: LeaseCheckpoint[][] = [];
    const leader = member({ clock, checkpointIntervalMs: 1000, ...extra });
    const follower = member({ clock, checkpointIntervalMs: 1000, ...extra });
    const apply = (cps: LeaseCheckpoint[]): void => {
      proposed.push(cps);
      leader.lessor.applyCheckpoints(cps);
      follower.lessor.applyCheckpoints(cps);
    };
    leader.lessor.setCheckpointer(apply);
    follower.lessor.setCheckpointer(apply);
    return { leader, follower, proposed };
  }

  test("a leader change does not reset remaining TTLs", () => {
    const clock = new FakeClock();
    const { leader, follower, proposed } = pair(clock);
    leader.lessor.promote();
    for (const m of [leader, follower]) {
      m.lessor.grant(1n, 10);
      m.lessor.grant(2n, 1); // raised to the minimum, 2 s: expired before its checkpoint is due
    }
    clock.advance(999);
    assert.deepEqual(leader.lessor.runOnce().checkpoints, []);
    clock.advance(3001); // 4 s in
    assert.deepEqual(leader.lessor.runOnce().checkpoints, [{ id: 1n, remainingTtl: 6 }]);
    assert.deepEqual(proposed, [[{ id: 1n, remainingTtl: 6 }]]);
    assert.equal(follower.lessor.lookup(1n)?.remainingTtl, 6);
    const stored = follower.backend.readTx().get(Bucket.lease, leaseKey(1n))!;
    assert.deepEqual(decodeLease(stored), { id: 1n, ttl: 10, remainingTtl: 6 });
    assert.equal(leader.kv.hash(), follower.kv.hash(), "the lease bucket is the same on every member");

    // Leadership moves: the old leader stops, the follower starts from the checkpoint, not from 10 s.
    leader.lessor.demote();
    follower.lessor.promote();
    assert.equal(follower.lessor.timeToLive(1n).ttl, 6);
    // And back again.
    clock.advance(2500);
    follower.lessor.demote();
    leader.lessor.promote();
    assert.equal(leader.lessor.timeToLive(1n).ttl, 6, "the checkpoint is 6 s; the next one had not run");
    clock.advance(1000);
    leader.lessor.runOnce();
    assert.equal(follower.lessor.lookup(1n)?.remainingTtl, 5);
  });

  test("checkpoints are re-scheduled after applying, and stop once the lease is short", () => {
    const clock = new FakeClock();
    const { leader, proposed } = pair(clock);
    leader.lessor.promote();
    leader.lessor.grant(1n, 4);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      leader.lessor.runOnce();
    }
    // At 1 s: 3 left (> 1 s interval: rescheduled); at 2 s: 2 left; at 3 s: 1 left (not > 1: stops).
    assert.deepEqual(
      proposed.flat().map((c) => c.remainingTtl),
      [3, 2, 1],
    );
  });

  test("renewing a checkpointed lease clears the checkpoint", async () => {
    const clock = new FakeClock();
    const { leader, follower, proposed } = pair(clock);
    leader.lessor.promote();
    for (const m of [leader, follower]) m.lessor.grant(1n, 10);
    clock.advance(3000);
    leader.lessor.runOnce();
    assert.equal(follower.lessor.lookup(1n)?.remainingTtl, 7);
    assert.equal(await leader.lessor.renew(1n), 10);
    assert.deepEqual(proposed.at(-1), [{ id: 1n, remainingTtl: 0 }]);
    assert.equal(follower.lessor.lookup(1n)?.remainingTtl, 0);
    leader.lessor.demote();
    follower.lessor.promote();
    assert.equal(follower.lessor.timeToLive(1n).ttl, 10);
    // A renew of a lease without a checkpoint proposes nothing.
    const n = proposed.length;
    assert.equal(await follower.lessor.renew(1n), 10);
    assert.equal(proposed.length, n);
  });

  test("checkpointNow reports every lease at once (before a leadership handover)", () => {
    const clock = new FakeClock();
    const { leader, follower } = pair(clock, { checkpointIntervalMs: 300_000 });
    leader.lessor.promote();
    for (const m of [leader, follower]) {
      m.lessor.grant(1n, 60);
      m.lessor.grant(2n, 600);
      m.lessor.grant(3n, 30);
    }
    clock.advance(10_500);
    assert.deepEqual(leader.lessor.runOnce().checkpoints, [], "the 5 minute interval has not passed");
    assert.deepEqual(leader.lessor.checkpointNow(), [
      { id: 3n, remainingTtl: 20 },
      { id: 1n, remainingTtl: 50 },
      { id: 2n, remainingTtl: 590 },
    ]);
    leader.lessor.demote();
    follower.lessor.promote();
    assert.deepEqual(
      [1n, 2n, 3n].map((id) => follower.lessor.timeToLive(id).ttl),
      [50, 590, 20],
    );
  });

  test("checkpointing can be turned off (etcd's default)", () => {
    const clock = new FakeClock();
    const { leader, follower, proposed } = pair(clock, { checkpointing: false });
    leader.lessor.promote();
    for (const m of [leader, follower]) m.lessor.grant(1n, 10);
    clock.advance(4000);
    leader.lessor.runOnce();
    assert.deepEqual(leader.lessor.checkpointNow(), []);
    assert.deepEqual(proposed, []);
    leader.lessor.demote();
    follower.lessor.promote();
    assert.equal(follower.lessor.timeToLive(1n).ttl, 10, "reset to the full TTL");
  });
});

describe("time to live and listing", () => {
  test("remaining seconds, granted TTL and keys; -1 for missing or expired leases", () => {
    const clock = new FakeClock();
    const { lessor, kv } = member({ clock });
    lessor.grant(1n, 10);
    lessor.grant(2n, 20);
    put(kv, "k2", 1n);
    put(kv, "k1", 1n);
    assert.throws(() => lessor.timeToLive(1n), NotPrimaryError);
    lessor.promote();
    clock.advance(2500);
    const t = lessor.timeToLive(1n, true);
    assert.equal(t.ttl, 7);
    assert.equal(t.grantedTtl, 10);
    assert.deepEqual(t.keys.map(str), ["k1", "k2"]);
    assert.deepEqual(lessor.timeToLive(1n).keys, []);
    assert.deepEqual(lessor.timeToLive(3n), { id: 3n, ttl: -1, grantedTtl: 0, keys: [] });
    clock.advance(7500);
    assert.equal(lessor.timeToLive(1n).ttl, -1);
    assert.deepEqual(
      lessor.leases().map((l) => [l.id, l.keyCount]),
      [
        [1n, 2],
        [2n, 0],
      ],
    );
  });
});

describe("restart", () => {
  test("leases, attached keys and checkpoints survive closing and reopening the backend", () => {
    const clock = new FakeClock();
    const path = dirs.dbPath();
    const m1 = member({ clock, checkpointIntervalMs: 1000 }, path);
    m1.lessor.setCheckpointer((cps) => m1.lessor.applyCheckpoints(cps));
    m1.lessor.promote();
    m1.lessor.grant(1n, 30);
    m1.lessor.grant(2n, 60);
    m1.lessor.grant(3n, 90);
    put(m1.kv, "a", 1n);
    put(m1.kv, "b", 1n);
    put(m1.kv, "c", 2n);
    put(m1.kv, "plain");
    m1.lessor.revoke(3n);
    clock.advance(10_000);
    m1.lessor.runOnce();
    const rev = m1.kv.rev();
    closeMember(m1);

    const m2 = member({ clock }, path);
    assert.deepEqual(
      m2.lessor
        .leases()
        .map((l) => [l.id, l.ttl, l.remainingTtl])
        .sort(),
      [
        [1n, 30, 20],
        [2n, 60, 50],
      ],
    );
    assert.deepEqual(m2.lessor.keysOf(1n).map(str), ["a", "b"]);
    assert.equal(m2.lessor.leaseOf(b("c")), 2n);
    assert.equal(m2.lessor.leaseOf(b("plain")), 0n);
    assert.equal(m2.lessor.exists(3n), false);
    m2.lessor.promote();
    assert.equal(m2.lessor.timeToLive(1n).ttl, 20);
    m2.lessor.revoke(1n);
    assert.equal(m2.kv.rev(), rev + 1);
    assert.equal(get(m2.kv, "a"), undefined);
    assert.equal(get(m2.kv, "c"), "v");
  });

  test("recover reloads from a replaced backend", () => {
    const clock = new FakeClock();
    const src = member({ clock });
    src.lessor.grant(5n, 40);
    put(src.kv, "k", 5n);
    src.backend.forceCommit();
    const dst = member({ clock });
    dst.lessor.grant(6n, 40);
    dst.lessor.promote();
    dst.lessor.recover(src.backend);
    assert.deepEqual(
      dst.lessor.leases().map((l) => l.id),
      [5n],
    );
    assert.ok(dst.lessor.isPrimary);
    assert.equal(dst.lessor.timeToLive(5n).ttl, 40);
    src.kv.setLessor(dst.lessor);
    assert.deepEqual(dst.lessor.keysOf(5n).map(str), ["k"]);
  });
});
