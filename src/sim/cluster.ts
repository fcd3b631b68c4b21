// A simulated cluster: the members, the network between them and the checker watching them, wired
// together. It owns membership as an operator would see it: a member is started when the ConfChange
// adding it is first applied anywhere (etcd: `member add` returns, then the member is started), and a
// member that is in no configuration any more is stopped for good and its ID refused by the transport
// (etcd refuses removed members' traffic). IDs are never reused.
//
// Every member starts from the same state at index 0: a MemoryStorage whose snapshot holds the initial
// voters. A joining member therefore replays the ConfChange entries from index 1, or receives a
// snapshot, and so learns the current configuration exactly as the others did.

import { StateType } from "../raft/rawnode.js";
import { MemoryStorage } from "../raft/storage.js";
import {
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type Snapshot,
} from "../raft/types.js";
import { Checker } from "./checker.js";
import { Network, type NetworkFaults } from "./network.js";
import { type NodeHost, type RaftOptions, SimNode } from "./node.js";
import { chance, derivedRand, hashNum, type SimRand, Stream } from "./seeds.js";

export interface ClusterOptions {
  seed: number;
  /** Number of initial voters, IDs 1..voters. */
  voters: number;
  raft: RaftOptions;
  faults: NetworkFaults;
  /**
   * Probability that a node crashes right after handling a delivered message, and that such a crash
   * is a bounce (restarted at once, as by a supervisor).
   */
  crashAfterDelivery: { rate: number; bounce: number };
  trace?: (line: string) => void;
}

export interface ClusterStats {
  proposals: number;
  proposalsRefused: number;
  readsIssued: number;
  confChangesApplied: number;
  crashes: number;
  restarts: number;
  snapshotsRestored: number;
  compactions: number;
  membersAdded: number;
  membersRemoved: number;
}

const first = 0x6c; // 'l': liveness probe payloads are "live=<n>"

export class Cluster implements NodeHost {
  readonly network: Network;
  readonly checker = new Checker();
  /** Current members, started or crashed, in the order they joined. */
  readonly nodes = new Map<NodeId, SimNode>();
  readonly removed = new Set<NodeId>();
  readonly stats: ClusterStats = {
    proposals: 0,
    proposalsRefused: 0,
    readsIssued: 0,
    confChangesApplied: 0,
    crashes: 0,
    restarts: 0,
    snapshotsRestored: 0,
    compactions: 0,
    membersAdded: 0,
    membersRemoved: 0,
  };
  /** The configuration after the newest ConfChange applied anywhere, and its index. */
  confState: ConfState;
  confIndex = 0;
  /** Rolling hash of every delivery and apply: equal for equal runs. */
  fingerprint = 0x811c9dc5;
  /** For each liveness probe payload, the nodes that applied it. */
  readonly probes = new Map<string, Set<NodeId>>();
  /** Current crash-after-delivery fault; the liveness phase turns it off. */
  crashAfterDelivery: { rate: number; bounce: number };
  private readonly initialVoters: NodeId[];
  private readonly faultRand: SimRand;
  private membershipDirty = false;
  private nextId: number;

  constructor(readonly opts: ClusterOptions) {
    this.faultRand = derivedRand(opts.seed, Stream.faults);
    this.crashAfterDelivery = opts.crashAfterDelivery;
    this.network = new Network(derivedRand(opts.seed, Stream.network), opts.faults, {
      deliver: (m) => this.deliver(m),
      snapshotStatus: (leader, follower, ok) => {
        const n = this.nodes.get(leader);
        if (n?.alive) n.reportSnapshot(follower, ok);
      },
    });
    this.initialVoters = [];
    for (let i = 1; i <= opts.voters; i++) this.initialVoters.push(BigInt(i));
    this.nextId = opts.voters + 1;
    this.confState = {
      voters: [...this.initialVoters],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    for (const id of this.initialVoters) this.addNode(id);
  }

  get now(): number {
    return this.network.now;
  }

  trace(line: string): void {
    this.opts.trace?.(`t=${this.now} ${line}`);
  }

  /** A fresh ID for a new member. */
  allocateId(): NodeId {
    return BigInt(this.nextId++);
  }

  alive(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.alive) out.push(n);
    return out;
  }

  crashed(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (!n.alive) out.push(n);
    return out;
  }

  /** The running leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      if (!n.alive || n.role !== StateType.Leader) continue;
      const t = n.rn!.raft.term;
      if (t > bestTerm) {
        best = n;
        bestTerm = t;
      }
    }
    return best;
  }

  /** Crashes n; half of the crashes are power losses, which also lose unsynced writes. */
  crash(n: SimNode): void {
    this.stats.crashes++;
    const powerLoss = chance(this.faultRand, 0.5);
    this.trace(`${powerLoss ? "power loss" : "crash"} ${n.id}`);
    n.crash(powerLoss);
  }

  restart(n: SimNode): void {
    this.stats.restarts++;
    this.trace(`restart ${n.id}`);
    n.start();
    this.flushMembership();
  }

  /** Ticks every running node; `skip` decides per node whether its clock misses this tick. */
  tick(skip: (n: SimNode) => boolean): void {
    for (const n of [...this.nodes.values()]) {
      if (n.alive && !skip(n)) {
        n.tick();
        this.flushMembership();
      }
    }
  }

  /** Runs `f` on a node and then applies membership changes it caused. */
  act(f: () => void): void {
    f();
    this.flushMembership();
  }

  // ---- NodeHost --------------------------------------------------------------------------------

  send(m: Message): void {
    if (m.type === MessageType.MsgVoteResp && !m.reject) this.checker.onVoteGranted(m.from, m.to, m.term);
    this.network.send(m);
  }

  onAppend(node: SimNode, entries: readonly Entry[], prevTerm: number | undefined): void {
    this.checker.onAppend(node, entries, prevTerm);
  }

  onCommit(node: SimNode, from: number, to: number, leaderTerm: number | undefined): void {
    this.checker.onCommit(node, from, to, leaderTerm);
  }

  onRole(node: SimNode, role: StateType, term: number): void {
    if (role === StateType.Leader) {
      this.trace(`${node.id} leader of term ${term}`);
      this.checker.onLeader(node, term);
    }
  }

  onRestore(node: SimNode, snap: Snapshot, hash: number): void {
    if (snap.metadata.index > 0) this.stats.snapshotsRestored++;
    this.checker.onRestore(node, snap, hash);
  }

  onApply(node: SimNode, e: Entry, hash: number): void {
    this.fingerprint = hashNum(hashNum(this.fingerprint, Number(node.id)), hash);
    this.checker.onApply(node, e, hash);
    if (e.data.length > 0 && e.data[0] === first && e.type === EntryType.Normal) {
      const p = String.fromCharCode.apply(null, e.data as unknown as number[]);
      this.probes.get(p)?.add(node.id);
    }
  }

  onConfState(node: SimNode, cs: ConfState, index: number): void {
    if (index <= this.confIndex) return; // an older change, applied late by a lagging node
    this.stats.confChangesApplied++;
    this.confIndex = index;
    this.confState = cs;
    this.membershipDirty = true;
    this.trace(
      `${node.id} applied conf at ${index}: voters=[${cs.voters}] outgoing=[${cs.votersOutgoing}] ` +
        `learners=[${cs.learners}] next=[${cs.learnersNext}]`,
    );
  }

  onAck(_node: SimNode, _payload: string, index: number): void {
    this.checker.onAck(index);
  }

  onReadIssued(_node: SimNode): number {
    this.stats.readsIssued++;
    return this.checker.readRequirement();
  }

  onReadServed(node: SimNode, readIndex: number, required: number): void {
    this.checker.onReadServed(node, readIndex, required);
  }

  // ---- internals -------------------------------------------------------------------------------

  private deliver(m: Message): boolean {
    const n = this.nodes.get(m.to);
    if (n === undefined || !n.alive) return false;
    this.fingerprint = hashNum(hashNum(hashNum(this.fingerprint, m.type), Number(m.to)), m.index);
    n.step(m);
    this.flushMembership();
    if (n.alive && chance(this.faultRand, this.crashAfterDelivery.rate)) {
      this.crash(n);
      if (chance(this.faultRand, this.crashAfterDelivery.bounce)) this.restart(n);
    }
    return true;
  }

  private addNode(id: NodeId): void {
    const n = new SimNode(
      id,
      MemoryStorage.withMembers(this.initialVoters),
      this.opts.seed,
      this.opts.raft,
      this,
    );
    this.nodes.set(id, n);
    n.start();
  }

  /**
   * Starts members the newest configuration names and stops those it no longer names. Deferred to
   * here, between node actions, so no node is started or stopped inside another's Ready loop.
   */
  private flushMembership(): void {
    while (this.membershipDirty) {
      this.membershipDirty = false;
      const cs = this.confState;
      const members = new Set<NodeId>([
        ...cs.voters,
        ...cs.learners,
        ...cs.votersOutgoing,
        ...cs.learnersNext,
      ]);
      for (const id of members) {
        if (!this.nodes.has(id) && !this.removed.has(id)) {
          this.stats.membersAdded++;
          this.trace(`start new member ${id}`);
          this.addNode(id);
        }
      }
      for (const [id, n] of [...this.nodes]) {
        if (members.has(id)) continue;
        this.stats.membersRemoved++;
        this.trace(`stop removed member ${id}`);
        n.crash();
        this.nodes.delete(id);
        this.removed.add(id);
        this.network.ban(id);
      }
    }
  }
}
