// Wire-level Raft types: messages, entries, hard state, membership and snapshots.
//
// Node IDs are uint64 carried as bigint; 0n means "none". Terms and indexes are plain numbers:
// they grow by one per election or entry, so 2^53 is never reached.

export type NodeId = bigint;
export const None: NodeId = 0n;

export enum MessageType {
  /** Local: start an election (sent by tick or campaign). */
  MsgHup = 0,
  /** Local: tell the leader to send heartbeats. */
  MsgBeat = 1,
  /** Proposal of entries; local, or forwarded from a follower to the leader. */
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  /** Local: the transport could not reach `from`. */
  MsgUnreachable = 10,
  /** Local: outcome of sending a snapshot to `from` (reject = failure). */
  MsgSnapStatus = 11,
  /** Local: leader checks that a quorum was recently active. */
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

export enum EntryType {
  Normal = 0,
  /** Data is an encoded ConfChange (see codec.ts). */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** Voters of the outgoing configuration while in a joint configuration; empty otherwise. */
  votersOutgoing: NodeId[];
  /** Voters that become learners when the joint configuration is left. */
  learnersNext: NodeId[];
  /** Whether the joint configuration is left automatically once committed. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  UpdateNode = 2,
  AddLearnerNode = 3,
}

export enum ConfChangeTransition {
  /** Single change: applied directly; several changes: joint consensus, left automatically. */
  Auto = 0,
  /** Joint consensus, left automatically once the entry entering it is applied. */
  JointImplicit = 1,
  /** Joint consensus, left only by an explicit empty ConfChange. */
  JointExplicit = 2,
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: NodeId;
}

/**
 * A membership change. One change with Auto transition is the classic single-server change; an empty
 * `changes` list leaves a joint configuration. `context` is opaque to Raft (the server puts member
 * details there).
 */
export interface ConfChange {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** MsgApp: term of the entry at `index`; MsgVote: last log term of the candidate. */
  logTerm: number;
  /** MsgApp: index preceding `entries`; MsgAppResp: last index accepted or rejected index. */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** On a rejected MsgAppResp: the follower's guess of the last index that may match. */
  rejectHint: number;
  /** MsgHeartbeat/ReadIndex: the read request context being confirmed. */
  context: Uint8Array;
}

export const emptyBytes = new Uint8Array(0);

/** A message with all optional fields at their zero value. */
export function msg(m: Partial<Message> & Pick<Message, "type">): Message {
  return {
    to: None,
    from: None,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: emptyBytes,
    ...m,
  };
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export const emptyHardState: HardState = Object.freeze({ term: 0, vote: None, commit: 0 });

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === None && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** Messages that only travel inside one node (never over the network). */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

export function voteRespType(t: MessageType): MessageType {
  switch (t) {
    case MessageType.MsgVote:
      return MessageType.MsgVoteResp;
    case MessageType.MsgPreVote:
      return MessageType.MsgPreVoteResp;
    default:
      throw new Error(`not a vote message: ${MessageType[t]}`);
  }
}

/** Encoded size of an entry's payload, the unit of all byte-based flow control. */
export function payloadSize(e: Entry): number {
  return e.data.length;
}

export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += e.data.length + 16;
  return n;
}
