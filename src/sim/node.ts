// One simulated member: a RawNode, its MemoryStorage as the "disk", and a tiny state machine (a key-value
// map plus a rolling hash of every applied entry). It runs the Ready loop exactly as the API contract
// says: persist the snapshot, entries and hard state, then send, then apply, then advance.
//
// A crash keeps only the disk (a power loss only what was fsync'd). Everything else (the RawNode, the
// state machine, the applied index, pending proposals and reads) is volatile and lost; a restart
// rebuilds the RawNode from the same storage, restores the state machine from the storage's snapshot and sets applied to its index, so
// committed entries after it are applied again as Raft hands them out once more.
//
// The node reports everything the checker needs through NodeHost, at the moment it happens, so
// the checks stay incremental.

import { decodeConfChange } from "../raft/codec.js";
import type { Config } from "../raft/config.js";
import { ProposalDroppedError, StepPeerNotFoundError } from "../raft/errors.js";
import { RawNode, StateType } from "../raft/rawnode.js";
import type { MemoryStorage, Storage } from "../raft/storage.js";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  type NodeId,
  type Snapshot,
} from "../raft/types.js";
import { derivedRand, hashBytes, hashInit, hashNum, Stream } from "./seeds.js";

/** Configuration shared by all members of a run (everything but id, storage, rand, applied). */
export type RaftOptions = Omit<Config, "id" | "storage" | "rand" | "applied">;

/** Where a node reports what the checker and the cluster must see. */
export interface NodeHost {
  send(m: Message): void;
  /** After a Ready's entries are persisted: the entries and the term preceding the first (if known). */
  onAppend(node: SimNode, entries: readonly Entry[], prevTerm: number | undefined): void;
  /** The persisted commit index rose from `from` to `to`; `leaderTerm` is set when the node committed as leader. */
  onCommit(node: SimNode, from: number, to: number, leaderTerm: number | undefined): void;
  /** The node's role changed (after the Ready that announced it was persisted). */
  onRole(node: SimNode, role: StateType, term: number): void;
  /** The state machine was replaced by a snapshot's (received, or restored at restart). */
  onRestore(node: SimNode, snap: Snapshot, hash: number): void;
  /** An entry was applied; `hash` is the state machine's rolling hash after it. */
  onApply(node: SimNode, e: Entry, hash: number): void;
  /** A ConfChange entry at `index` was applied, giving `cs`. */
  onConfState(node: SimNode, cs: ConfState, index: number): void;
  /** A proposal of this node (by this incarnation) was applied here: it is acknowledged to its client. */
  onAck(node: SimNode, payload: string, index: number): void;
  /** A read is issued now; returns the smallest read index that would be linearizable. */
  onReadIssued(node: SimNode): number;
  /** A read was served with `readIndex` (applied >= readIndex); `required` was returned at issue. */
  onReadServed(node: SimNode, readIndex: number, required: number): void;
}

interface PendingRead {
  required: number;
  /** The read index from Raft, or -1 while waiting for it. */
  index: number;
}

/**
 * What Raft sees of the node's disk. Like etcd's server, it answers a snapshot request (Raft needs one
 * for a follower behind the compacted log) with a fresh snapshot of the applied state when the stored
 * one is older: a snapshot from before a member was added would not name that member, which would then
 * reject it for ever.
 */
class FreshSnapshotStorage implements Storage {
  constructor(
    private readonly disk: MemoryStorage,
    private readonly freshen: () => void,
  ) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.disk.initialState();
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    return this.disk.entries(lo, hi, maxSize);
  }

  term(i: number): number {
    return this.disk.term(i);
  }

  lastIndex(): number {
    return this.disk.lastIndex();
  }

  firstIndex(): number {
    return this.disk.firstIndex();
  }

  snapshot(): Snapshot {
    this.freshen();
    return this.disk.snapshot();
  }
}

export function asciiBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

export function asciiString(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** Hash of applying e on top of h: covers index, term, type and data, so equal hashes mean equal prefixes. */
export function applyHash(h: number, e: Entry): number {
  return hashBytes(hashNum(hashNum(hashNum(h, e.index), e.term), e.type), e.data);
}

export class SimNode {
  rn: RawNode | undefined;
  /** Incremented at every start, so each incarnation has its own Raft randomness. */
  incarnation = 0;
  role: StateType = StateType.Follower;
  /** Commit index of the persisted hard state (what the disk says). */
  commit = 0;
  /** The hard state as of the last fsync. */
  private synced: HardState = { term: 0, vote: 0n, commit: 0 };
  // Volatile state machine.
  applied = 0;
  hash = hashInit;
  kv = new Map<string, string>();
  confState: ConfState | undefined;
  private readonly pendingProps = new Set<string>();
  private readonly pendingReads = new Map<string, PendingRead>();
  private readCount = 0;

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    private readonly seed: number,
    private readonly opts: RaftOptions,
    private readonly host: NodeHost,
  ) {}

  get alive(): boolean {
    return this.rn !== undefined;
  }

  /** Starts (or restarts) from the disk alone. */
  start(): void {
    this.incarnation++;
    const snap = this.storage.snapshot();
    this.restore(snap);
    this.synced = this.storage.getHardState();
    this.commit = this.synced.commit;
    this.role = StateType.Follower;
    this.rn = new RawNode({
      ...this.opts,
      id: this.id,
      storage: new FreshSnapshotStorage(this.storage, () => {
        if (this.applied > this.storage.snapshot().metadata.index) this.snapshot();
      }),
      applied: snap.metadata.index,
      rand: derivedRand(this.seed, Stream.raft, Number(this.id), this.incarnation),
    });
    this.host.onRestore(this, snap, this.hash);
    this.process();
  }

  /**
   * Loses everything but the disk. With `powerLoss`, the disk also loses what was written without
   * fsync since the last synced Ready: Raft marks a Ready mustSync unless only the commit index changed,
   * so that is exactly the hard state's commit index reverting to its last synced value.
   */
  crash(powerLoss = false): void {
    if (powerLoss) this.storage.setHardState(this.synced);
    this.rn = undefined;
    this.role = StateType.Follower;
    this.pendingProps.clear();
    this.pendingReads.clear();
  }

  tick(): void {
    this.rn!.tick();
    this.process();
  }

  step(m: Message): void {
    try {
      this.rn!.step(m);
    } catch (err) {
      // A response from a peer this node does not know (yet, or any more) is dropped, as etcd does.
      if (!(err instanceof StepPeerNotFoundError)) throw err;
    }
    this.process();
  }

  /** Returns false when Raft refused the proposal at once. */
  propose(payload: string): boolean {
    try {
      this.rn!.propose(asciiBytes(payload));
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
    this.pendingProps.add(payload);
    this.process();
    return true;
  }

  proposeConfChange(cc: ConfChange): boolean {
    try {
      this.rn!.proposeConfChange(cc);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
    this.process();
    return true;
  }

  /** Issues a linearizable read; it is served once Raft confirms a read index and it is applied. */
  read(): void {
    const ctx = `r${this.id}.${this.incarnation}.${this.readCount++}`;
    this.pendingReads.set(ctx, { required: this.host.onReadIssued(this), index: -1 });
    try {
      this.rn!.readIndex(asciiBytes(ctx));
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.pendingReads.delete(ctx);
    }
    this.process();
  }

  transferLeader(to: NodeId): void {
    this.rn!.transferLeader(to);
    this.process();
  }

  campaign(): void {
    this.rn!.campaign();
    this.process();
  }

  reportSnapshot(follower: NodeId, ok: boolean): void {
    this.rn!.reportSnapshot(follower, ok);
    this.process();
  }

  /**
   * Takes a snapshot at the applied index and compacts the log, keeping `keep` entries before it, as
   * etcd does after applying enough entries.
   */
  compact(keep: number): boolean {
    if (this.applied <= this.storage.snapshot().metadata.index) return false;
    this.snapshot();
    const to = this.applied - keep;
    if (to >= this.storage.firstIndex()) this.storage.compact(to);
    return true;
  }

  /**
   * Records a snapshot of the state machine at the applied index. Saving a snapshot syncs the log, as
   * etcd's does (WAL.SaveSnapshot fsyncs), so the commit index never falls behind a durable snapshot.
   */
  private snapshot(): void {
    this.storage.createSnapshot(this.applied, this.confState, this.encodeState());
    this.synced = this.storage.getHardState();
  }

  /** Runs the Ready loop until Raft has nothing more to hand out. */
  process(): void {
    const rn = this.rn!;
    while (rn.hasReady()) {
      const rd = rn.ready();
      const wasLeader = this.role === StateType.Leader;
      if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) {
        this.storage.applySnapshot(rd.snapshot);
        this.restore(rd.snapshot);
        this.host.onRestore(this, rd.snapshot, this.hash);
      }
      if (rd.entries.length > 0) {
        let prevTerm: number | undefined;
        try {
          prevTerm = this.storage.term(rd.entries[0]!.index - 1);
        } catch {
          prevTerm = undefined; // compacted: the snapshot vouches for the prefix
        }
        this.storage.append(rd.entries);
        this.host.onAppend(this, rd.entries, prevTerm);
      }
      if (rd.hardState !== undefined) this.persistHardState(rd.hardState, wasLeader, rd.softState?.raftState);
      if (rd.mustSync) this.synced = this.storage.getHardState();
      if (rd.softState !== undefined && rd.softState.raftState !== this.role) {
        this.role = rd.softState.raftState;
        this.host.onRole(this, this.role, this.storage.getHardState().term);
      }
      for (const m of rd.messages) this.host.send(m);
      for (const e of rd.committedEntries) this.apply(e);
      for (const rs of rd.readStates) {
        const pr = this.pendingReads.get(asciiString(rs.requestCtx));
        if (pr !== undefined && pr.index < 0) pr.index = rs.index;
      }
      if (this.pendingReads.size > 0) this.serveReads();
      rn.advance(rd);
    }
  }

  private persistHardState(hs: HardState, wasLeader: boolean, newRole: StateType | undefined): void {
    const from = this.commit;
    this.storage.setHardState(hs);
    this.commit = hs.commit;
    if (hs.commit > from) {
      // Raft advances the commit index itself only as leader (on MsgAppResp); a node that was leader
      // before and after this Ready committed in its own term.
      const isLeader = newRole === undefined ? wasLeader : newRole === StateType.Leader;
      this.host.onCommit(this, from, hs.commit, wasLeader && isLeader ? hs.term : undefined);
    }
  }

  private apply(e: Entry): void {
    this.hash = applyHash(this.hash, e);
    this.applied = e.index;
    if (e.type === EntryType.ConfChange) {
      const cs = this.rn!.applyConfChange(decodeConfChange(e.data));
      this.confState = cs;
      this.host.onApply(this, e, this.hash);
      this.host.onConfState(this, cs, e.index);
      return;
    }
    this.host.onApply(this, e, this.hash);
    if (e.data.length === 0) return; // a leader's empty entry of its term
    const payload = asciiString(e.data);
    const eq = payload.indexOf("=");
    if (eq > 0) this.kv.set(payload.slice(0, eq), payload.slice(eq + 1));
    if (this.pendingProps.delete(payload)) this.host.onAck(this, payload, e.index);
  }

  private serveReads(): void {
    for (const [ctx, pr] of this.pendingReads) {
      if (pr.index >= 0 && pr.index <= this.applied) {
        this.pendingReads.delete(ctx);
        this.host.onReadServed(this, pr.index, pr.required);
      }
    }
  }

  private encodeState(): Uint8Array {
    return asciiBytes(JSON.stringify({ h: this.hash, kv: [...this.kv] }));
  }

  private restore(snap: Snapshot): void {
    this.applied = snap.metadata.index;
    this.confState = snap.metadata.confState;
    if (snap.data.length === 0) {
      this.hash = hashInit;
      this.kv = new Map();
      return;
    }
    const st = JSON.parse(asciiString(snap.data)) as { h: number; kv: [string, string][] };
    this.hash = st.h;
    this.kv = new Map(st.kv);
  }
}
