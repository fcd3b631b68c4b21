// The leader's bookkeeping of the configuration and every member's progress and votes.
//
// Invariants: `progress` has exactly one entry per ID in voters.incoming ∪ voters.outgoing ∪ learners ∪
// learnersNext. learners ∩ voters = ∅. learnersNext ⊆ voters.outgoing (they are demoted on leaving the
// joint configuration). A node is a learner in progress iff it is in learners or learnersNext.

import type { Progress } from "./progress.js";
import {
  type JointConfig,
  jointCommittedIndex,
  jointIds,
  jointVoteResult,
  sortedIds,
  VoteResult,
} from "./quorum.js";
import type { ConfState, NodeId } from "./types.js";

export interface TrackerConfig {
  voters: JointConfig;
  /** Leave the joint configuration automatically once it is committed. */
  autoLeave: boolean;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
}

export function emptyTrackerConfig(): TrackerConfig {
  return {
    voters: { incoming: new Set(), outgoing: new Set() },
    autoLeave: false,
    learners: new Set(),
    learnersNext: new Set(),
  };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: { incoming: new Set(c.voters.incoming), outgoing: new Set(c.voters.outgoing) },
    autoLeave: c.autoLeave,
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
  };
}

export function configToConfState(c: TrackerConfig): ConfState {
  return {
    voters: sortedIds(c.voters.incoming),
    learners: sortedIds(c.learners),
    votersOutgoing: sortedIds(c.voters.outgoing),
    learnersNext: sortedIds(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

export function describeConfig(c: TrackerConfig): string {
  const ids = (s: Set<NodeId>) => sortedIds(s).join(" ");
  let out = `voters=(${ids(c.voters.incoming)})`;
  if (c.voters.outgoing.size > 0) out += `&&(${ids(c.voters.outgoing)})`;
  if (c.learners.size > 0) out += ` learners=(${ids(c.learners)})`;
  if (c.learnersNext.size > 0) out += ` learners_next=(${ids(c.learnersNext)})`;
  if (c.autoLeave) out += " autoleave";
  return out;
}

export type ProgressMap = Map<NodeId, Progress>;

export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  isJoint(): boolean {
    return this.config.voters.outgoing.size > 0;
  }

  /** Whether `id` can vote (in either half of the joint configuration). */
  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  /** True iff exactly this node is the only voter (fast path: commit without any follower). */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The largest index replicated on a quorum of voters. */
  committed(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  voterIds(): NodeId[] {
    return sortedIds(jointIds(this.config.voters));
  }

  learnerIds(): NodeId[] {
    return sortedIds(new Set([...this.config.learners, ...this.config.learnersNext]));
  }

  /** Calls f for every tracked node in ascending ID order, so message order is deterministic. */
  visit(f: (id: NodeId, pr: Progress) => void): void {
    const ids = sortedIds(this.progress.keys());
    for (const id of ids) f(id, this.progress.get(id)!);
  }

  /** Whether a quorum of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) if (!pr.isLearner) votes.set(id, pr.recentActive);
    return jointVoteResult(this.config.voters, votes) === VoteResult.VoteWon;
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; the first vote of a node in an election counts, later ones are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }
}
