import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type ChangeResult, Changer, restoreConfState } from "../../src/raft/confchange.js";
import { ConfChangeError } from "../../src/raft/errors.js";
import { ProgressState } from "../../src/raft/progress.js";
import { configToConfState, ProgressTracker } from "../../src/raft/tracker.js";
import { type ConfChangeSingle, ConfChangeType, type ConfState, type NodeId } from "../../src/raft/types.js";

const add = (id: number): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId: BigInt(id) });
const addLearner = (id: number): ConfChangeSingle => ({
  type: ConfChangeType.AddLearnerNode,
  nodeId: BigInt(id),
});
const remove = (id: number): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId: BigInt(id) });
const update = (id: number): ConfChangeSingle => ({ type: ConfChangeType.UpdateNode, nodeId: BigInt(id) });

function install(trk: ProgressTracker, r: ChangeResult): void {
  trk.config = r.config;
  trk.progress = r.progress;
}

/** Applies simple changes one at a time (lastIndex 10) and installs each result. */
function build(voters: number[], learners: number[] = [], lastIndex = 10): ProgressTracker {
  const trk = new ProgressTracker(8, 0);
  for (const id of voters) install(trk, new Changer(trk, lastIndex).simple([add(id)]));
  for (const id of learners) install(trk, new Changer(trk, lastIndex).simple([addLearner(id)]));
  return trk;
}

function cs(partial: Partial<ConfState>): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...partial };
}

/** The ConfState of a change result (or tracker), with ids as numbers for readable assertions. */
function described(c: { config: ProgressTracker["config"] }) {
  const s = configToConfState(c.config);
  const n = (xs: NodeId[]) => xs.map(Number);
  return {
    voters: n(s.voters),
    votersOutgoing: n(s.votersOutgoing),
    learners: n(s.learners),
    learnersNext: n(s.learnersNext),
    autoLeave: s.autoLeave,
  };
}

function progressIds(r: { progress: Map<NodeId, unknown> }): number[] {
  return [...r.progress.keys()].map(Number).sort((a, b) => a - b);
}

function learnerFlags(r: ChangeResult | ProgressTracker): Record<number, boolean> {
  const out: Record<number, boolean> = {};
  for (const [id, pr] of r.progress) out[Number(id)] = pr.isLearner;
  return out;
}

/** A deep snapshot of everything a refused change must leave alone. */
function fingerprint(trk: ProgressTracker) {
  return {
    config: described(trk),
    progress: [...trk.progress].map(([id, pr]) => ({
      id,
      pr,
      match: pr.match,
      next: pr.next,
      state: pr.state,
      isLearner: pr.isLearner,
      recentActive: pr.recentActive,
      inflight: pr.inflights.count(),
    })),
  };
}

function assertRefused(trk: ProgressTracker, f: () => unknown, message: string): void {
  const before = fingerprint(trk);
  const config = trk.config;
  const progress = trk.progress;
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ConfChangeError, `expected ConfChangeError, got ${String(e)}`);
    assert.equal(e.message, message);
    assert.equal(e.code, "ErrConfChange");
    return true;
  });
  assert.equal(trk.config, config);
  assert.equal(trk.progress, progress);
  assert.deepEqual(fingerprint(trk), before);
}

describe("Changer.simple", () => {
  test("bootstraps the first voter, probed from max(lastIndex, 1)", () => {
    const trk = new ProgressTracker(8, 64);
    const r = new Changer(trk, 0).simple([add(1)]);
    assert.deepEqual(described(r), {
      voters: [1],
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    });
    const pr = r.progress.get(1n)!;
    assert.equal(pr.next, 1);
    assert.equal(pr.match, 0);
    assert.equal(pr.state, ProgressState.StateProbe);
    assert.equal(pr.isLearner, false);
    assert.equal(pr.recentActive, true);
    assert.equal(pr.inflights.maxCount, 8);
    assert.equal(pr.inflights.maxBytes, 64);
    // The tracker itself is not modified by the Changer.
    assert.equal(trk.progress.size, 0);
    assert.equal(trk.config.voters.incoming.size, 0);

    const r2 = new Changer(trk, 17).simple([add(1)]);
    assert.equal(r2.progress.get(1n)!.next, 17);
  });

  test("adds voters one at a time", () => {
    const trk = build([1, 2]);
    trk.progress.get(1n)!.match = 9;
    const r = new Changer(trk, 12).simple([add(3)]);
    assert.deepEqual(described(r).voters, [1, 2, 3]);
    assert.deepEqual(progressIds(r), [1, 2, 3]);
    assert.equal(r.progress.get(3n)!.next, 12);
    // Existing progress is carried over (as a copy).
    assert.equal(r.progress.get(1n)!.match, 9);
    assert.notEqual(r.progress.get(1n), trk.progress.get(1n));
    r.progress.get(1n)!.match = 1;
    assert.equal(trk.progress.get(1n)!.match, 9);
  });

  test("re-adding an existing voter changes nothing", () => {
    const trk = build([1, 2, 3]);
    trk.progress.get(2n)!.match = 4;
    const r = new Changer(trk, 10).simple([add(2)]);
    assert.deepEqual(described(r).voters, [1, 2, 3]);
    assert.equal(r.progress.get(2n)!.match, 4);
  });

  test("adds and removes learners", () => {
    const trk = build([1]);
    const r = new Changer(trk, 10).simple([addLearner(4)]);
    assert.deepEqual(described(r), {
      voters: [1],
      votersOutgoing: [],
      learners: [4],
      learnersNext: [],
      autoLeave: false,
    });
    assert.deepEqual(learnerFlags(r), { 1: false, 4: true });
    install(trk, r);
    const r2 = new Changer(trk, 10).simple([remove(4)]);
    assert.deepEqual(described(r2).learners, []);
    assert.deepEqual(progressIds(r2), [1]);
  });

  test("several learners and one voter may change at once", () => {
    const trk = build([1, 2]);
    const r = new Changer(trk, 10).simple([addLearner(5), add(3), addLearner(6)]);
    assert.deepEqual(described(r).voters, [1, 2, 3]);
    assert.deepEqual(described(r).learners, [5, 6]);
  });

  test("promotes a learner to voter, keeping its progress", () => {
    const trk = build([1, 2, 3], [4]);
    trk.progress.get(4n)!.match = 7;
    const r = new Changer(trk, 10).simple([add(4)]);
    assert.deepEqual(described(r).voters, [1, 2, 3, 4]);
    assert.deepEqual(described(r).learners, []);
    assert.equal(r.progress.get(4n)!.isLearner, false);
    assert.equal(r.progress.get(4n)!.match, 7);
  });

  test("demotes a voter to learner outside a joint config", () => {
    const trk = build([1, 2, 3]);
    trk.progress.get(3n)!.match = 6;
    const r = new Changer(trk, 10).simple([addLearner(3)]);
    assert.deepEqual(described(r), {
      voters: [1, 2],
      votersOutgoing: [],
      learners: [3],
      learnersNext: [],
      autoLeave: false,
    });
    assert.equal(r.progress.get(3n)!.isLearner, true);
    assert.equal(r.progress.get(3n)!.match, 6);
  });

  test("re-adding an existing learner as learner changes nothing", () => {
    const trk = build([1], [2]);
    const r = new Changer(trk, 10).simple([addLearner(2)]);
    assert.deepEqual(described(r).learners, [2]);
    assert.equal(r.progress.get(2n)!.isLearner, true);
  });

  test("removes a voter and its progress", () => {
    const trk = build([1, 2, 3]);
    const r = new Changer(trk, 10).simple([remove(3)]);
    assert.deepEqual(described(r).voters, [1, 2]);
    assert.deepEqual(progressIds(r), [1, 2]);
  });

  test("removing an unknown node, updating a node and node id 0 are no-ops", () => {
    const trk = build([1, 2, 3], [4]);
    const r = new Changer(trk, 10).simple([remove(9), update(2), add(0), addLearner(0), remove(0)]);
    assert.deepEqual(described(r), described(trk));
    assert.deepEqual(progressIds(r), [1, 2, 3, 4]);
  });

  test("adding and removing the same voter in one change is one net change of zero", () => {
    const trk = build([1, 2, 3]);
    const r = new Changer(trk, 10).simple([add(4), remove(4)]);
    assert.deepEqual(described(r).voters, [1, 2, 3]);
    assert.deepEqual(progressIds(r), [1, 2, 3]);
  });

  test("refuses changing more than one voter", () => {
    const msg = "more than one voter changed without entering joint config";
    const trk = build([1, 2, 3], [5]);
    assertRefused(trk, () => new Changer(trk, 10).simple([add(4), add(6)]), msg);
    assertRefused(trk, () => new Changer(trk, 10).simple([remove(1), add(4)]), msg);
    assertRefused(trk, () => new Changer(trk, 10).simple([remove(1), remove(2)]), msg);
    // Promoting a learner counts as a voter change, too.
    assertRefused(trk, () => new Changer(trk, 10).simple([add(5), remove(3)]), msg);
    // Demoting a voter as well.
    assertRefused(trk, () => new Changer(trk, 10).simple([addLearner(1), addLearner(2)]), msg);
  });

  test("refuses removing all voters", () => {
    const trk = build([1], [2]);
    assertRefused(trk, () => new Changer(trk, 10).simple([remove(1)]), "removed all voters");
    assertRefused(trk, () => new Changer(trk, 10).simple([addLearner(1)]), "removed all voters");
    const empty = new ProgressTracker(8, 0);
    assertRefused(empty, () => new Changer(empty, 10).simple([addLearner(1)]), "removed all voters");
  });

  test("refuses simple changes in a joint config", () => {
    const trk = build([1, 2, 3]);
    install(trk, new Changer(trk, 10).enterJoint(false, [add(4)]));
    const msg = "can't apply simple config change in joint config";
    assertRefused(trk, () => new Changer(trk, 10).simple([add(5)]), msg);
    assertRefused(trk, () => new Changer(trk, 10).simple([]), msg);
  });
});

describe("Changer.enterJoint / leaveJoint", () => {
  test("replaces voters through a joint configuration", () => {
    const trk = build([1, 2, 3]);
    trk.progress.get(1n)!.match = 8;
    const r = new Changer(trk, 20).enterJoint(false, [add(4), remove(1)]);
    assert.deepEqual(described(r), {
      voters: [2, 3, 4],
      votersOutgoing: [1, 2, 3],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    });
    // The removed voter keeps its progress while it still votes in the outgoing half.
    assert.deepEqual(progressIds(r), [1, 2, 3, 4]);
    assert.equal(r.progress.get(1n)!.match, 8);
    assert.equal(r.progress.get(4n)!.next, 20);
    install(trk, r);
    assert.equal(trk.isJoint(), true);

    const l = new Changer(trk, 20).leaveJoint();
    assert.deepEqual(described(l), {
      voters: [2, 3, 4],
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    });
    assert.deepEqual(progressIds(l), [2, 3, 4]);
  });

  test("records autoLeave, and leaving resets it", () => {
    const trk = build([1]);
    const r = new Changer(trk, 10).enterJoint(true, [add(2), add(3)]);
    assert.equal(r.config.autoLeave, true);
    assert.deepEqual(described(r).voters, [1, 2, 3]);
    assert.deepEqual(described(r).votersOutgoing, [1]);
    install(trk, r);
    const l = new Changer(trk, 10).leaveJoint();
    assert.equal(l.config.autoLeave, false);
    assert.deepEqual(described(l).voters, [1, 2, 3]);
  });

  test("an empty joint change just duplicates the voters", () => {
    const trk = build([1, 2]);
    const r = new Changer(trk, 10).enterJoint(false, []);
    assert.deepEqual(described(r).voters, [1, 2]);
    assert.deepEqual(described(r).votersOutgoing, [1, 2]);
  });

  test("demoting a voter during a joint config stages it in learnersNext", () => {
    const trk = build([1, 2, 3]);
    trk.progress.get(3n)!.match = 5;
    const r = new Changer(trk, 10).enterJoint(false, [addLearner(3)]);
    assert.deepEqual(described(r), {
      voters: [1, 2],
      votersOutgoing: [1, 2, 3],
      learners: [],
      learnersNext: [3],
      autoLeave: false,
    });
    // Still a voter of the outgoing half, so not yet a learner.
    assert.equal(r.progress.get(3n)!.isLearner, false);
    assert.equal(r.progress.get(3n)!.match, 5);
    install(trk, r);
    assert.deepEqual(trk.learnerIds(), [3n]);
    assert.deepEqual(trk.voterIds(), [1n, 2n, 3n]);

    const l = new Changer(trk, 10).leaveJoint();
    assert.deepEqual(described(l), {
      voters: [1, 2],
      votersOutgoing: [],
      learners: [3],
      learnersNext: [],
      autoLeave: false,
    });
    assert.equal(l.progress.get(3n)!.isLearner, true);
    assert.equal(l.progress.get(3n)!.match, 5);
    assert.deepEqual(progressIds(l), [1, 2, 3]);
  });

  test("remove then add-learner of an outgoing voter is the same demotion", () => {
    const trk = build([1, 2, 3]);
    const r = new Changer(trk, 10).enterJoint(false, [remove(3), addLearner(3)]);
    assert.deepEqual(described(r).learnersNext, [3]);
    assert.deepEqual(described(r).voters, [1, 2]);
  });

  test("demoting then re-promoting in the same joint change cancels out", () => {
    const trk = build([1, 2, 3]);
    const r = new Changer(trk, 10).enterJoint(false, [addLearner(3), add(3)]);
    assert.deepEqual(described(r).voters, [1, 2, 3]);
    assert.deepEqual(described(r).learnersNext, []);
    assert.equal(r.progress.get(3n)!.isLearner, false);
  });

  test("new learners join the learners directly during a joint config", () => {
    const trk = build([1, 2]);
    const r = new Changer(trk, 10).enterJoint(false, [addLearner(5), add(3)]);
    assert.deepEqual(described(r).learners, [5]);
    assert.deepEqual(described(r).learnersNext, []);
    assert.equal(r.progress.get(5n)!.isLearner, true);
  });

  test("promotes learners in a joint config", () => {
    const trk = build([1, 2, 3], [4, 5]);
    const r = new Changer(trk, 10).enterJoint(false, [add(4), add(5), remove(1)]);
    assert.deepEqual(described(r), {
      voters: [2, 3, 4, 5],
      votersOutgoing: [1, 2, 3],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    });
    assert.deepEqual(learnerFlags(r), { 1: false, 2: false, 3: false, 4: false, 5: false });
  });

  test("leaving keeps a removed outgoing voter that was made a learner", () => {
    const trk = build([1, 2, 3]);
    install(trk, new Changer(trk, 10).enterJoint(false, [remove(2), remove(3), add(4), addLearner(3)]));
    assert.deepEqual(described(trk), {
      voters: [1, 4],
      votersOutgoing: [1, 2, 3],
      learners: [],
      learnersNext: [3],
      autoLeave: false,
    });
    const l = new Changer(trk, 10).leaveJoint();
    assert.deepEqual(progressIds(l), [1, 3, 4]);
    assert.deepEqual(described(l).learners, [3]);
    assert.deepEqual(learnerFlags(l), { 1: false, 3: true, 4: false });
  });

  test("refuses entering a joint config twice", () => {
    const trk = build([1, 2, 3]);
    install(trk, new Changer(trk, 10).enterJoint(false, [addLearner(3)]));
    assertRefused(trk, () => new Changer(trk, 10).enterJoint(false, [add(4)]), "config is already joint");
    assertRefused(trk, () => new Changer(trk, 10).enterJoint(true, []), "config is already joint");
  });

  test("refuses a joint config without voters", () => {
    const empty = new ProgressTracker(8, 0);
    assertRefused(
      empty,
      () => new Changer(empty, 10).enterJoint(false, [add(1)]),
      "can't make a zero-voter config joint",
    );
    const trk = build([1, 2]);
    assertRefused(
      trk,
      () => new Changer(trk, 10).enterJoint(false, [remove(1), remove(2)]),
      "removed all voters",
    );
  });

  test("refuses leaving a non-joint config", () => {
    const trk = build([1, 2, 3], [4]);
    assertRefused(trk, () => new Changer(trk, 10).leaveJoint(), "can't leave a non-joint config");
    const empty = new ProgressTracker(8, 0);
    assertRefused(empty, () => new Changer(empty, 10).leaveJoint(), "can't leave a non-joint config");
  });

  test("a refused joint change leaves the tracker's progress untouched", () => {
    const trk = build([1, 2, 3]);
    const pr = trk.progress.get(2n)!;
    pr.becomeReplicate();
    pr.maybeUpdate(5);
    pr.sentEntries(3, 30);
    install(trk, new Changer(trk, 10).enterJoint(false, [addLearner(2)]));
    // The installed copy carries the replication state, including a cloned inflights window.
    const copy = trk.progress.get(2n)!;
    assert.notEqual(copy, pr);
    assert.equal(copy.state, ProgressState.StateReplicate);
    assert.equal(copy.next, 9);
    assert.equal(copy.inflights.count(), 1);
    assert.notEqual(copy.inflights, pr.inflights);
    assertRefused(trk, () => new Changer(trk, 10).enterJoint(false, [add(4)]), "config is already joint");
    assertRefused(
      trk,
      () => new Changer(trk, 10).simple([add(2)]),
      "can't apply simple config change in joint config",
    );
  });
});

describe("restoreConfState", () => {
  test("restores a simple configuration", () => {
    const trk = new ProgressTracker(8, 0);
    const r = restoreConfState(trk, 7, cs({ voters: [3n, 1n, 2n], learners: [5n] }));
    assert.equal(r.config, trk.config);
    assert.equal(r.progress, trk.progress);
    assert.deepEqual(described(trk), {
      voters: [1, 2, 3],
      votersOutgoing: [],
      learners: [5],
      learnersNext: [],
      autoLeave: false,
    });
    assert.deepEqual(learnerFlags(trk), { 1: false, 2: false, 3: false, 5: true });
    for (const pr of trk.progress.values()) assert.equal(pr.next, 7);
  });

  test("restores a joint configuration with a staged demotion", () => {
    const trk = new ProgressTracker(8, 0);
    const input = cs({
      voters: [1n, 2n, 3n],
      votersOutgoing: [2n, 3n, 4n, 5n],
      learners: [6n],
      learnersNext: [5n],
      autoLeave: true,
    });
    restoreConfState(trk, 0, input);
    assert.deepEqual(configToConfState(trk.config), input);
    assert.deepEqual(learnerFlags(trk), { 1: false, 2: false, 3: false, 4: false, 5: false, 6: true });
    assert.deepEqual(progressIds(trk), [1, 2, 3, 4, 5, 6]);
    for (const pr of trk.progress.values()) assert.equal(pr.next, 1);
  });

  test("restores the empty ConfState to an empty configuration", () => {
    const trk = new ProgressTracker(8, 0);
    restoreConfState(trk, 0, cs({}));
    assert.deepEqual(configToConfState(trk.config), cs({}));
    assert.equal(trk.progress.size, 0);
  });

  test("refuses a ConfState with learners but no voters", () => {
    const trk = new ProgressTracker(8, 0);
    assert.throws(() => restoreConfState(trk, 0, cs({ learners: [1n] })), {
      name: "ConfChangeError",
      message: "removed all voters",
    });
  });

  test("round-trips any valid ConfState (property)", () => {
    const confState = fc
      .record({
        ids: fc.uniqueArray(fc.bigInt({ min: 1n, max: 1000n }), { minLength: 12, maxLength: 12 }),
        nVoters: fc.integer({ min: 1, max: 5 }),
        nLearners: fc.integer({ min: 0, max: 4 }),
        nRemoved: fc.integer({ min: 0, max: 2 }),
        retainedFrac: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        learnersNextFrac: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        autoLeave: fc.boolean(),
      })
      .map((g): ConfState => {
        const voters = g.ids.slice(0, g.nVoters);
        const learners = g.ids.slice(g.nVoters, g.nVoters + g.nLearners);
        const removed = g.ids.slice(g.nVoters + g.nLearners, g.nVoters + g.nLearners + g.nRemoved);
        const retained = voters.slice(0, Math.floor(g.retainedFrac * (g.nVoters + 1)));
        const votersOutgoing = [...retained, ...removed];
        // Only outgoing voters that are not incoming voters can be staged as learners (demotions).
        const learnersNext = removed.slice(0, Math.floor(g.learnersNextFrac * (g.nRemoved + 1)));
        return {
          voters,
          learners,
          votersOutgoing,
          learnersNext,
          autoLeave: votersOutgoing.length > 0 && g.autoLeave,
        };
      });
    const sorted = (xs: NodeId[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    fc.assert(
      fc.property(confState, fc.integer({ min: 0, max: 50 }), (input, lastIndex) => {
        const trk = new ProgressTracker(8, 0);
        restoreConfState(trk, lastIndex, input);
        assert.deepEqual(configToConfState(trk.config), {
          voters: sorted(input.voters),
          learners: sorted(input.learners),
          votersOutgoing: sorted(input.votersOutgoing),
          learnersNext: sorted(input.learnersNext),
          autoLeave: input.autoLeave,
        });
        const all = new Set([
          ...input.voters,
          ...input.votersOutgoing,
          ...input.learners,
          ...input.learnersNext,
        ]);
        assert.deepEqual(sorted([...trk.progress.keys()]), sorted([...all]));
        for (const [id, pr] of trk.progress) {
          assert.equal(pr.isLearner, input.learners.includes(id), `isLearner of ${id}`);
          assert.equal(pr.next, Math.max(lastIndex, 1));
          assert.equal(pr.match, 0);
        }
        // Restoring the produced ConfState again yields the same configuration.
        const again = new ProgressTracker(8, 0);
        restoreConfState(again, lastIndex, configToConfState(trk.config));
        assert.deepEqual(configToConfState(again.config), configToConfState(trk.config));
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
