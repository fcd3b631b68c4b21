// The Raft state machine of one node: roles, elections, replication, commitment, ReadIndex,
// leadership transfer, snapshots and membership. Pure: it reacts to step() and tick() by changing its
// state and queueing messages; RawNode hands both to the application as a Ready.
//
// Safety rules that the code below relies on (Raft paper section numbers):
// - A node votes at most once per term, and only for a candidate whose log is at least as up to date
//   as its own (§5.2, §5.4.1). The vote is persisted (hard state) before the vote response is sent.
// - A leader only commits entries of its own term by counting replicas (§5.4.2, Figure 8); earlier
//   entries are committed indirectly.
// - A leader counts its own log towards a quorum only once the application reports it durable
//   (RawNode.advance), while it may send the same entries to followers before that (thesis §10.2.1).

import { decodeConfChange, encodeConfChange } from "./codec.js";
import { type ChangeResult, Changer, enterJointOf, leaveJointOf, restoreConfState } from "./confchange.js";
import { type Config, noLimit, ReadOnlyOption, validateConfig } from "./config.js";
import {
  CompactedError,
  ProposalDroppedError,
  RaftPanic,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from "./errors.js";
import { RaftLog } from "./log.js";
import { discardLogger, type RaftLogger } from "./logger.js";
import { ProgressState } from "./progress.js";
import { jointVoteResult, VoteResult } from "./quorum.js";
import type { Rand } from "./rand.js";
import { ReadOnly } from "./read_only.js";
import { raftTestBugs } from "./testing.js";
import { configToConfState, describeConfig, ProgressTracker } from "./tracker.js";
import {
  type ConfChange,
  ConfChangeTransition,
  type ConfState,
  type Entry,
  EntryType,
  emptyBytes,
  type HardState,
  type Message,
  MessageType,
  msg,
  type NodeId,
  None,
  type Snapshot,
  voteRespType,
} from "./types.js";

export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

export interface SoftState {
  lead: NodeId;
  raftState: StateType;
}

export interface ReadState {
  /** The commit index at the time the read was requested: serve it once applied >= index. */
  index: number;
  requestCtx: Uint8Array;
}

enum CampaignType {
  PreElection = 0,
  Election = 1,
  /** Forced by MsgTimeoutNow: voters ignore their leader lease. */
  Transfer = 2,
}

const campaignTransferCtx = new TextEncoder().encode("CampaignTransfer");

function isTransferCtx(ctx: Uint8Array): boolean {
  if (ctx.length !== campaignTransferCtx.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== campaignTransferCtx[i]) return false;
  return true;
}

function fmtId(id: NodeId): string {
  return id.toString(16);
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = None;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  trk: ProgressTracker;
  state = StateType.Follower;
  /** Whether this node is a learner in the current configuration (it never campaigns or votes). */
  isLearner = false;
  /** Messages to send, in order. */
  msgs: Message[] = [];
  lead: NodeId = None;
  /** Non-zero while a leadership transfer to that node is in progress. */
  leadTransferee: NodeId = None;
  /**
   * Index of the last conf change proposed by this leader (or the last index when it became leader).
   * A new conf change may only be proposed once the applied index reaches it: one change at a time.
   */
  pendingConfIndex = 0;
  /** Bytes of entry payloads appended by this leader and not yet committed (for proposal back-pressure). */
  uncommittedSize = 0;
  readOnly = new ReadOnly();
  /** ReadIndex requests received before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];

  /** Leader/candidate: ticks since last election timeout; follower: ticks since it heard the leader. */
  electionElapsed = 0;
  heartbeatElapsed = 0;

  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** Randomized in [electionTimeout, 2 * electionTimeout) on every role change. */
  randomizedElectionTimeout = 0;
  /**
   * Set by leaderDown() on a follower whose host reports that nothing listens at the leader's peer
   * URLs any more (the process is gone). While set, this node campaigns within a few ticks instead of
   * a full randomized election timeout, and grants votes without waiting out the leader's lease.
   * Cleared by any message from a leader and by every role change. Never set under LeaseBased reads,
   * whose correctness rests on followers honouring the lease.
   */
  private leaderDownHint = false;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  private readonly maxMsgSize: number;
  private readonly maxUncommittedSize: number;
  private readonly rand: Rand;
  readonly logger: RaftLogger;

  constructor(c: Config) {
    validateConfig(c);
    this.id = c.id;
    this.logger = c.logger ?? discardLogger;
    this.raftLog = new RaftLog(
      c.storage,
      this.logger,
      c.maxCommittedSizePerReady ?? c.maxSizePerMsg ?? noLimit,
    );
    this.maxMsgSize = c.maxSizePerMsg ?? noLimit;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize || noLimit;
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? 256, c.maxInflightBytes ?? 0);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.Safe;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.stepDownOnRemoval = c.stepDownOnRemoval ?? false;
    this.rand = c.rand;

    const { hardState, confState } = c.storage.initialState();
    const r = restoreConfState(this.trk, this.raftLog.lastIndex(), confState);
    const cs = this.switchToConfig(r);
    assertConfStatesEquivalent(cs, confState);
    if (hardState.term !== 0 || hardState.vote !== None || hardState.commit !== 0) this.loadState(hardState);
    if (this.term < this.raftLog.lastTerm()) {
      // A node never accepts entries from a term above its own, so this storage is inconsistent; going on
      // could let this node lead a term that already had a leader.
      throw new RaftPanic(
        `${fmtId(this.id)} hard state term ${this.term} is below the last log term ${this.raftLog.lastTerm()}`,
      );
    }
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, None);
    this.logger.info("newRaft", {
      id: fmtId(this.id),
      peers: describeConfig(this.trk.config),
      term: this.term,
      commit: this.raftLog.committed,
      applied: this.raftLog.applied,
      lastIndex: this.raftLog.lastIndex(),
      lastTerm: this.raftLog.lastTerm(),
    });
  }

  hardState(): HardState {
    return {
      term: this.term,
      vote: raftTestBugs.forgetVote ? None : this.vote,
      commit: this.raftLog.committed,
    };
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new RaftPanic(
        `${fmtId(this.id)} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
      );
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  // ---- sending -------------------------------------------------------------------------------

  private send(m: Message): void {
    // Forwarded messages (proposals, transfer requests) keep their origin.
    if (m.from === None) m.from = this.id;
    if (
      m.type === MessageType.MsgVote ||
      m.type === MessageType.MsgVoteResp ||
      m.type === MessageType.MsgPreVote ||
      m.type === MessageType.MsgPreVoteResp
    ) {
      // Vote messages carry the term they are for (a pre-vote is for term + 1, not yet ours).
      if (m.term === 0) throw new RaftPanic(`term should be set when sending ${MessageType[m.type]}`);
    } else {
      if (m.term !== 0)
        throw new RaftPanic(`term should not be set when sending ${MessageType[m.type]} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are local-term-free: the leader stamps them.
      if (m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends entries (or a snapshot) to `to` unless its flow is paused. */
  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the entries `to` is missing, or an empty MsgApp when sendIfEmpty (to convey the commit index
   * or probe). Falls back to a snapshot when the entries were compacted. Returns whether a message was
   * sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;

    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let ents: Entry[];
    try {
      prevTerm = this.raftLog.term(prevIndex);
      // A full window in replicate state sends an empty MsgApp: if every in-flight message was lost,
      // its ack or rejection is what clears the window, so replication cannot stall.
      ents =
        pr.state === ProgressState.StateReplicate && pr.inflights.full()
          ? []
          : this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      if (!(e instanceof CompactedError || e instanceof UnavailableError)) throw e;
      return this.maybeSendSnapshot(to);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += e.data.length;
    this.send(
      msg({
        type: MessageType.MsgApp,
        to,
        index: prevIndex,
        logTerm: prevTerm,
        entries: ents,
        commit: this.raftLog.committed,
      }),
    );
    pr.sentEntries(ents.length, bytes);
    return true;
  }

  private maybeSendSnapshot(to: NodeId): boolean {
    const pr = this.trk.progress.get(to)!;
    if (!pr.recentActive) {
      this.logger.debug("ignore sending snapshot since it is not recently active", { to: fmtId(to) });
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (e) {
      if (e instanceof SnapshotTemporarilyUnavailableError) {
        this.logger.debug("failed to send snapshot because snapshot is temporarily unavailable", {
          to: fmtId(to),
        });
        return false;
      }
      throw e;
    }
    if (snapshot.metadata.index === 0) throw new RaftPanic("need non-empty snapshot");
    this.logger.debug("sending snapshot", {
      to: fmtId(to),
      index: snapshot.metadata.index,
      term: snapshot.metadata.term,
      progress: pr.toString(),
    });
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send(msg({ type: MessageType.MsgSnap, to, snapshot }));
    return true;
  }

  private sendHeartbeat(to: NodeId, ctx: Uint8Array): void {
    // A follower may not have the leader's whole log, so it is told to commit no further than what it
    // is known to hold.
    const pr = this.trk.progress.get(to)!;
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send(msg({ type: MessageType.MsgHeartbeat, to, commit, context: ctx }));
  }

  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  private bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx() ?? emptyBytes);
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  // ---- commitment and persistence -------------------------------------------------------------

  /** Advances the commit index to what a quorum has durably; true if it moved. */
  maybeCommit(): boolean {
    const mci = this.trk.committed();
    if (raftTestBugs.commitPreviousTermByCount) {
      if (mci > this.raftLog.committed && mci <= this.raftLog.lastIndex()) {
        this.raftLog.commitTo(mci);
        return true;
      }
      return false;
    }
    return this.raftLog.maybeCommit(mci, this.term);
  }

  /** The last index known durable in this node's own storage. */
  private persistedIndex(): number {
    return Math.min(this.raftLog.storage.lastIndex(), this.raftLog.unstable.offset - 1);
  }

  /**
   * Called once the application made the last Ready's entries durable: the leader's own log now counts
   * towards the quorum.
   */
  onPersisted(): void {
    if (this.state !== StateType.Leader || this.raftLog.hasPendingSnapshot()) return;
    const pr = this.trk.progress.get(this.id);
    if (pr === undefined) return; // removed from the configuration
    if (pr.maybeUpdate(this.persistedIndex()) && this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    }
  }

  /** The application applied everything up to `applied`. */
  appliedTo(applied: number): void {
    this.raftLog.appliedTo(applied);
    if (this.trk.config.autoLeave && applied >= this.pendingConfIndex && this.state === StateType.Leader) {
      // The joint configuration was entered with automatic leaving: propose the empty change that
      // leaves it. It cannot be refused (no other change can be pending while joint).
      const cc: ConfChange = { transition: ConfChangeTransition.Auto, changes: [], context: emptyBytes };
      const ent: Entry = { term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) };
      if (!this.appendEntry([ent])) throw new RaftPanic("refused un-refusable auto-leaving ConfChange");
      this.pendingConfIndex = this.raftLog.lastIndex();
      this.bcastAppend();
      this.logger.info("initiating automatic transition out of joint configuration", {
        config: describeConfig(this.trk.config),
      });
    }
  }

  appliedSnap(snap: Snapshot): void {
    this.raftLog.appliedTo(snap.metadata.index);
  }

  /** Appends entries of the current term to the leader's log; false if dropped for back-pressure. */
  private appendEntry(es: Entry[]): boolean {
    const li = this.raftLog.lastIndex();
    for (let i = 0; i < es.length; i++) {
      es[i] = { ...es[i]!, term: this.term, index: li + 1 + i };
    }
    if (!this.increaseUncommittedSize(es)) {
      this.logger.warn(
        "appending new entries to log would exceed uncommitted entry size limit; dropping proposal",
        {
          id: fmtId(this.id),
        },
      );
      return false;
    }
    // The leader's own progress is raised in onPersisted, once these entries are durable.
    this.raftLog.append(es);
    return true;
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    let s = 0;
    for (const e of ents) s += e.data.length;
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  /** Entries were committed and handed out: they no longer count against the uncommitted budget. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.uncommittedSize === 0) return;
    let s = 0;
    for (const e of ents) s += e.data.length;
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  // ---- roles ---------------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.leaderDownHint = false;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.inflights.reset();
      pr.state = ProgressState.StateProbe;
      pr.pendingSnapshot = 0;
      pr.msgAppFlowPaused = false;
      pr.recentActive = false;
      pr.match = 0;
      pr.next = lastIndex + 1;
      if (id === this.id) pr.match = this.persistedIndex();
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly();
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger.info("became follower", { id: fmtId(this.id), term: this.term });
  }

  becomeCandidate(): void {
    if (this.state === StateType.Leader) throw new RaftPanic("invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.info("became candidate", { id: fmtId(this.id), term: this.term });
  }

  becomePreCandidate(): void {
    if (this.state === StateType.Leader) throw new RaftPanic("invalid transition [leader -> pre-candidate]");
    // A pre-candidate changes neither its term nor its vote; it only asks whether it could win.
    this.trk.resetVotes();
    this.lead = None;
    this.state = StateType.PreCandidate;
    this.logger.info("became pre-candidate", { id: fmtId(this.id), term: this.term });
  }

  becomeLeader(): void {
    if (this.state === StateType.Follower) throw new RaftPanic("invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id)!;
    // The leader's own progress is always in replicate state: it never probes itself.
    self.becomeReplicate();
    self.match = this.persistedIndex();
    self.next = this.raftLog.lastIndex() + 1;
    self.recentActive = true;
    // Conservatively assume the log tail may hold an unapplied conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An empty entry of the new term: committing it commits everything before it (§5.4.2).
    if (!this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: emptyBytes }])) {
      throw new RaftPanic("empty entry was dropped");
    }
    this.logger.info("became leader", { id: fmtId(this.id), term: this.term });
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  /**
   * The host learnt that leader `id` is gone (its peer URLs refuse connections). Only a hint: elections
   * stay safe whatever it says, and a wrong hint costs at most a pre-vote round (others still in the
   * lease ignore it).
   */
  leaderDown(id: NodeId): void {
    if (this.state !== StateType.Follower || this.lead === None || this.lead !== id) return;
    if (this.readOnlyOption !== ReadOnlyOption.Safe || this.leaderDownHint) return;
    this.leaderDownHint = true;
    // A few ticks of jitter keep the followers that learn it together from splitting the vote.
    this.randomizedElectionTimeout = Math.min(
      this.randomizedElectionTimeout,
      this.electionElapsed + 1 + this.rand.intn(3),
    );
    this.logger.info("leader reported down; campaigning early", {
      id: fmtId(this.id),
      lead: fmtId(id),
      term: this.term,
      timeoutTicks: this.randomizedElectionTimeout - this.electionElapsed,
    });
  }

  /** Called with every message from the leader: it is alive, so a leaderDown hint is void. */
  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.lead = from;
    if (this.leaderDownHint) {
      this.leaderDownHint = false;
      this.resetRandomizedElectionTimeout();
    }
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Whether this node may campaign: a voter in the configuration, with no snapshot to apply first. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  // ---- ticks ---------------------------------------------------------------------------------

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      // A leaderDown hint buys one early campaign; should it fail, the usual randomized timeout applies.
      if (this.leaderDownHint) this.resetRandomizedElectionTimeout();
      this.step(msg({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(msg({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // A transfer that did not complete within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== None) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(msg({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  // ---- elections -----------------------------------------------------------------------------

  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) {
      this.logger.debug("ignoring MsgHup because already leader", { id: fmtId(this.id) });
      return;
    }
    if (!this.promotable()) {
      this.logger.warn("is unpromotable and can not campaign", { id: fmtId(this.id) });
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn("cannot campaign: there are unapplied conf changes", {
        id: fmtId(this.id),
        term: this.term,
      });
      return;
    }
    this.logger.info("is starting a new election", { id: fmtId(this.id), term: this.term });
    this.campaign(t);
  }

  /**
   * A node with committed but unapplied conf changes does not know its final configuration, so it must
   * not campaign until they are applied.
   */
  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex());
    const ents = this.raftLog.slice(lo, this.raftLog.committed + 1, noLimit);
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  private campaign(t: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn("is unpromotable; campaign() should have been called", { id: fmtId(this.id) });
      return;
    }
    let voteMsg: MessageType;
    let term: number;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // A pre-vote asks about the next term without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    // The candidate's own vote: it is part of the hard state persisted before the requests go out.
    const { result } = this.poll(this.id, voteRespType(voteMsg), true);
    if (result === VoteResult.VoteWon) {
      // A single-voter configuration wins at once.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      this.logger.info("sent vote request", {
        from: fmtId(this.id),
        to: fmtId(id),
        type: MessageType[voteMsg],
        term: this.term,
        logTerm: lastTerm,
        index: lastIndex,
      });
      this.send(
        msg({
          type: voteMsg,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: t === CampaignType.Transfer ? campaignTransferCtx : emptyBytes,
        }),
      );
    }
  }

  private poll(
    id: NodeId,
    t: MessageType,
    granted: boolean,
  ): { granted: number; rejected: number; result: VoteResult } {
    this.logger.debug(granted ? "received vote" : "received vote rejection", {
      id: fmtId(this.id),
      type: MessageType[t],
      from: fmtId(id),
      term: this.term,
    });
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes();
  }

  // ---- step ----------------------------------------------------------------------------------

  step(m: Message): void {
    if (m.term === 0) {
      // Local message.
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = isTransferCtx(m.context);
        const inLease =
          this.checkQuorum &&
          this.lead !== None &&
          !this.leaderDownHint &&
          this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Within the minimum election timeout of hearing from a leader, this node neither updates
          // its term nor grants its vote: a disruptive rejoining node cannot depose a healthy leader.
          this.logger.info("ignored vote request: lease is not expired", {
            id: fmtId(this.id),
            from: fmtId(m.from),
            type: MessageType[m.type],
            term: this.term,
            remainingTicks: this.electionTimeout - this.electionElapsed,
          });
          return;
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; the term moves only when the real election starts.
      } else {
        this.logger.info("received a message with higher term", {
          id: fmtId(this.id),
          term: this.term,
          type: MessageType[m.type],
          from: fmtId(m.from),
          msgTerm: m.term,
        });
        if (
          m.type === MessageType.MsgApp ||
          m.type === MessageType.MsgHeartbeat ||
          m.type === MessageType.MsgSnap
        ) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, None);
        }
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)
      ) {
        // A stale leader (e.g. after a partition) would otherwise never learn the new term when this node
        // ignores its messages (check-quorum/pre-vote stop the usual higher-term vote from reaching it):
        // answer so it steps down.
        this.send(msg({ type: MessageType.MsgAppResp, to: m.from }));
      } else if (m.type === MessageType.MsgPreVote) {
        // Reject with our term so the pre-candidate learns it is behind.
        this.send(msg({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true }));
      } else {
        this.logger.debug("ignored a message with lower term", {
          id: fmtId(this.id),
          term: this.term,
          type: MessageType[m.type],
          from: fmtId(m.from),
          msgTerm: m.term,
        });
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        // We can vote if this is a repeat of a vote we cast, or we have not voted and know no leader
        // this term, or it is a pre-vote for a future term.
        const canVote =
          this.vote === m.from ||
          (this.vote === None && this.lead === None) ||
          (m.type === MessageType.MsgPreVote && m.term > this.term);
        const upToDate = raftTestBugs.voteWithoutLogCheck || this.raftLog.isUpToDate(m.index, m.logTerm);
        if (canVote && upToDate) {
          this.logger.info("cast vote", {
            id: fmtId(this.id),
            type: MessageType[m.type],
            for: fmtId(m.from),
            term: this.term,
          });
          // The response carries the candidate's term: for a pre-vote that is term + 1, which we do
          // not adopt ourselves.
          this.send(msg({ type: voteRespType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.MsgVote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.logger.info("rejected vote", {
            id: fmtId(this.id),
            type: MessageType[m.type],
            from: fmtId(m.from),
            term: this.term,
          });
          this.send(msg({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        switch (this.state) {
          case StateType.Leader:
            this.stepLeader(m);
            return;
          case StateType.Candidate:
          case StateType.PreCandidate:
            this.stepCandidate(m);
            return;
          case StateType.Follower:
            this.stepFollower(m);
            return;
        }
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat();
        return;
      case MessageType.MsgCheckQuorum:
        if (!this.trk.quorumActive()) {
          this.logger.warn("stepped down to follower since quorum is not active", { id: fmtId(this.id) });
          this.becomeFollower(this.term, None);
        }
        // Activity is counted afresh for the next election timeout.
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      case MessageType.MsgProp:
        this.stepLeaderProposal(m);
        return;
      case MessageType.MsgReadIndex:
        if (this.trk.isSingleton()) {
          const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
          if (resp !== undefined) this.send(resp);
          return;
        }
        // Until an entry of this term is committed, the leader does not know the true commit index.
        if (!this.committedEntryInCurrentTerm()) {
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendMsgReadIndexResponse(m);
        return;
    }

    const pr = this.trk.progress.get(m.from);
    if (pr === undefined) {
      this.logger.debug("no progress available", { id: fmtId(this.id), from: fmtId(m.from) });
      return;
    }
    switch (m.type) {
      case MessageType.MsgAppResp:
        this.handleAppendResponse(m);
        return;
      case MessageType.MsgHeartbeatResp: {
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        // Probing followers are probed on every heartbeat answer until they reply to a MsgApp.
        if (pr.match < this.raftLog.lastIndex() || pr.state === ProgressState.StateProbe)
          this.sendAppend(m.from);
        if (this.readOnlyOption !== ReadOnlyOption.Safe || m.context.length === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (acks === undefined || jointVoteResult(this.trk.config.voters, acks) !== VoteResult.VoteWon)
          return;
        for (const rs of this.readOnly.advance(m.context)) {
          const resp = this.responseToReadIndexReq(rs.req, rs.index);
          if (resp !== undefined) this.send(resp);
        }
        return;
      }
      case MessageType.MsgSnapStatus:
        if (pr.state !== ProgressState.StateSnapshot) return;
        if (m.reject) {
          // The snapshot was not delivered: forget it and probe again.
          pr.pendingSnapshot = 0;
          this.logger.debug("snapshot failed, resumed sending replication messages", { to: fmtId(m.from) });
        } else {
          this.logger.debug("snapshot succeeded, resumed sending replication messages", {
            to: fmtId(m.from),
          });
        }
        pr.becomeProbe();
        // Wait for the follower's answer (or a heartbeat response) before probing.
        pr.msgAppFlowPaused = true;
        return;
      case MessageType.MsgUnreachable:
        // Optimistic replication to an unreachable peer likely lost messages: probe again.
        if (pr.state === ProgressState.StateReplicate) pr.becomeProbe();
        this.logger.debug("failed to send message because it is unreachable", { to: fmtId(m.from) });
        return;
      case MessageType.MsgTransferLeader: {
        if (pr.isLearner) {
          this.logger.debug("is learner. Ignored transferring leadership", { id: fmtId(m.from) });
          return;
        }
        const transferee = m.from;
        const last = this.leadTransferee;
        if (last !== None) {
          if (last === transferee) {
            this.logger.info("transfer leadership is in progress, ignores request to same node", {
              transferee: fmtId(transferee),
            });
            return;
          }
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) {
          this.logger.debug("is already leader. Ignored transferring leadership to self", {
            id: fmtId(this.id),
          });
          return;
        }
        this.logger.info("starts to transfer leadership", { id: fmtId(this.id), to: fmtId(transferee) });
        // The transfer must finish within an election timeout.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) {
          this.sendTimeoutNow(transferee);
        } else {
          this.sendAppend(transferee);
        }
        return;
      }
    }
  }

  private stepLeaderProposal(m: Message): void {
    if (m.entries.length === 0) throw new RaftPanic(`${fmtId(this.id)} stepped empty MsgProp`);
    if (!this.trk.progress.has(this.id)) {
      // Removed from the configuration while leader (stepDownOnRemoval off): refuse new work.
      throw new ProposalDroppedError("raft proposal dropped: leader was removed from the configuration");
    }
    if (this.leadTransferee !== None) {
      throw new ProposalDroppedError("raft proposal dropped: leadership transfer in progress");
    }
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      if (e.type !== EntryType.ConfChange) continue;
      const cc = decodeConfChange(e.data);
      const alreadyPending = this.pendingConfIndex > this.raftLog.applied;
      const alreadyJoint = this.trk.isJoint();
      const wantsLeaveJoint = leaveJointOf(cc);
      let refused = "";
      if (alreadyPending) {
        refused = `possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.raftLog.applied})`;
      } else if (alreadyJoint && !wantsLeaveJoint) {
        refused = "must transition out of joint config first";
      } else if (!alreadyJoint && wantsLeaveJoint) {
        refused = "not in joint state; refusing empty conf change";
      }
      if (refused !== "") {
        // The entry stays (so the proposer sees its index go by) but becomes a no-op.
        this.logger.info("ignoring conf change", {
          id: fmtId(this.id),
          config: describeConfig(this.trk.config),
          reason: refused,
        });
        m.entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: emptyBytes };
      } else {
        this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
      }
    }
    if (!this.appendEntry(m.entries)) {
      throw new ProposalDroppedError("raft proposal dropped: too many uncommitted entries");
    }
    this.bcastAppend();
  }

  private handleAppendResponse(m: Message): void {
    const pr = this.trk.progress.get(m.from)!;
    pr.recentActive = true;
    if (m.reject) {
      this.logger.debug("received MsgAppResp rejection", {
        from: fmtId(m.from),
        rejectHint: m.rejectHint,
        logTerm: m.logTerm,
        index: m.index,
      });
      // The follower told us the last index it has whose term is <= the term we probed with
      // (rejectHint, logTerm). Skip every index of ours that cannot match: with logTerm known, the
      // match is at or below our last index whose term is <= logTerm.
      let nextProbeIdx = m.rejectHint;
      if (m.logTerm > 0) nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
        this.logger.debug("decreased progress", { from: fmtId(m.from), progress: pr.toString() });
        if (pr.state === ProgressState.StateReplicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) {
      // A probe answered with exactly our match: the follower is caught up, so replicate again.
      if (pr.match === m.index && pr.state === ProgressState.StateProbe) {
        pr.becomeReplicate();
        this.sendAppend(m.from);
      }
      return;
    }
    switch (pr.state) {
      case ProgressState.StateProbe:
        pr.becomeReplicate();
        break;
      case ProgressState.StateSnapshot:
        if (pr.match >= pr.pendingSnapshot) {
          // The follower applied the snapshot (or caught up otherwise): resume replication.
          this.logger.debug("recovered from needing snapshot, resumed sending replication messages", {
            from: fmtId(m.from),
            progress: pr.toString(),
          });
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case ProgressState.StateReplicate:
        pr.inflights.freeLE(m.index);
        break;
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (oldPaused) {
      // The window had been full: there may be more to send now.
      this.sendAppend(m.from);
    }
    // Keep the pipe full while entries are waiting and the window has room.
    while (this.maybeSendAppend(m.from, false)) {
      // each call sends one more MsgApp
    }
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.logger.info("sent MsgTimeoutNow after received MsgAppResp", { to: fmtId(m.from) });
      this.sendTimeoutNow(m.from);
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteRespType =
      this.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        throw new ProposalDroppedError("raft proposal dropped: no leader");
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from); // always m.term === this.term here
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteRespType: {
        const { granted, rejected, result } = this.poll(m.from, m.type, !m.reject);
        this.logger.info("has received votes", {
          id: fmtId(this.id),
          type: MessageType[m.type],
          granted,
          rejected,
        });
        if (result === VoteResult.VoteWon) {
          if (this.state === StateType.PreCandidate) {
            this.campaign(CampaignType.Election);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === VoteResult.VoteLost) {
          // A rejected pre-vote may carry a higher term; becomeFollower adopts the larger of the two.
          this.becomeFollower(this.term, None);
        }
        return;
      }
      case MessageType.MsgTimeoutNow:
        this.logger.debug("ignored MsgTimeoutNow", { id: fmtId(this.id), from: fmtId(m.from) });
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === None) throw new ProposalDroppedError("raft proposal dropped: no leader");
        if (this.disableProposalForwarding) {
          throw new ProposalDroppedError("raft proposal dropped: proposal forwarding is disabled");
        }
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.MsgApp:
        this.heardFromLeader(m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTransferLeader:
        if (this.lead === None) {
          this.logger.info("no leader; dropping leader transfer", { id: fmtId(this.id), term: this.term });
          return;
        }
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.MsgTimeoutNow:
        this.logger.info("received MsgTimeoutNow; starting an election to transfer leadership", {
          id: fmtId(this.id),
          from: fmtId(m.from),
          term: this.term,
        });
        // Leadership transfers never use pre-vote: the leader asked for this election.
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === None) {
          this.logger.info("no leader; dropping index reading msg", { id: fmtId(this.id), term: this.term });
          return;
        }
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) {
          this.logger.error("invalid format of MsgReadIndexResp", {
            from: fmtId(m.from),
            entries: m.entries.length,
          });
          return;
        }
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is already known to match: tell the leader where we are.
      this.send(msg({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(msg({ type: MessageType.MsgAppResp, to: m.from, index: lastNew }));
      return;
    }
    this.logger.debug("rejected MsgApp", {
      id: fmtId(this.id),
      logTerm: this.raftLog.zeroTermOnOutOfBounds(m.index),
      index: m.index,
      msgLogTerm: m.logTerm,
      msgIndex: m.index,
    });
    // Hint the leader at the largest index <= m.index whose term is <= m.logTerm: every index above it
    // certainly does not match, so the leader can skip a whole term's worth of entries per round trip.
    const hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    const hint = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    this.send(
      msg({
        type: MessageType.MsgAppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send(msg({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot!;
    const { index, term } = s.metadata;
    if (this.restore(s)) {
      this.logger.info("restored snapshot", {
        id: fmtId(this.id),
        commit: this.raftLog.committed,
        index,
        term,
      });
      this.send(msg({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.logger.info("ignored snapshot", {
        id: fmtId(this.id),
        commit: this.raftLog.committed,
        index,
        term,
      });
      this.send(msg({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot's log position and configuration; false if it is stale or not for us. */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.Follower) {
      // Only a follower of the sender's term can receive a snapshot; anything else is a bug elsewhere.
      // Become a follower of a higher term so the next leader's messages are accepted afresh.
      this.logger.warn("attempted to restore snapshot as non-follower; should never happen", {
        id: fmtId(this.id),
      });
      this.becomeFollower(this.term + 1, None);
      return false;
    }
    const cs = s.metadata.confState;
    const found = [cs.voters, cs.learners, cs.votersOutgoing].some((set) => set.includes(this.id));
    if (!found) {
      this.logger.warn("attempted to restore snapshot but it is not in the ConfState; should never happen", {
        id: fmtId(this.id),
      });
      return false;
    }
    // Our log already holds the snapshot's last entry: just fast-forward the commit index.
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      this.logger.info("fast-forwarded commit to snapshot", { id: fmtId(this.id), index: s.metadata.index });
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    const r = restoreConfState(this.trk, this.raftLog.lastIndex(), cs);
    assertConfStatesEquivalent(this.switchToConfig(r), cs);
    const pr = this.trk.progress.get(this.id)!;
    pr.maybeUpdate(pr.next - 1);
    return true;
  }

  // ---- ReadIndex -----------------------------------------------------------------------------

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendMsgReadIndexResponse(m);
  }

  private sendMsgReadIndexResponse(m: Message): void {
    if (this.readOnlyOption === ReadOnlyOption.Safe) {
      const ctx = m.entries[0]!.data;
      this.readOnly.addRequest(this.raftLog.committed, m);
      // The leader's own acknowledgement counts towards the quorum.
      this.readOnly.recvAck(this.id, ctx);
      this.bcastHeartbeatWithCtx(ctx);
      return;
    }
    const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
    if (resp !== undefined) this.send(resp);
  }

  /** Answers a read locally (readStates) or builds the response for the follower that asked. */
  private responseToReadIndexReq(req: Message, readIndex: number): Message | undefined {
    if (req.from === None || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
      return undefined;
    }
    return msg({ type: MessageType.MsgReadIndexResp, to: req.from, index: readIndex, entries: req.entries });
  }

  // ---- leadership transfer -------------------------------------------------------------------

  private sendTimeoutNow(to: NodeId): void {
    this.send(msg({ type: MessageType.MsgTimeoutNow, to }));
  }

  // ---- membership ----------------------------------------------------------------------------

  /** Applies a committed conf change; returns the resulting membership. */
  applyConfChange(cc: ConfChange): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex());
    let r: ChangeResult;
    if (leaveJointOf(cc)) {
      r = changer.leaveJoint();
    } else {
      const { joint, autoLeave } = enterJointOf(cc);
      r = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(r);
  }

  /** Installs a new configuration and reacts to it (stepping down, committing, probing new members). */
  private switchToConfig(r: ChangeResult): ConfState {
    this.trk.config = r.config;
    this.trk.progress = r.progress;
    this.logger.info("switched to configuration", {
      id: fmtId(this.id),
      config: describeConfig(this.trk.config),
    });
    const cs = configToConfState(this.trk.config);
    const pr = this.trk.progress.get(this.id);
    // A removed or demoted node must not campaign; a removed leader keeps leading only until it has
    // committed its own removal (the server stops it then), unless asked to step down at once.
    this.isLearner = pr?.isLearner ?? false;
    if ((pr === undefined || this.isLearner) && this.state === StateType.Leader) {
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, None);
      return cs;
    }
    if (this.state !== StateType.Leader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      // The new configuration may commit more (e.g. a removed slow voter no longer holds it back).
      this.bcastAppend();
    } else {
      // New members need their first probe now, not at the next heartbeat.
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== None && !this.trk.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }
}

function assertConfStatesEquivalent(a: ConfState, b: ConfState): void {
  const norm = (cs: ConfState) =>
    JSON.stringify(
      {
        v: [...cs.voters].sort(),
        l: [...cs.learners].sort(),
        o: [...cs.votersOutgoing].sort(),
        n: [...cs.learnersNext].sort(),
        a: cs.autoLeave,
      },
      (_k, v) => (typeof v === "bigint" ? v.toString() : v),
    );
  if (norm(a) !== norm(b))
    throw new RaftPanic(`ConfStates not equivalent after sorting: ${norm(a)} vs ${norm(b)}`);
}
