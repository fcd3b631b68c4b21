// The safety invariants of Raft (Figure 3 of the paper) plus linearizable reads, checked incrementally
// as the cluster runs: each hook is called by a node at the moment the relevant state changes, and
// compares only the new facts against what the run has recorded so far. Any breach throws Violation.
//
// Records, all global to the run and append-only:
// - leaderOf[term]: the one node that became leader in that term (Election Safety).
// - logs[index][term]: the content of every entry ever persisted with that index and term, and the term
//   of the entry before it in the log that held it (Log Matching, by induction on the index: equal
//   (index, term) implies equal content and equal predecessor (index-1, term')).
// - committedTerm[index]: the term of the entry a leader committed there; commitTerm[index]: the lowest
//   term of a leader whose commit index covered it. Leaders record commits before sending the commit
//   index anywhere, so every other commit or apply must find its index recorded (Leader Completeness,
//   and "only committed entries are applied").
// - applied[index]: the entry applied there first, and the state machine hash after it. Every later
//   apply at that index, on any node, must match (State Machine Safety); a hash covers the whole prefix.
// - maxAcked: the highest index of a write acknowledged to its client. A read issued afterwards must
//   be served at a read index at least as high (linearizable ReadIndex).

import { type Entry, EntryType, type NodeId, type Snapshot } from "../raft/types.js";
import { asciiString } from "./node.js";

export class Violation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = "Violation";
  }
}

interface LogRecord {
  type: EntryType;
  data: Uint8Array;
  /** Term of the entry at index-1 in the log that held this one; undefined when that was compacted. */
  prevTerm: number | undefined;
  node: NodeId;
}

interface AppliedRecord {
  term: number;
  type: EntryType;
  data: Uint8Array;
  hash: number;
  node: NodeId;
}

export interface CheckerStats {
  leaders: number;
  applies: number;
  readsServed: number;
  acked: number;
  maxCommit: number;
}

/** The view of a node the checker needs: its ID and the log on its disk. */
export interface CheckedNode {
  readonly id: NodeId;
  readonly storage: {
    term(i: number): number;
    firstIndex(): number;
    lastIndex(): number;
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function show(data: Uint8Array, type: EntryType): string {
  if (type === EntryType.ConfChange) return `<confchange ${data.length}B>`;
  return data.length === 0 ? "<empty>" : JSON.stringify(asciiString(data));
}

/** Term at i in n's log, or undefined when i is compacted or beyond the log. */
function termAt(n: CheckedNode, i: number): number | undefined {
  if (i < n.storage.firstIndex() - 1 || i > n.storage.lastIndex()) return undefined;
  return n.storage.term(i);
}

export class Checker {
  readonly stats: CheckerStats = { leaders: 0, applies: 0, readsServed: 0, acked: 0, maxCommit: 0 };
  /**
   * Also check four rules of the algorithm that are not themselves safety properties but whose breach
   * leads to one: a node grants its vote to one candidate per term (§5.2); a leader advances its commit
   * index only onto an entry of its own term (§5.4.2); a follower's commit index never passes what some
   * leader committed; only committed entries are applied. With strict off only the safety properties
   * are checked (Election Safety, Log Matching, Leader Completeness, State Machine Safety, linearizable
   * reads), so a bug is caught by its consequences alone; the mutation test measures both.
   */
  strict = true;
  private readonly leaderOf = new Map<number, NodeId>();
  private readonly logs: (Map<number, LogRecord> | undefined)[] = [];
  private readonly committedTerm: number[] = [];
  private readonly commitTerm: number[] = [];
  private readonly applied: (AppliedRecord | undefined)[] = [];
  private readonly appliedAt = new Map<string, number>();
  private readonly lastApplied = new Map<NodeId, number>();
  private maxAcked = 0;
  /** voter -> term -> the candidate it granted its vote to. */
  private readonly votes = new Map<NodeId, Map<number, NodeId>>();
  /** Highest index a leader committed: committedTerm and commitTerm are set for all of [1, it]. */
  private maxLeaderCommit = 0;

  /** Election Safety and Leader Completeness, when n has become leader of `term`. */
  onLeader(n: CheckedNode, term: number): void {
    const prev = this.leaderOf.get(term);
    if (prev !== undefined && prev !== n.id) {
      throw new Violation("Election Safety", `nodes ${prev} and ${n.id} both became leader of term ${term}`);
    }
    if (prev === undefined) {
      this.leaderOf.set(term, n.id);
      this.stats.leaders++;
    }
    // Commit terms never decrease along the log (a commit covers a prefix), so the entries committed in
    // terms before `term` are a prefix [1, k]; by Log Matching it suffices to find entry k in the log.
    let k = this.maxLeaderCommit;
    while (k > 0 && this.commitTerm[k]! >= term) k--;
    if (k === 0 || k < n.storage.firstIndex() - 1) return; // below n's snapshot: covered by its hash check
    const t = termAt(n, k);
    if (t !== this.committedTerm[k]) {
      throw new Violation(
        "Leader Completeness",
        `node ${n.id} became leader of term ${term} but its log has ${t === undefined ? "no entry" : `term ${t}`} ` +
          `at index ${k}, committed with term ${this.committedTerm[k]} in term ${this.commitTerm[k]}`,
      );
    }
  }

  /** Strict: a node grants its vote to at most one candidate per term (§5.2), even across restarts. */
  onVoteGranted(voter: NodeId, candidate: NodeId, term: number): void {
    if (!this.strict) return;
    let votes = this.votes.get(voter);
    if (votes === undefined) this.votes.set(voter, (votes = new Map()));
    const prev = votes.get(term);
    if (prev === undefined) votes.set(term, candidate);
    else if (prev !== candidate) {
      throw new Violation("Vote", `node ${voter} voted for ${prev} and for ${candidate} in term ${term}`);
    }
  }

  /** Log Matching, for entries just persisted by n; prevTerm is the term before the first of them. */
  onAppend(n: CheckedNode, entries: readonly Entry[], prevTerm: number | undefined): void {
    let pt = prevTerm;
    for (const e of entries) {
      if (pt !== undefined && e.term < pt) {
        throw new Violation(
          "Log Matching",
          `node ${n.id} appended term ${e.term} at ${e.index} after term ${pt}`,
        );
      }
      let byTerm = this.logs[e.index];
      if (byTerm === undefined) this.logs[e.index] = byTerm = new Map();
      const r = byTerm.get(e.term);
      if (r === undefined) {
        byTerm.set(e.term, { type: e.type, data: e.data, prevTerm: pt, node: n.id });
      } else {
        if (r.type !== e.type || !bytesEqual(r.data, e.data)) {
          throw new Violation(
            "Log Matching",
            `entry (index ${e.index}, term ${e.term}) is ${show(r.data, r.type)} on node ${r.node} ` +
              `but ${show(e.data, e.type)} on node ${n.id}`,
          );
        }
        if (pt !== undefined) {
          if (r.prevTerm === undefined) r.prevTerm = pt;
          else if (r.prevTerm !== pt) {
            throw new Violation(
              "Log Matching",
              `entry (index ${e.index}, term ${e.term}) follows term ${r.prevTerm} on node ${r.node} ` +
                `but term ${pt} on node ${n.id}`,
            );
          }
        }
      }
      pt = e.term;
    }
  }

  /**
   * n's persisted commit index rose from `from` to `to`. As leader (leaderTerm set) it records what it
   * committed; otherwise it must have learnt the commit index from a leader, who recorded it first.
   */
  onCommit(n: CheckedNode, from: number, to: number, leaderTerm: number | undefined): void {
    if (this.strict && leaderTerm !== undefined && termAt(n, to) !== leaderTerm) {
      throw new Violation(
        "Commit",
        `leader ${n.id} of term ${leaderTerm} advanced its commit index to ${to}, an entry of term ${termAt(n, to)}`,
      );
    }
    for (let i = from + 1; i <= to; i++) {
      const t = termAt(n, i);
      const known = this.committedTerm[i];
      if (leaderTerm !== undefined) {
        if (t === undefined)
          throw new Violation("Leader Completeness", `leader ${n.id} committed ${i} beyond its log`);
        if (known === undefined) {
          this.committedTerm[i] = t;
          this.commitTerm[i] = leaderTerm;
        } else if (leaderTerm < this.commitTerm[i]!) {
          this.commitTerm[i] = leaderTerm;
        }
      } else if (!this.strict) {
        continue;
      } else if (known === undefined) {
        throw new Violation(
          "Commit",
          `node ${n.id} set its commit index to ${to} but no leader committed ${i}`,
        );
      }
      if (t !== undefined && t !== this.committedTerm[i]) {
        throw new Violation(
          "Leader Completeness",
          `node ${n.id} ${leaderTerm === undefined ? "" : `as leader of term ${leaderTerm} `}committed term ${t} ` +
            `at index ${i}, where term ${this.committedTerm[i]} was committed in term ${this.commitTerm[i]}`,
        );
      }
    }
    if (to > this.stats.maxCommit) this.stats.maxCommit = to;
    if (leaderTerm !== undefined && to > this.maxLeaderCommit) this.maxLeaderCommit = to;
  }

  /** n's state machine was replaced by a snapshot whose hash is `hash`. */
  onRestore(n: CheckedNode, snap: Snapshot, hash: number): void {
    const i = snap.metadata.index;
    this.lastApplied.set(n.id, i);
    if (i === 0) return;
    const r = this.applied[i];
    if (r === undefined || r.hash !== hash || r.term !== snap.metadata.term) {
      throw new Violation(
        "State Machine Safety",
        `node ${n.id} restored a snapshot at index ${i} term ${snap.metadata.term} that matches no applied state`,
      );
    }
  }

  /** State Machine Safety: n applied e, reaching state `hash`. */
  onApply(n: CheckedNode, e: Entry, hash: number): void {
    this.stats.applies++;
    const i = e.index;
    const last = this.lastApplied.get(n.id) ?? 0;
    if (i !== last + 1) {
      throw new Violation("State Machine Safety", `node ${n.id} applied index ${i} right after ${last}`);
    }
    this.lastApplied.set(n.id, i);
    if (this.strict) {
      if (this.committedTerm[i] === undefined) {
        throw new Violation(
          "State Machine Safety",
          `node ${n.id} applied index ${i} before it was committed`,
        );
      }
      if (this.committedTerm[i] !== e.term) {
        throw new Violation(
          "State Machine Safety",
          `node ${n.id} applied term ${e.term} at ${i} where term ${this.committedTerm[i]} was committed`,
        );
      }
    }
    const r = this.applied[i];
    if (r === undefined) {
      this.applied[i] = { term: e.term, type: e.type, data: e.data, hash, node: n.id };
      if (e.type === EntryType.Normal && e.data.length > 0) {
        const p = asciiString(e.data);
        const at = this.appliedAt.get(p);
        if (at !== undefined) {
          throw new Violation(
            "State Machine Safety",
            `proposal ${JSON.stringify(p)} applied at ${at} and at ${i}`,
          );
        }
        this.appliedAt.set(p, i);
      }
      return;
    }
    if (r.term !== e.term || r.type !== e.type || !bytesEqual(r.data, e.data)) {
      throw new Violation(
        "State Machine Safety",
        `index ${i}: node ${r.node} applied ${show(r.data, r.type)} (term ${r.term}), ` +
          `node ${n.id} applied ${show(e.data, e.type)} (term ${e.term})`,
      );
    }
    if (r.hash !== hash) {
      throw new Violation(
        "State Machine Safety",
        `nodes ${r.node} and ${n.id} reach different states at ${i}`,
      );
    }
  }

  onAck(index: number): void {
    this.stats.acked++;
    if (index > this.maxAcked) this.maxAcked = index;
  }

  /** The read index a read issued now must reach: every acknowledged write is at or below it. */
  readRequirement(): number {
    return this.maxAcked;
  }

  onReadServed(n: CheckedNode, readIndex: number, required: number): void {
    this.stats.readsServed++;
    if (readIndex < required) {
      throw new Violation(
        "Linearizable Read",
        `node ${n.id} served a read at index ${readIndex}, but index ${required} was acknowledged before it was issued`,
      );
    }
  }
}
