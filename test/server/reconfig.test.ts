// The admission and validation rules of membership changes (src/server/reconfig.ts), case by case.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Member } from "../../src/server/membership.js";
import {
  checkAddVoter,
  checkLearnerReady,
  checkRemove,
  HEALTH_INTERVAL_MS,
  type MembershipView,
  validateChange,
} from "../../src/server/reconfig.js";

const mem = (id: bigint, o: Partial<Member> = {}): Member => ({
  id,
  name: `m${id}`,
  peerUrls: [`http://127.0.0.1:${2000 + Number(id)}`],
  clientUrls: [],
  isLearner: false,
  ...o,
});

const NOW = 1_000_000;
function view(members: Member[], down: bigint[] = [], fresh: bigint[] = []): MembershipView {
  return {
    members,
    self: 1n,
    now: NOW,
    activeSince: (id) =>
      down.includes(id) ? undefined : fresh.includes(id) ? NOW - 100 : NOW - HEALTH_INTERVAL_MS,
  };
}

const msg = (f: () => void) => {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as Error).message;
  }
};

describe("strict reconfiguration checks", () => {
  test("adding a voter needs a started quorum of the larger cluster and every voter connected", () => {
    const three = [mem(1n), mem(2n), mem(3n)];
    assert.equal(
      msg(() => checkAddVoter(view(three))),
      "ok",
    );
    assert.equal(
      msg(() => checkAddVoter(view(three, [3n]))),
      "etcdserver: unhealthy cluster",
    );
    assert.equal(
      msg(() => checkAddVoter(view(three, [], [2n]))),
      "etcdserver: unhealthy cluster",
    );
    // 2 of 3 started: the 4-voter cluster needs 3 started.
    const unstarted = [mem(1n), mem(2n), mem(3n, { name: "" })];
    assert.equal(
      msg(() => checkAddVoter(view(unstarted))),
      "etcdserver: re-configuration failed due to not enough started members",
    );
    // One member alone: 1 started of a future 2 needs 2, unless the newcomer is a running learner.
    assert.match(
      msg(() => checkAddVoter(view([mem(1n)]))),
      /not enough started members/,
    );
    assert.equal(
      msg(() => checkAddVoter(view([mem(1n)]), true)),
      "ok",
    );
    // Learners are not counted as voters.
    assert.equal(
      msg(() => checkAddVoter(view([...three, mem(4n, { isLearner: true })], [4n]))),
      "ok",
    );
  });

  test("removing: a learner or a member that is down always; an up voter only if a quorum stays connected", () => {
    const three = [mem(1n), mem(2n), mem(3n)];
    assert.equal(
      msg(() => checkRemove(view(three), 2n)),
      "ok",
    );
    assert.equal(
      msg(() => checkRemove(view(three, [3n]), 3n)),
      "ok",
    );
    // 3 down: removing the up member 2 would leave 1 and (down) 3, no quorum of connected voters.
    assert.equal(
      msg(() => checkRemove(view(three, [3n]), 2n)),
      "etcdserver: unhealthy cluster",
    );
    assert.equal(
      msg(() => checkRemove(view([...three, mem(4n, { isLearner: true })]), 4n)),
      "ok",
    );
    const unstarted = [mem(1n), mem(2n, { name: "" }), mem(3n, { name: "" })];
    assert.match(
      msg(() => checkRemove(view(unstarted, [2n, 3n]), 1n)),
      /not enough started members/,
    );
  });

  test("a learner is promoted only at 90% of the leader's log", () => {
    assert.equal(
      msg(() => checkLearnerReady(100, 90)),
      "ok",
    );
    assert.equal(
      msg(() => checkLearnerReady(100, 89)),
      "etcdserver: can only promote a learner member which is in sync with leader",
    );
    assert.equal(
      msg(() => checkLearnerReady(100, undefined)),
      "etcdserver: can only promote a learner member",
    );
  });
});

describe("validation of a change against the membership", () => {
  const members = new Map([1n, 2n].map((id) => [id, mem(id)]));
  const removed = new Set([9n]);
  test("add", () => {
    assert.equal(
      msg(() => validateChange(members, removed, { kind: "add", member: mem(3n) }, 1)),
      "ok",
    );
    assert.equal(
      msg(() => validateChange(members, removed, { kind: "add", member: mem(2n) }, 1)),
      "etcdserver: member ID already exist",
    );
    assert.equal(
      msg(() =>
        validateChange(members, removed, { kind: "add", member: mem(3n, { peerUrls: mem(1n).peerUrls }) }, 1),
      ),
      "etcdserver: Peer URLs already exists",
    );
    assert.equal(
      msg(() => validateChange(members, removed, { kind: "add", member: mem(9n) }, 1)),
      "etcdserver: member not found",
    );
    const withLearner = new Map(members).set(5n, mem(5n, { isLearner: true }));
    assert.equal(
      msg(() =>
        validateChange(withLearner, removed, { kind: "add", member: mem(6n, { isLearner: true }) }, 1),
      ),
      "etcdserver: too many learner members in cluster",
    );
    assert.equal(
      msg(() =>
        validateChange(withLearner, removed, { kind: "add", member: mem(6n, { isLearner: true }) }, 2),
      ),
      "ok",
    );
  });
  test("promote, remove, update", () => {
    const withLearner = new Map(members).set(5n, mem(5n, { isLearner: true }));
    assert.equal(
      msg(() => validateChange(withLearner, removed, { kind: "promote", id: 5n }, 1)),
      "ok",
    );
    assert.equal(
      msg(() => validateChange(withLearner, removed, { kind: "promote", id: 1n }, 1)),
      "etcdserver: can only promote a learner member",
    );
    assert.equal(
      msg(() => validateChange(members, removed, { kind: "remove", id: 9n }, 1)),
      "etcdserver: member not found",
    );
    assert.equal(
      msg(() => validateChange(members, removed, { kind: "remove", id: 2n }, 1)),
      "ok",
    );
    assert.equal(
      msg(() => validateChange(members, removed, { kind: "update", id: 2n, peerUrls: mem(1n).peerUrls }, 1)),
      "etcdserver: Peer URLs already exists",
    );
    assert.equal(
      msg(() => validateChange(members, removed, { kind: "update", id: 2n, peerUrls: mem(2n).peerUrls }, 1)),
      "ok",
    );
  });
});
