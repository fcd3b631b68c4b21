// Corruption checks: who is judged corrupt from the members' hashes, the initial check that stops a
// restarted member whose data differs from its peers', and the leader's periodic check raising the
// CORRUPT alarm.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CorruptionChecker,
  CorruptionError,
  type CorruptionHost,
  corruptMembers,
  type MemberHash,
  type PeerHashAnswer,
} from "../../src/server/corruption/index.js";
import { FakeTimers } from "./fake_timers.js";

const at = (id: number, hash: number, compactRevision = 5, hashRevision = 100): MemberHash => ({
  id: BigInt(id),
  hash,
  compactRevision,
  hashRevision,
});

describe("judging hashes", () => {
  it("agreeing members: nobody is corrupt", () => {
    assert.deepEqual(corruptMembers(at(1, 7), [at(2, 7), at(3, 7)]), []);
    assert.deepEqual(corruptMembers(at(1, 7), []), []);
  });

  it("the majority's hash is the truth: a follower, or the leader itself, is the odd one", () => {
    assert.deepEqual(corruptMembers(at(1, 7), [at(2, 7), at(3, 8)]), [3n]);
    assert.deepEqual(corruptMembers(at(1, 9), [at(2, 7), at(3, 7)]), [1n]);
    assert.deepEqual(corruptMembers(at(1, 7), [at(2, 7), at(3, 8), at(4, 7), at(5, 9)]), [3n, 5n]);
  });

  it("without a majority, the members that differ from the leader (etcd's rule)", () => {
    assert.deepEqual(corruptMembers(at(1, 7), [at(2, 8)]), [2n]);
    assert.deepEqual(corruptMembers(at(1, 7), [at(2, 8), at(3, 9)]), [2n, 3n]);
  });

  it("hashes over another compacted range or at another revision are not compared", () => {
    assert.deepEqual(corruptMembers(at(1, 7), [at(2, 8, 6), at(3, 9, 5, 99)]), []);
    assert.deepEqual(corruptMembers(at(1, 7), [at(2, 8, 6), at(3, 9)]), [3n]);
  });
});

function host(
  own: MemberHash,
  answers: Record<string, PeerHashAnswer>,
  opts: { leader?: boolean; timers?: FakeTimers } = {},
) {
  const alarms: bigint[] = [];
  const logs: string[] = [];
  const asked: number[] = [];
  const h: CorruptionHost & { alarms: bigint[]; logs: string[]; asked: number[]; leader: boolean } = {
    alarms,
    logs,
    asked,
    leader: opts.leader ?? true,
    id: () => own.id,
    ownHash: async () => own,
    peers: () => Object.keys(answers).map((id) => ({ id: BigInt(id), urls: [`http://127.0.0.1:1/${id}`] })),
    peerHash: async (id, _urls, revision) => {
      asked.push(revision);
      return answers[String(id)]!;
    },
    raiseCorruptAlarm: async (id) => {
      alarms.push(id);
    },
    isLeader: () => h.leader,
    timers: opts.timers ?? new FakeTimers(),
    info: (_f, m) => logs.push(m),
    warn: (_f, m) => logs.push(m),
    error: (_f, m) => logs.push(m),
  };
  return h;
}

describe("initial corruption check", () => {
  it("passes when peers agree or cannot answer, asking each at this member's revision", async () => {
    const h = host(at(1, 7), {
      2: { ok: at(2, 7) },
      3: { error: "etcdserver: mvcc: required revision is a future revision" },
      4: { error: "connect ECONNREFUSED 127.0.0.1:1" },
      5: { ok: at(5, 8, 6) },
    });
    await new CorruptionChecker(h).initialCheck();
    assert.deepEqual(h.asked, [100, 100, 100, 100]);
    assert.ok(h.logs.includes("cannot fetch hash from slow remote peer"));
    assert.ok(h.logs.includes("found different compact revision values from remote peer"));
    assert.ok(h.logs.includes("initial corruption checking passed; no corruption"));
  });

  it("stops the start when a peer hashes the same range differently", async () => {
    const h = host(at(0xabc, 7), { 2: { ok: at(2, 7) }, 3: { ok: at(3, 8) } });
    await assert.rejects(new CorruptionChecker(h).initialCheck(), (e: Error) => {
      assert.ok(e instanceof CorruptionError);
      assert.equal(e.message, "abc found data inconsistency with peers");
      return true;
    });
    assert.ok(h.logs.includes("found different hash values from remote peer"));
  });
});

describe("periodic corruption check", () => {
  it("runs on the leader only, every interval, and raises the CORRUPT alarm for the corrupt member", async () => {
    const timers = new FakeTimers();
    const h = host(at(1, 7), { 2: { ok: at(2, 7) }, 3: { ok: at(3, 8) } }, { leader: false, timers });
    const c = new CorruptionChecker(h);
    c.startPeriodic(60_000);
    await timers.advance(180_000);
    assert.deepEqual(h.asked, [], "a follower does not check");
    h.leader = true;
    await timers.advance(60_000);
    assert.deepEqual(h.alarms, [3n]);
    assert.ok(h.logs.includes("found data inconsistency; raising the CORRUPT alarm"));
    await timers.advance(60_000);
    assert.deepEqual(h.alarms, [3n, 3n]);
    await c.stop();
    await timers.advance(600_000);
    assert.equal(h.alarms.length, 2, "stopped");
  });

  it("a clean pass raises nothing", async () => {
    const h = host(at(1, 7), { 2: { ok: at(2, 7) }, 3: { error: "timeout" } });
    assert.deepEqual(await new CorruptionChecker(h).periodicCheck(), []);
    assert.ok(h.logs.includes("finished peer corruption check"));
  });
});
