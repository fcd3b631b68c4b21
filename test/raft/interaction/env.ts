// The in-memory world of an interaction trace: Raft nodes with their MemoryStorage and a toy
// state machine, the network (messages in flight, cut links), and the output buffer.
//
// The application side follows the Ready contract of rawnode.ts exactly, synchronously: persist the
// snapshot, entries and hard state; then put the messages on the network; then apply committed
// entries; then advance. Nothing is delivered until a command says so, so every interleaving in a
// trace is explicit.

import { decodeConfChange } from "../../../src/raft/codec.js";
import type { Config } from "../../../src/raft/config.js";
import type { LogFields, RaftLogger } from "../../../src/raft/logger.js";
import type { Rand } from "../../../src/raft/rand.js";
import { RawNode, type Ready } from "../../../src/raft/rawnode.js";
import type { MemoryStorage, Storage } from "../../../src/raft/storage.js";
import {
  type ConfState,
  EntryType,
  emptyConfState,
  isEmptySnapshot,
  type Message,
  MessageType,
  type NodeId,
  type Snapshot,
} from "../../../src/raft/types.js";
import {
  fmtConfChange,
  fmtConfState,
  fmtEntry,
  fmtHardState,
  fmtMessage,
  fmtSnapshot,
  stateName,
} from "./format.js";

export type Level = "debug" | "info" | "warn" | "error" | "none";
const levelRank: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3, none: 4 };

/** Lines of output with nested indentation (stabilize indents what happens on each node). */
export class Output {
  private lines: string[] = [];
  private indent = "";
  /**
   * Threshold for the core's own log lines. The harness's lines are printed at every level but "none".
   * The default keeps only warnings and errors, so traces depend on observable behaviour (Ready,
   * messages, status) rather than on the wording of informational logs.
   */
  level: Level = "warn";

  line(s: string): void {
    if (this.level === "none") return;
    this.lines.push(this.indent + s);
  }

  /** Errors are printed even at level none, so a trace never hides one. */
  error(s: string): void {
    this.lines.push(this.indent + s);
  }

  nested(f: () => void): void {
    const prev = this.indent;
    this.indent += "  ";
    try {
      f();
    } finally {
      this.indent = prev;
    }
  }

  take(): string[] {
    const l = this.lines;
    this.lines = [];
    this.indent = "";
    return l;
  }
}

/**
 * The node's randomness (election timeouts are electionTick + intn(electionTick)). Without a seed it
 * always returns 0, so the randomized timeout equals electionTick and `tick-election` always fires;
 * traces about randomization pass add-nodes seed=N, or pin a timeout with
 * set-randomized-election-timeout.
 */
export class TraceRand implements Rand {
  constructor(private readonly base: Rand | undefined) {}

  intn(n: number): number {
    return this.base?.intn(n) ?? 0;
  }
}

/** The state machine's state after applying the entry at `index`: what a snapshot at `index` holds. */
export interface Applied {
  index: number;
  term: number;
  confState: ConfState;
  /** The toy state machine: the data of applied normal entries, space-separated. */
  content: string;
}

export interface TraceNode {
  id: NodeId;
  rn: RawNode;
  storage: MemoryStorage;
  /** The configuration the node was created with (restart reuses it). */
  config: Config;
  rand: TraceRand;
  /** Applied states, oldest first; the first is the bootstrap snapshot's (or the empty) state. */
  history: Applied[];
}

export class InteractionEnv {
  readonly nodes = new Map<NodeId, TraceNode>();
  /** Messages on the network, in send order. */
  messages: Message[] = [];
  /** Directed links that drop everything: "from->to". */
  readonly cut = new Set<string>();
  readonly out = new Output();

  node(id: NodeId): TraceNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  sortedIds(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** A logger that prints the core's messages at or above the output level, tagged with the node. */
  loggerFor(id: NodeId): RaftLogger {
    const emit =
      (lvl: Exclude<Level, "none">) =>
      (msg: string, fields?: LogFields): void => {
        if (levelRank[lvl] < levelRank[this.out.level]) return;
        let s = `${lvl.toUpperCase()} ${id} ${msg}`;
        if (fields !== undefined) {
          // The node is already named at the start of the line.
          for (const [k, v] of Object.entries(fields)) if (k !== "id") s += ` ${k}=${fmtField(v)}`;
        }
        this.out.line(s);
      };
    return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
  }

  /** Creates a RawNode for `n` from its storage (used on creation and on restart). */
  startNode(n: Omit<TraceNode, "rn"> & { rn?: RawNode }): TraceNode {
    const node = { ...n } as TraceNode;
    const storage = snapshotOnDemand(n.storage, () => snapshotOf(this.applied(node)));
    node.rn = new RawNode({ ...n.config, storage, rand: n.rand, logger: this.loggerFor(n.id) });
    this.nodes.set(n.id, node);
    return node;
  }

  /** The current applied state of a node. */
  applied(n: TraceNode): Applied {
    return n.history[n.history.length - 1]!;
  }

  /** One round of the Ready contract on node `id`; prints the Ready. */
  processReady(id: NodeId): void {
    const n = this.node(id);
    const rd = n.rn.ready();
    for (const l of describeReady(rd)) this.out.line(l);
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
      n.storage.applySnapshot(rd.snapshot);
      const md = rd.snapshot.metadata;
      n.history.push({
        index: md.index,
        term: md.term,
        confState: md.confState,
        content: new TextDecoder().decode(rd.snapshot.data),
      });
    }
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    // Messages leave only after the entries and hard state they depend on are durable.
    this.messages.push(...rd.messages);
    for (const e of rd.committedEntries) {
      const prev = this.applied(n);
      let confState = prev.confState;
      let content = prev.content;
      if (e.type === EntryType.ConfChange) {
        const cc = decodeConfChange(e.data);
        confState = n.rn.applyConfChange(cc);
        this.out.line(`applied ${e.term}/${e.index} ${fmtConfChange(cc)}: ${fmtConfState(confState)}`);
      } else if (e.data.length > 0) {
        const d = new TextDecoder().decode(e.data);
        content = content === "" ? d : `${content} ${d}`;
      }
      n.history.push({ index: e.index, term: e.term, confState, content });
    }
    n.rn.advance(rd);
  }

  /** Whether a message from `from` to `to` is lost on the network. */
  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}->${to}`);
  }

  /**
   * Delivers (or drops) every queued message to `to` (only of `type` / from `from` when given), in send
   * order; returns how many there were. Messages over a cut link are dropped as if lost on the wire.
   */
  deliver(to: NodeId, drop: boolean, type?: string, from?: NodeId): number {
    const mine: Message[] = [];
    const rest: Message[] = [];
    for (const m of this.messages) {
      const match =
        m.to === to &&
        (type === undefined || messageTypeName(m) === type) &&
        (from === undefined || m.from === from);
      if (match) mine.push(m);
      else rest.push(m);
    }
    this.messages = rest;
    for (const m of mine) {
      if (drop || this.isCut(m.from, m.to) || !this.nodes.has(to)) {
        this.out.line(`dropped: ${fmtMessage(m)}`);
        continue;
      }
      this.out.line(fmtMessage(m));
      try {
        this.node(to).rn.step(m);
      } catch (e) {
        this.out.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return mine.length;
  }

  /**
   * Runs Ready handling and message delivery on `ids` (all nodes if empty) until nothing is left to do.
   * Each round handles every node's Ready, then delivers every node's messages, in ID order.
   */
  stabilize(ids: NodeId[]): void {
    const set = ids.length > 0 ? ids : this.sortedIds();
    for (let round = 0; ; round++) {
      if (round > 10_000) throw new Error("stabilize did not converge");
      let done = true;
      for (const id of set) {
        if (!this.node(id).rn.hasReady()) continue;
        this.out.line(`> ${id} handling Ready`);
        this.out.nested(() => this.processReady(id));
        done = false;
      }
      for (const id of set) {
        if (!this.messages.some((m) => m.to === id)) continue;
        this.out.line(`> ${id} receiving messages`);
        this.out.nested(() => this.deliver(id, false));
        done = false;
      }
      if (done) return;
    }
  }

  /** A fresh node ID for add-nodes: one past the largest in use. */
  nextId(): NodeId {
    let max = 0n;
    for (const id of this.nodes.keys()) if (id > max) max = id;
    return max + 1n;
  }

  emptyApplied(index: number, term: number, confState: ConfState = emptyConfState(), content = ""): Applied {
    return { index, term, confState, content };
  }
}

/**
 * The Storage a node's Raft reads: the MemoryStorage, except that the snapshot handed out for a
 * follower that fell behind the compaction point is the state machine's current state (as an
 * application that snapshots on demand, like etcd's server, provides). A snapshot taken at the last
 * compaction could predate the membership change that added the follower, which then could not
 * restore it.
 */
function snapshotOnDemand(ms: MemoryStorage, current: () => Snapshot): Storage {
  return {
    initialState: () => ms.initialState(),
    entries: (lo, hi, maxSize) => ms.entries(lo, hi, maxSize),
    term: (i) => ms.term(i),
    lastIndex: () => ms.lastIndex(),
    firstIndex: () => ms.firstIndex(),
    snapshot: () => {
      const compacted = ms.snapshot(); // honours snapshotUnavailable
      const cur = current();
      return cur.metadata.index >= compacted.metadata.index ? cur : compacted;
    },
  };
}

function snapshotOf(a: Applied): Snapshot {
  return {
    data: new TextEncoder().encode(a.content),
    metadata: { index: a.index, term: a.term, confState: a.confState },
  };
}

function messageTypeName(m: Message): string {
  return MessageType[m.type];
}

function fmtField(v: unknown): string {
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return /^[\w./:-]+$/.test(v) ? v : JSON.stringify(v);
  if (v instanceof Uint8Array) return JSON.stringify(new TextDecoder().decode(v));
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
  } catch {
    return String(v);
  }
}

/** The lines describing a Ready; fields in a fixed order, each only when present. */
export function describeReady(rd: Ready): string[] {
  const body: string[] = [];
  if (rd.softState !== undefined) {
    body.push(`Lead:${rd.softState.lead} State:${stateName(rd.softState.raftState)}`);
  }
  if (rd.hardState !== undefined) body.push(`HardState ${fmtHardState(rd.hardState)}`);
  for (const rs of rd.readStates) {
    body.push(
      `ReadState Index:${rs.index} Context:${JSON.stringify(new TextDecoder().decode(rs.requestCtx))}`,
    );
  }
  if (rd.entries.length > 0) body.push("Entries:", ...rd.entries.map(fmtEntry));
  if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot))
    body.push(`Snapshot ${fmtSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) body.push("CommittedEntries:", ...rd.committedEntries.map(fmtEntry));
  if (rd.messages.length > 0) body.push("Messages:", ...rd.messages.map(fmtMessage));
  if (body.length === 0) return ["<empty Ready>"];
  return [`Ready MustSync=${rd.mustSync}:`, ...body];
}
