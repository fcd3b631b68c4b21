// The simulator's entry point: runSeed(seed) builds a cluster from the seed, runs its schedule with
// every check enabled and reports the outcome. Equal seeds and options give equal runs, down to the
// fingerprint in the stats.

import { Violation } from "./checker.js";
import { Cluster } from "./cluster.js";
import type { RaftOptions } from "./node.js";
import { LivenessError, makePlan, Scenario } from "./scenario.js";
import { derivedRand, Stream } from "./seeds.js";

export { Violation } from "./checker.js";
export { LivenessError } from "./scenario.js";

export interface SimOptions {
  /** Initial voters: 3, 5 or 7. Default: by seed (nodesForSeed). */
  nodes?: number;
  /** Length of the chaos phase in ticks. Default: drawn per seed (150..249). */
  chaosTicks?: number;
  /** Receives a line per notable event (role changes, faults, membership). */
  trace?: (line: string) => void;
  /** Also check the algorithm's rules, not only the safety properties (default true; see Checker.strict). */
  strict?: boolean;
  /** Overrides of the Raft options drawn for the seed (e.g. to isolate a core bug to one option). */
  raft?: Partial<RaftOptions>;
}

export interface SimStats {
  seed: number;
  nodes: number;
  ticks: number;
  livenessTicks: number;
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  cut: number;
  proposals: number;
  proposalsRefused: number;
  acked: number;
  readsIssued: number;
  readsServed: number;
  leaders: number;
  maxCommit: number;
  applies: number;
  confChangesApplied: number;
  membersAdded: number;
  membersRemoved: number;
  crashes: number;
  restarts: number;
  partitions: number;
  transfers: number;
  compactions: number;
  snapshotsRestored: number;
  /** Hash of every delivery and every applied state: equal runs have equal fingerprints. */
  fingerprint: number;
}

export interface SimResult {
  ok: boolean;
  /** What failed: "<invariant>: <detail>", or an exception with its stack. */
  error?: string;
  stats: SimStats;
}

export const nodeCounts = [3, 5, 7] as const;

/** The cluster size a seed runs with when none is given. */
export function nodesForSeed(seed: number): number {
  return nodeCounts[seed % nodeCounts.length]!;
}

/** The one command that replays a run. */
export function replayCommand(seed: number, nodes: number, extra: readonly string[] = []): string {
  return ["npm run sim -- --seed", String(seed), "--nodes", String(nodes), ...extra].join(" ");
}

export function runSeed(seed: number, options: SimOptions = {}): SimResult {
  const nodes = options.nodes ?? nodesForSeed(seed);
  const plan = makePlan(nodes, derivedRand(seed, Stream.schedule, 0), options.chaosTicks);
  if (options.raft !== undefined) Object.assign(plan.raft, options.raft);
  const cluster = new Cluster({
    seed,
    voters: nodes,
    raft: plan.raft,
    faults: plan.faults,
    crashAfterDelivery: { rate: plan.rates.crashAfterDelivery, bounce: plan.rates.bounce },
    ...(options.trace === undefined ? {} : { trace: options.trace }),
  });
  if (options.strict === false) cluster.checker.strict = false;
  const scenario = new Scenario(cluster, plan, derivedRand(seed, Stream.schedule, 1));
  let error: string | undefined;
  try {
    scenario.run();
  } catch (err) {
    if (err instanceof Violation || err instanceof LivenessError) error = err.message;
    else error = `exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  }
  const net = cluster.network.stats;
  const cs = cluster.stats;
  const ck = cluster.checker.stats;
  const stats: SimStats = {
    seed,
    nodes,
    ticks: cluster.now,
    livenessTicks: scenario.livenessTicks,
    sent: net.sent,
    delivered: net.delivered,
    dropped: net.dropped,
    duplicated: net.duplicated,
    cut: net.cut,
    proposals: cs.proposals,
    proposalsRefused: cs.proposalsRefused,
    acked: ck.acked,
    readsIssued: cs.readsIssued,
    readsServed: ck.readsServed,
    leaders: ck.leaders,
    maxCommit: ck.maxCommit,
    applies: ck.applies,
    confChangesApplied: cs.confChangesApplied,
    membersAdded: cs.membersAdded,
    membersRemoved: cs.membersRemoved,
    crashes: cs.crashes,
    restarts: cs.restarts,
    partitions: scenario.partitions,
    transfers: scenario.transfers,
    compactions: cs.compactions,
    snapshotsRestored: cs.snapshotsRestored,
    fingerprint: cluster.fingerprint,
  };
  return error === undefined ? { ok: true, stats } : { ok: false, error, stats };
}
