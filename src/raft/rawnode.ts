// RawNode: the application's handle on one Raft node. The application drives it with tick(), step()
// and the proposal methods, and runs the Ready loop:
//
//   while (rn.hasReady()) {
//     const rd = rn.ready();
//     persist rd.snapshot, rd.entries and rd.hardState (fsync if rd.mustSync);
//     send rd.messages;               // a leader may send MsgApp/MsgSnap/MsgHeartbeat before persisting
//     apply rd.committedEntries;      // ConfChange entries through applyConfChange
//     rn.advance(rd);
//   }
//
// Every ready() must be followed by advance() before the next ready().

import { encodeConfChange } from "./codec.js";
import type { Config } from "./config.js";
import { ProposalDroppedError, StepLocalMsgError, StepPeerNotFoundError } from "./errors.js";
import { ProgressState } from "./progress.js";
import { Raft, type ReadState, type SoftState, StateType } from "./raft.js";
import { raftTestBugs } from "./testing.js";
import { configToConfState } from "./tracker.js";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  type Message,
  MessageType,
  msg,
  type NodeId,
  type Snapshot,
} from "./types.js";

export { type ReadState, type SoftState, StateType };

export interface Ready {
  /** Set only when leader or role changed since the previous Ready. */
  softState?: SoftState;
  /** Set only when changed; must be persisted before messages are sent. */
  hardState?: HardState;
  /** ReadIndex results: serve each read once the applied index reaches its index. */
  readStates: ReadState[];
  /** Entries to append to stable storage before messages are sent. */
  entries: Entry[];
  /** A snapshot to persist and apply to the state machine. */
  snapshot?: Snapshot;
  /** Entries to apply, in order; they are already durable on a quorum. */
  committedEntries: Entry[];
  /** Messages to send once entries, hard state and snapshot are durable. */
  messages: Message[];
  /** Whether the writes of this Ready must be fsync'd (a term, vote or entry changed). */
  mustSync: boolean;
}

export type ProgressStateName = "StateProbe" | "StateReplicate" | "StateSnapshot";

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressStateName;
  isLearner: boolean;
  recentActive: boolean;
  paused: boolean;
  pendingSnapshot: number;
  inflight: number;
}

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  lead: NodeId;
  raftState: StateType;
  applied: number;
  leadTransferee: NodeId;
  /** Followers' progress as the leader sees it; empty unless leader. */
  progress: Map<NodeId, ProgressStatus>;
  config: ConfState;
  lastIndex: number;
  firstIndex: number;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (as if the election timeout elapsed). */
  campaign(): void {
    this.raft.step(msg({ type: MessageType.MsgHup, from: this.raft.id }));
  }

  /** Proposes data to be appended to the log. Throws ProposalDroppedError when it cannot be. */
  propose(data: Uint8Array): void {
    this.raft.step(
      msg({
        type: MessageType.MsgProp,
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.Normal, data }],
      }),
    );
  }

  proposeConfChange(cc: ConfChange): void {
    const data = encodeConfChange(cc);
    this.raft.step(
      msg({
        type: MessageType.MsgProp,
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data }],
      }),
    );
  }

  /** Applies a committed conf change (decoded from its entry) and returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Delivers a message from a peer. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new StepLocalMsgError();
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) throw new StepPeerNotFoundError();
    try {
      this.raft.step(m);
    } catch (e) {
      // A proposal forwarded by a follower that this node cannot take is dropped: the proposer learns
      // through its own timeout, as with any lost message.
      if (m.type === MessageType.MsgProp && e instanceof ProposalDroppedError) return;
      throw e;
    }
  }

  transferLeader(transferee: NodeId): void {
    this.raft.step(msg({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /** Requests a linearizable read point; the answer is a ReadState with the same ctx in a later Ready. */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(
      msg({
        type: MessageType.MsgReadIndex,
        entries: [{ term: 0, index: 0, type: EntryType.Normal, data: ctx }],
      }),
    );
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(msg({ type: MessageType.MsgUnreachable, from: id }));
  }

  /**
   * The host saw leader `id` go away (nothing listens at its peer URLs): a follower then campaigns
   * within a few ticks instead of a randomized election timeout. See Raft.leaderDown.
   */
  reportLeaderDown(id: NodeId): void {
    this.raft.leaderDown(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(msg({ type: MessageType.MsgSnapStatus, from: id, reject: !ok }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.readStates.length > 0) return true;
    return raftTestBugs.applyUncommitted
      ? r.raftLog.lastIndex() > r.raftLog.applied
      : r.raftLog.hasNextCommittedEnts();
  }

  ready(): Ready {
    const r = this.raft;
    const committedEntries = raftTestBugs.applyUncommitted
      ? this.entriesPastApplied()
      : r.raftLog.nextCommittedEnts();
    const rd: Ready = {
      readStates: r.readStates,
      entries: r.raftLog.unstableEntries().slice(),
      committedEntries,
      messages: r.msgs,
      mustSync: false,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs;
      rd.mustSync = hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote;
      this.prevHardState = hs;
    }
    if (r.raftLog.hasPendingSnapshot()) rd.snapshot = r.raftLog.unstable.snapshot;
    if (rd.entries.length > 0 || rd.snapshot !== undefined) rd.mustSync = true;
    r.msgs = [];
    r.readStates = [];
    r.reduceUncommittedSize(committedEntries);
    return rd;
  }

  /** Only under the applyUncommitted test bug: hands out every entry past applied. */
  private entriesPastApplied(): Entry[] {
    const log = this.raft.raftLog;
    const lo = Math.max(log.applied + 1, log.firstIndex());
    if (log.hasPendingSnapshot() || lo > log.lastIndex()) return [];
    const ents = log.slice(lo, log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
    // Pretend they were committed so the rest of the machinery accepts them as applied.
    log.committed = Math.max(log.committed, log.lastIndex());
    return ents;
  }

  /** Acknowledges that the Ready was persisted and its committed entries applied. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.snapshot !== undefined) {
      r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
      r.appliedSnap(rd.snapshot);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.raftLog.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      r.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    }
    r.onPersisted();
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.state === StateType.Leader) {
      r.trk.visit((id, pr) => {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: ProgressState[pr.state] as ProgressStateName,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          paused: pr.isPaused(),
          pendingSnapshot: pr.pendingSnapshot,
          inflight: pr.inflights.count(),
        });
      });
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      lead: r.lead,
      raftState: r.state,
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      progress,
      config: configToConfState(r.trk.config),
      lastIndex: r.raftLog.lastIndex(),
      firstIndex: r.raftLog.firstIndex(),
    };
  }
}
