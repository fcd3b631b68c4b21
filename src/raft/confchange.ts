// Membership changes applied to the tracker's configuration: simple (one voter at a time), entering
// and leaving joint consensus, and restoring a configuration from a ConfState.
//
// Every function works on copies and validates the result before returning it, so a refused change
// leaves the tracker untouched.

import { ConfChangeError } from "./errors.js";
import { Progress } from "./progress.js";
import { cloneTrackerConfig, type ProgressMap, type ProgressTracker, type TrackerConfig } from "./tracker.js";
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfState,
  type NodeId,
} from "./types.js";

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

export class Changer {
  constructor(
    private readonly tracker: ProgressTracker,
    /** The leader's last index: new followers are probed from there. */
    private readonly lastIndex: number,
  ) {}

  /** Enters a joint configuration: the current voters become the outgoing half, then ccs are applied. */
  enterJoint(autoLeave: boolean, ccs: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.outgoing.size > 0) throw new ConfChangeError("config is already joint");
    if (config.voters.incoming.size === 0) throw new ConfChangeError("can't make a zero-voter config joint");
    config.voters.outgoing = new Set(config.voters.incoming);
    this.apply(config, progress, ccs);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  /** Leaves the joint configuration: outgoing-only voters go, learnersNext become learners. */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.outgoing.size === 0) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext.clear();
    for (const id of config.voters.outgoing) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters.outgoing = new Set();
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  /** Applies changes that alter at most one voter, outside of a joint configuration. */
  simple(ccs: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.outgoing.size > 0) {
      throw new ConfChangeError("can't apply simple config change in joint config");
    }
    const before = config.voters.incoming;
    this.apply(config, progress, ccs);
    let diff = 0;
    for (const id of before) if (!config.voters.incoming.has(id)) diff++;
    for (const id of config.voters.incoming) if (!before.has(id)) diff++;
    if (diff > 1) throw new ConfChangeError("more than one voter changed without entering joint config");
    return checkAndReturn(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, ccs: readonly ConfChangeSingle[]): void {
    // Incoming voters are replaced (not mutated) so callers can compare against the old set.
    config.voters.incoming = new Set(config.voters.incoming);
    for (const cc of ccs) {
      if (cc.nodeId === 0n) continue; // etcd uses zero IDs as no-ops
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          remove(config, progress, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${cc.type}`);
      }
    }
    if (config.voters.incoming.size === 0) throw new ConfChangeError("removed all voters");
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.add(id);
  }

  /**
   * Makes id a learner. A voter of the outgoing half cannot become a learner while the joint
   * configuration lasts (it must keep voting there), so it is staged in learnersNext instead.
   */
  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    remove(config, progress, id);
    progress.set(id, pr);
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: NodeId, isLearner: boolean): void {
    if (isLearner) config.learners.add(id);
    else config.voters.incoming.add(id);
    const pr = new Progress(
      Math.max(this.lastIndex, 1),
      this.tracker.maxInflight,
      this.tracker.maxInflightBytes,
      isLearner,
    );
    // A new member counts as active so that check-quorum does not depose the leader before the new
    // member had a chance to answer.
    pr.recentActive = true;
    progress.set(id, pr);
  }

  private checkAndCopy(): ChangeResult {
    const config = cloneTrackerConfig(this.tracker.config);
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) {
      // Copied so that a refused change leaves the live progress untouched.
      const copy = new Progress(
        pr.next,
        this.tracker.maxInflight,
        this.tracker.maxInflightBytes,
        pr.isLearner,
      );
      Object.assign(copy, pr, { inflights: pr.inflights.clone() });
      progress.set(id, copy);
    }
    checkInvariants(config, progress);
    return { config, progress };
  }
}

function remove(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
  if (!progress.has(id)) return;
  config.voters.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  // A voter of the outgoing half stays tracked until the joint configuration is left.
  if (!config.voters.outgoing.has(id)) progress.delete(id);
}

function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  const all = [
    ...config.voters.incoming,
    ...config.voters.outgoing,
    ...config.learners,
    ...config.learnersNext,
  ];
  for (const id of all) {
    if (!progress.has(id)) throw new ConfChangeError(`no progress for ${id}`);
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id))
      throw new ConfChangeError(`${id} is in LearnersNext, but not Voters[1]`);
    if (progress.get(id)!.isLearner) {
      throw new ConfChangeError(`${id} is in LearnersNext, but is already marked as learner`);
    }
  }
  for (const id of config.learners) {
    if (config.voters.outgoing.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[1]`);
    if (config.voters.incoming.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[0]`);
    if (!progress.get(id)!.isLearner)
      throw new ConfChangeError(`${id} is in Learners, but is not marked as learner`);
  }
  if (config.voters.outgoing.size === 0) {
    if (config.learnersNext.size > 0)
      throw new ConfChangeError("cfg.LearnersNext must be nil when not joint");
    if (config.autoLeave) throw new ConfChangeError("AutoLeave must be false when not joint");
  }
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

/** Whether the change enters a joint configuration, and if so whether it is left automatically. */
export function enterJointOf(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    switch (cc.transition) {
      case ConfChangeTransition.Auto:
      case ConfChangeTransition.JointImplicit:
        return { joint: true, autoLeave: true };
      case ConfChangeTransition.JointExplicit:
        return { joint: true, autoLeave: false };
    }
  }
  return { joint: false, autoLeave: false };
}

/** An empty ConfChange is the instruction to leave a joint configuration. */
export function leaveJointOf(cc: ConfChange): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}

/**
 * Rebuilds the configuration described by a ConfState (at start or from a snapshot) by replaying it as
 * changes on an empty tracker: outgoing voters first, then a joint transition to the incoming side.
 */
export function restoreConfState(tracker: ProgressTracker, lastIndex: number, cs: ConfState): ChangeResult {
  const apply = (f: (c: Changer) => ChangeResult): void => {
    const r = f(new Changer(tracker, lastIndex));
    tracker.config = r.config;
    tracker.progress = r.progress;
  };
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((id) => ({
    type: ConfChangeType.AddNode,
    nodeId: id,
  }));
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((id) => ({ type: ConfChangeType.RemoveNode, nodeId: id })),
    ...cs.voters.map((id) => ({ type: ConfChangeType.AddNode, nodeId: id })),
    ...cs.learners.map((id) => ({ type: ConfChangeType.AddLearnerNode, nodeId: id })),
    ...cs.learnersNext.map((id) => ({ type: ConfChangeType.AddLearnerNode, nodeId: id })),
  ];
  if (outgoing.length === 0) {
    for (const cc of incoming) apply((c) => c.simple([cc]));
  } else {
    for (const cc of outgoing) apply((c) => c.simple([cc]));
    apply((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  return { config: tracker.config, progress: tracker.progress };
}
