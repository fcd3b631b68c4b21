// The seeded schedule of one run. A run has two phases:
//
// 1. Chaos, for `chaosTicks` ticks. Each tick first draws events (proposals, reads, membership
//    changes, leadership transfers, forced campaigns, crashes, restarts, partitions, heals, log
//    compactions), then ticks every running node (a node's clock may miss a tick: skew), then delivers
//    everything the network has due. The network drops, duplicates and delays throughout, and a node
//    may also crash right after handling a message.
// 2. Liveness. Partitions heal, losses and duplicates stop, every crashed member restarts. Within
//    `livenessBound` ticks some leader must commit a fresh probe proposal that every voter of the
//    newest configuration applies.
//
// Everything is drawn from generators derived from the run's seed, so a seed names one exact run. The
// parameters themselves (timeouts, Raft options, fault rates) are drawn per seed too, so a range of seeds
// covers many configurations.

import { ReadOnlyOption } from "../raft/config.js";
import { StateType } from "../raft/rawnode.js";
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  emptyBytes,
  type NodeId,
} from "../raft/types.js";
import type { Cluster } from "./cluster.js";
import type { NetworkFaults } from "./network.js";
import type { RaftOptions, SimNode } from "./node.js";
import { chance, pick, type SimRand, shuffle } from "./seeds.js";

/** Per-tick probabilities of the chaos phase. */
export interface Rates {
  propose: number;
  read: number;
  confChange: number;
  transfer: number;
  campaign: number;
  crash: number;
  /** Crash the current leader (the most consequential crash). */
  crashLeader: number;
  /** Per crashed node per tick. */
  restart: number;
  partition: number;
  heal: number;
  compact: number;
  /** Probability that a node's clock misses a tick. */
  tickSkip: number;
  crashAfterDelivery: number;
  /** Probability that such a crash is a bounce: the process restarts at once, with only its disk. */
  bounce: number;
}

export interface Plan {
  nodes: number;
  chaosTicks: number;
  livenessBound: number;
  /** Most members (voters and learners) the membership changes may grow the cluster to. */
  maxMembers: number;
  raft: RaftOptions;
  faults: NetworkFaults;
  rates: Rates;
}

export class LivenessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LivenessError";
  }
}

/** Draws the parameters of a run. */
export function makePlan(nodes: number, r: SimRand, chaosTicks?: number): Plan {
  const electionTick = 10;
  const raft: RaftOptions = {
    electionTick,
    heartbeatTick: 1 + r.intn(3),
    checkQuorum: chance(r, 0.5),
    preVote: chance(r, 0.5),
    stepDownOnRemoval: chance(r, 0.5),
    readOnlyOption: ReadOnlyOption.Safe,
    // Small limits make replication page through the log and exercise flow control.
    maxSizePerMsg: pick(r, [1, 64, 1 << 20, 1 << 20]),
    maxInflightMsgs: chance(r, 0.3) ? 1 + r.intn(3) : 256,
    maxUncommittedEntriesSize: chance(r, 0.2) ? 256 : 0,
  };
  // The weather of the run: calm, a lossy network, or a storm of elections (leaders crash, processes
  // bounce, nodes force campaigns) that provokes the interleavings of the Raft paper's Figure 8.
  const weather = r.intn(3);
  const lossy = weather === 1;
  const elections = weather === 2;
  const faults: NetworkFaults = {
    dropRate: pick(r, lossy ? [0.05, 0.1, 0.2] : [0, 0.01, 0.03]),
    dupRate: pick(r, [0, 0.02, 0.1]),
    maxDelay: elections ? 1 + r.intn(3) : r.intn(4),
  };
  const rates: Rates = {
    propose: pick(r, elections ? [0.5, 1, 2] : [0.2, 0.5, 1]),
    read: pick(r, [0.05, 0.2]),
    confChange: pick(r, [0, 0.02, 0.05]),
    transfer: pick(r, [0, 0.01, 0.03]),
    campaign: pick(r, elections ? [0.03, 0.1] : [0, 0.01, 0.03]),
    crash: pick(r, lossy ? [0.01, 0.03] : [0, 0.005]),
    crashLeader: pick(r, elections ? [0.05, 0.1] : lossy ? [0.01, 0.03] : [0, 0.01]),
    restart: pick(r, elections ? [0.2, 0.4] : [0.05, 0.15]),
    partition: pick(r, lossy || elections ? [0.02, 0.05] : [0, 0.01]),
    heal: pick(r, [0.03, 0.1]),
    compact: pick(r, [0.01, 0.05]),
    tickSkip: pick(r, [0, 0.1]),
    crashAfterDelivery: pick(r, elections ? [0.02, 0.05] : lossy ? [0, 0.002, 0.01] : [0, 0.002]),
    bounce: pick(r, elections ? [0.5, 1] : [0, 0.5, 1]),
  };
  return {
    nodes,
    chaosTicks: chaosTicks ?? 150 + r.intn(100),
    livenessBound: 50 * electionTick,
    maxMembers: nodes + 2,
    raft,
    faults,
    rates,
  };
}

export class Scenario {
  /** Ticks the liveness phase needed. */
  livenessTicks = 0;
  partitions = 0;
  transfers = 0;
  private proposalCount = 0;
  private probeCount = 0;

  constructor(
    private readonly c: Cluster,
    private readonly plan: Plan,
    private readonly r: SimRand,
  ) {}

  run(): void {
    for (let t = 0; t < this.plan.chaosTicks; t++) {
      this.chaosEvents();
      this.advance(this.plan.rates.tickSkip);
    }
    this.liveness();
  }

  /** One tick: tick the nodes, deliver what is due. */
  private advance(tickSkip: number): void {
    const r = this.r;
    this.c.tick(() => chance(r, tickSkip));
    this.c.network.deliverDue();
    this.c.network.now++;
  }

  private chaosEvents(): void {
    const { c, r } = this;
    const rates = this.plan.rates;
    const alive = c.alive();
    // A node picked from `alive` may have been stopped since by an earlier event of this tick (a
    // membership change applied), so every action checks again.
    const any = (): SimNode | undefined => {
      const n = pick(r, alive);
      return n.alive ? n : undefined;
    };
    if (alive.length > 0) {
      // Rates above 1 mean several proposals per tick.
      for (let p = rates.propose; p > 0; p--) {
        const n = chance(r, p) ? any() : undefined;
        if (n !== undefined) this.propose(n);
      }
      const reader = chance(r, rates.read) ? any() : undefined;
      if (reader !== undefined) c.act(() => reader.read());
      if (chance(r, rates.campaign)) {
        // Half of the time two nodes time out together: dueling candidates, often in the same term.
        const dueling = chance(r, 0.5) ? [any(), any()] : [any()];
        for (const n of new Set(dueling)) {
          if (n === undefined || !n.alive) continue;
          c.trace(`campaign ${n.id}`);
          c.act(() => n.campaign());
        }
      }
      const compactor = chance(r, rates.compact) ? any() : undefined;
      if (compactor?.compact(r.intn(5))) c.stats.compactions++;
      const leader = c.leader();
      if (leader !== undefined) {
        if (chance(r, rates.confChange)) this.changeMembership(leader);
        if (chance(r, rates.transfer)) this.transfer(leader);
      }
      // Crash at most a minority at a time most of the time, sometimes more (safety must hold anyway).
      const maxDown = chance(r, 0.1) ? c.nodes.size - 1 : Math.floor((c.nodes.size - 1) / 2);
      if (c.nodes.size - alive.length < maxDown) {
        const victim = chance(r, rates.crash) ? any() : undefined;
        if (victim !== undefined) c.crash(victim);
        else if (leader?.alive && chance(r, rates.crashLeader)) c.crash(leader);
      }
    }
    for (const n of c.crashed()) if (chance(r, rates.restart)) c.restart(n);
    if (chance(r, rates.partition)) this.partition();
    else if (c.network.cutCount() > 0 && chance(r, rates.heal)) {
      c.trace("heal");
      c.network.heal();
    }
  }

  private propose(n: SimNode): void {
    const k = this.proposalCount++;
    const payload = `k${k % 8}=${k}`;
    this.c.stats.proposals++;
    this.c.act(() => {
      if (!n.propose(payload)) this.c.stats.proposalsRefused++;
    });
  }

  private transfer(leader: SimNode): void {
    const voters = leader.rn!.status().config.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const to = pick(this.r, voters);
    this.transfers++;
    this.c.trace(`transfer ${leader.id} -> ${to}`);
    this.c.act(() => leader.transferLeader(to));
  }

  /** Replaces the current partition (if any) with a fresh one of a random kind. */
  private partition(): void {
    const { c, r } = this;
    const net = c.network;
    const ids = [...c.nodes.keys()];
    if (ids.length < 2) return;
    net.heal();
    this.partitions++;
    const kind = r.intn(5);
    const leader = c.leader();
    if (kind === 4 && leader !== undefined) {
      // The leader and a minority on one side: it keeps appending entries that cannot commit.
      const others = ids.filter((id) => id !== leader.id);
      shuffle(r, others);
      const k = r.intn(Math.floor((ids.length - 1) / 2) + 1);
      const side = [leader.id, ...others.slice(0, k)];
      net.partition(side, others.slice(k));
      c.trace(`split leader side [${side}] | [${others.slice(k)}]`);
    } else if (kind === 0) {
      const x = pick(r, ids);
      net.partition(
        [x],
        ids.filter((id) => id !== x),
      );
      c.trace(`isolate ${x}`);
    } else if (kind === 1) {
      shuffle(r, ids);
      const k = 1 + r.intn(ids.length - 1);
      net.partition(ids.slice(0, k), ids.slice(k));
      c.trace(`split [${ids.slice(0, k)}] | [${ids.slice(k)}]`);
    } else if (kind === 2) {
      const cut: string[] = [];
      for (const a of ids) {
        for (const b of ids) {
          if (a !== b && chance(r, 0.25)) {
            net.cut(a, b);
            cut.push(`${a}->${b}`);
          }
        }
      }
      c.trace(`cut ${cut.join(" ")}`);
    } else {
      // One-way isolation: x still sends but hears nothing, or hears but cannot send.
      const x = pick(r, ids);
      const deaf = chance(r, 0.5);
      for (const y of ids) if (y !== x) deaf ? net.cut(y, x) : net.cut(x, y);
      c.trace(`${deaf ? "deafen" : "mute"} ${x}`);
    }
  }

  private changeMembership(leader: SimNode): void {
    const { c, r } = this;
    const cfg = leader.rn!.status().config;
    if (cfg.votersOutgoing.length > 0) {
      if (!cfg.autoLeave)
        this.proposeConf(leader, { transition: ConfChangeTransition.Auto, changes: [], context: emptyBytes });
      return;
    }
    const voters = cfg.voters;
    const learners = cfg.learners;
    const room = voters.length + learners.length < this.plan.maxMembers;
    const one = (type: ConfChangeType, nodeId: NodeId): ConfChangeSingle[] => [{ type, nodeId }];
    const options: (() => ConfChangeSingle[])[] = [];
    if (room) {
      options.push(() => one(ConfChangeType.AddLearnerNode, c.allocateId()));
      options.push(() => one(ConfChangeType.AddNode, c.allocateId()));
      // Replace a voter by a new one in a single joint change.
      options.push(() => [
        { type: ConfChangeType.AddNode, nodeId: c.allocateId() },
        { type: ConfChangeType.RemoveNode, nodeId: pick(r, voters) },
      ]);
    }
    if (learners.length > 0) {
      options.push(() => one(ConfChangeType.AddNode, pick(r, learners)));
      options.push(() => one(ConfChangeType.RemoveNode, pick(r, learners)));
      // Swap roles: promote a learner and demote a voter together (exercises learnersNext).
      options.push(() => [
        { type: ConfChangeType.AddNode, nodeId: pick(r, learners) },
        { type: ConfChangeType.AddLearnerNode, nodeId: pick(r, voters) },
      ]);
    }
    if (voters.length > 3) {
      options.push(() => one(ConfChangeType.RemoveNode, pick(r, voters)));
      options.push(() => one(ConfChangeType.AddLearnerNode, pick(r, voters)));
    }
    if (options.length === 0) return;
    const changes = pick(r, options)();
    const transition =
      changes.length > 1
        ? pick(r, [
            ConfChangeTransition.Auto,
            ConfChangeTransition.JointImplicit,
            ConfChangeTransition.JointExplicit,
          ])
        : pick(r, [ConfChangeTransition.Auto, ConfChangeTransition.Auto, ConfChangeTransition.JointExplicit]);
    this.proposeConf(leader, { transition, changes, context: emptyBytes });
  }

  private proposeConf(leader: SimNode, cc: ConfChange): void {
    const desc =
      cc.changes.map((ch) => `${ConfChangeType[ch.type]}(${ch.nodeId})`).join(",") || "leave-joint";
    this.c.trace(`propose conf ${desc} ${ConfChangeTransition[cc.transition]} on ${leader.id}`);
    this.c.act(() => leader.proposeConfChange(cc));
  }

  private liveness(): void {
    const c = this.c;
    c.trace("liveness phase: heal, stop losses, restart all");
    c.network.heal();
    c.network.faults = { dropRate: 0, dupRate: 0, maxDelay: Math.min(this.plan.faults.maxDelay, 2) };
    c.crashAfterDelivery = { rate: 0, bounce: 0 };
    for (const n of c.crashed()) c.restart(n);
    const every = this.plan.raft.electionTick;
    let lastProbe = -every;
    for (let t = 0; t < this.plan.livenessBound; t++) {
      const leader = c.leader();
      if (leader !== undefined && t - lastProbe >= every) {
        lastProbe = t;
        const cfg = leader.rn!.status().config;
        if (c.confState.votersOutgoing.length > 0 && cfg.votersOutgoing.length > 0 && !cfg.autoLeave) {
          this.proposeConf(leader, {
            transition: ConfChangeTransition.Auto,
            changes: [],
            context: emptyBytes,
          });
        }
        const probe = `live=${this.probeCount++}`;
        c.probes.set(probe, new Set());
        c.act(() => leader.propose(probe));
      }
      this.advance(0);
      if (this.progressMade()) {
        this.livenessTicks = t + 1;
        return;
      }
    }
    throw new LivenessError(
      `no progress within ${this.plan.livenessBound} ticks after healing: ${this.describe()}`,
    );
  }

  /**
   * Some probe is applied on every voter of the newest configuration (on a majority of each half, and
   * on every member of both halves that must be able to catch up).
   *
   * The one exemption is Raft's, not ours: without CheckQuorum and PreVote, a follower ignores a
   * leader of a lower term and relies on campaigning to raise everyone's term. A member that joined as
   * a voter but has not yet applied its own addition never campaigns, so if a vote request of a
   * candidate since removed gave it a higher term, nothing in Raft brings it back (etcd-io/raft behaves
   * the same). Such a member must then only not be needed for the majority.
   */
  private progressMade(): boolean {
    const { c } = this;
    const cs = c.confState;
    const recovers = this.plan.raft.checkQuorum === true || this.plan.raft.preVote === true;
    const mustApply = (id: NodeId): boolean => {
      if (recovers) return true;
      const n = c.nodes.get(id);
      return (
        n?.confState === undefined ||
        n.confState.voters.includes(id) ||
        n.confState.votersOutgoing.includes(id)
      );
    };
    const done = (appliedBy: Set<NodeId>, voters: readonly NodeId[]): boolean => {
      let applied = 0;
      for (const id of voters) {
        if (appliedBy.has(id)) applied++;
        else if (mustApply(id)) return false;
      }
      return applied > voters.length / 2 || voters.length === 0;
    };
    for (const appliedBy of c.probes.values()) {
      if (done(appliedBy, cs.voters) && done(appliedBy, cs.votersOutgoing)) return true;
    }
    return false;
  }

  private describe(): string {
    const parts: string[] = [];
    const cs = this.c.confState;
    parts.push(`config voters=[${cs.voters}] outgoing=[${cs.votersOutgoing}] learners=[${cs.learners}]`);
    for (const n of this.c.nodes.values()) {
      if (!n.alive) {
        parts.push(`${n.id}: down`);
        continue;
      }
      const s = n.rn!.status();
      parts.push(
        `${n.id}: ${StateType[s.raftState]} term=${s.term} lead=${s.lead} commit=${s.commit} ` +
          `applied=${n.applied} last=${s.lastIndex}`,
      );
      for (const [id, pr] of s.progress) {
        parts.push(
          `  ${n.id}->${id}: ${pr.state} match=${pr.match} next=${pr.next} paused=${pr.paused} snap=${pr.pendingSnapshot}`,
        );
      }
    }
    return parts.join("; ");
  }
}
