// Quorum math for simple majorities and joint configurations.
//
// A joint configuration is two majority configurations (incoming, outgoing); a decision needs a
// majority in both. An empty majority configuration agrees to everything, so a joint configuration
// with an empty outgoing half behaves exactly like its incoming half.

import type { NodeId } from "./types.js";

export enum VoteResult {
  /** Not enough votes yet, but the outcome can still go either way. */
  VotePending = 1,
  VoteLost = 2,
  VoteWon = 3,
}

/** Largest safe number: the committed index of an empty configuration (it never limits the other half). */
const infinity = Number.MAX_SAFE_INTEGER;

export type MajorityConfig = ReadonlySet<NodeId>;

/**
 * The largest index acknowledged by a majority: sort the voters' match indexes descending and take the
 * (n/2+1)-th. Voters missing from `matched` count as 0.
 */
export function majorityCommittedIndex(
  c: MajorityConfig,
  matched: (id: NodeId) => number | undefined,
): number {
  const n = c.size;
  if (n === 0) return infinity;
  if (n === 1) {
    for (const id of c) return matched(id) ?? 0;
  }
  const srt: number[] = [];
  for (const id of c) srt.push(matched(id) ?? 0);
  srt.sort((a, b) => a - b);
  // srt ascending: the value at position n - (n/2+1) is held by at least a majority.
  return srt[n - (Math.floor(n / 2) + 1)]!;
}

export function majorityVoteResult(c: MajorityConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (c.size === 0) return VoteResult.VoteWon;
  let yes = 0;
  let missing = 0;
  for (const id of c) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(c.size / 2) + 1;
  if (yes >= q) return VoteResult.VoteWon;
  if (yes + missing >= q) return VoteResult.VotePending;
  return VoteResult.VoteLost;
}

export interface JointConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
}

export function jointIds(c: JointConfig): Set<NodeId> {
  const s = new Set(c.incoming);
  for (const id of c.outgoing) s.add(id);
  return s;
}

export function jointCommittedIndex(c: JointConfig, matched: (id: NodeId) => number | undefined): number {
  return Math.min(majorityCommittedIndex(c.incoming, matched), majorityCommittedIndex(c.outgoing, matched));
}

export function jointVoteResult(c: JointConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const r1 = majorityVoteResult(c.incoming, votes);
  const r2 = majorityVoteResult(c.outgoing, votes);
  if (r1 === r2) return r1;
  if (r1 === VoteResult.VoteLost || r2 === VoteResult.VoteLost) return VoteResult.VoteLost;
  return VoteResult.VotePending;
}

export function sortedIds(s: Iterable<NodeId>): NodeId[] {
  return [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
