// The member's Ready loop: the one place where Raft's output meets the disk, the network and the state
// machine, in the order that keeps acknowledged writes safe:
//
//   1. a leader sends MsgApp/MsgHeartbeat at once, in parallel with its own fsync (thesis §10.2.1);
//   2. snapshot file, then WAL records (hard state + entries), fsync'd when Raft says mustSync;
//   3. the same into the in-memory raft storage the core reads back;
//   4. every other message (votes, append responses) only now: they promise what was just made durable;
//   5. committed entries applied in order; 6. advance, which lets a leader count its own log.
//
// Steps and proposals may arrive while the loop awaits the disk; they change the Raft state and are
// handled by the next iteration, never concurrently with one.

import type { RawNode, ReadState, Ready, SoftState } from "../raft/rawnode.js";
import type { MemoryStorage } from "../raft/storage.js";
import { type Entry, type Message, MessageType, type Snapshot } from "../raft/types.js";
import type { Snapshotter, WAL } from "../wal/index.js";

export interface RaftLoopHooks {
  send(msgs: Message[]): void;
  onSoftState(ss: SoftState): void;
  onReadStates(rs: ReadState[]): void;
  /** A snapshot from the leader was made durable: install it before the entries that follow it. */
  applySnapshot(s: Snapshot): void;
  applyEntries(ents: Entry[]): void;
  /** After each Ready: a chance to snapshot and compact. */
  afterReady(): void;
  onFatal(err: unknown): void;
  fsyncObserved?(seconds: number): void;
}

/** Leader messages that carry no promise about the sender's own durable state. */
function sendableBeforePersist(m: Message): boolean {
  return (
    m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap
  );
}

export class RaftLoop {
  private running = false;
  private again = false;
  private stopped = false;
  /** Settles when the run scheduled or under way has ended (resolved at once when idle). */
  private idle: Promise<void> = Promise.resolve();

  constructor(
    readonly rn: RawNode,
    private readonly storage: MemoryStorage,
    private readonly wal: WAL,
    private readonly snapshotter: Snapshotter,
    private readonly hooks: RaftLoopHooks,
  ) {}

  /** Schedules a run of the loop (coalesced: many kicks in one turn, one run). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = new Promise((resolve) => {
      setImmediate(() => {
        this.run()
          .catch((err: unknown) => this.hooks.onFatal(err))
          .finally(resolve);
      });
    });
  }

  /**
   * Handles no further Ready. Resolves once the one in hand (if any) is finished: persisted, applied
   * and advanced, so the caller may then close the storage it writes to.
   */
  stop(): Promise<void> {
    this.stopped = true;
    return this.idle;
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && this.rn.hasReady()) await this.handle(this.rn.ready());
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  private async handle(rd: Ready): Promise<void> {
    if (rd.softState) this.hooks.onSoftState(rd.softState);
    const early: Message[] = [];
    const late: Message[] = [];
    const isLeader = this.rn.raft.lead === this.rn.raft.id;
    for (const m of rd.messages) (isLeader && sendableBeforePersist(m) ? early : late).push(m);
    if (early.length > 0) this.hooks.send(early);

    if (rd.snapshot !== undefined) {
      this.snapshotter.save(rd.snapshot);
      await this.wal.saveSnapshot({
        index: rd.snapshot.metadata.index,
        term: rd.snapshot.metadata.term,
        confState: rd.snapshot.metadata.confState,
      });
    }
    const t0 = process.hrtime.bigint();
    await this.wal.save(rd.hardState, rd.entries, rd.mustSync);
    if (rd.mustSync) this.hooks.fsyncObserved?.(Number(process.hrtime.bigint() - t0) / 1e9);
    if (rd.snapshot !== undefined) {
      this.storage.applySnapshot(rd.snapshot);
      this.hooks.applySnapshot(rd.snapshot);
    }
    if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
    this.storage.append(rd.entries);

    if (late.length > 0) this.hooks.send(late);
    if (rd.readStates.length > 0) this.hooks.onReadStates(rd.readStates);
    if (rd.committedEntries.length > 0) this.hooks.applyEntries(rd.committedEntries);
    this.rn.advance(rd);
    this.hooks.afterReady();
  }
}
