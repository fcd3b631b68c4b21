// `npm run sim -- [--seeds N] [--seed S] [--nodes 3|5|7] [--jobs J] [--bug NAME]... [--raft JSON] [--safety-only] [--verbose]`
//
// Runs seeds S..S+N-1 (default S=1, N=1 when --seed is given, else N=100), each with its own cluster
// size (or --nodes), and prints `N seeds, M failed, T s`. For each failure it prints the error and the
// one command that replays it. --verbose traces every notable event of each run (use with one seed).
// --jobs splits the seeds over worker threads. --bug switches on one of the deliberate Raft bugs of
// src/raft/testing.ts (for the mutation test); --raft '{"maxInflightMsgs":256}' overrides Raft options
// drawn per seed (to narrow a failure down). --safety-only checks only the safety properties, not the
// algorithm's rules (see Checker.strict). Replay commands carry all three.

import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { raftTestBugs } from "../raft/testing.js";
import { nodeCounts, replayCommand, runSeed, type SimResult } from "./index.js";
import type { RaftOptions } from "./node.js";

type BugName = keyof typeof raftTestBugs;

interface Job {
  first: number;
  count: number;
  nodes: number | undefined;
  bugs: BugName[];
  verbose: boolean;
  raft: Partial<RaftOptions>;
  strict: boolean;
  /** Worker j of `stride` runs seeds first + j, first + j + stride, ... */
  offset: number;
  stride: number;
}

interface Failure {
  seed: number;
  nodes: number;
  error: string;
}

interface Summary {
  runs: number;
  failures: Failure[];
  ticks: number;
}

function usage(msg: string): never {
  console.error(`sim: ${msg}`);
  console.error(
    "usage: npm run sim -- [--seeds N] [--seed S] [--nodes 3|5|7] [--jobs J] [--bug NAME] [--raft JSON] [--safety-only] [--verbose]",
  );
  process.exit(2);
}

function runJob(job: Job, onFailure: (f: Failure) => void): Summary {
  for (const b of job.bugs) raftTestBugs[b] = true;
  const sum: Summary = { runs: 0, failures: [], ticks: 0 };
  for (let i = job.offset; i < job.count; i += job.stride) {
    const seed = job.first + i;
    const res: SimResult = runSeed(seed, {
      ...(job.nodes === undefined ? {} : { nodes: job.nodes }),
      ...(job.verbose ? { trace: (line: string) => console.log(line) } : {}),
      raft: job.raft,
      strict: job.strict,
    });
    sum.runs++;
    sum.ticks += res.stats.ticks;
    if (job.verbose) console.log(JSON.stringify(res.stats));
    if (!res.ok) {
      const f = { seed, nodes: res.stats.nodes, error: res.error! };
      sum.failures.push(f);
      onFailure(f);
    }
  }
  return sum;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string" },
      seed: { type: "string" },
      nodes: { type: "string" },
      jobs: { type: "string" },
      bug: { type: "string", multiple: true },
      raft: { type: "string" },
      "safety-only": { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) usage("help");
  const int = (name: string, s: string | undefined, dflt: number): number => {
    if (s === undefined) return dflt;
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 0) usage(`--${name} wants a non-negative integer, got ${s}`);
    return n;
  };
  const first = int("seed", values.seed, 1);
  const count = int("seeds", values.seeds, values.seed === undefined ? 100 : 1);
  const nodes = values.nodes === undefined ? undefined : int("nodes", values.nodes, 3);
  if (nodes !== undefined && !(nodeCounts as readonly number[]).includes(nodes))
    usage("--nodes must be 3, 5 or 7");
  const bugs = (values.bug ?? []) as BugName[];
  for (const b of bugs)
    if (!(b in raftTestBugs)) usage(`unknown bug ${b}; known: ${Object.keys(raftTestBugs).join(", ")}`);
  const jobs = Math.max(1, Math.min(int("jobs", values.jobs, 1), availableParallelism(), count));
  let raft: Partial<RaftOptions> = {};
  if (values.raft !== undefined) {
    try {
      raft = JSON.parse(values.raft) as Partial<RaftOptions>;
    } catch {
      usage(`--raft wants a JSON object of Raft options, got ${values.raft}`);
    }
  }
  const base: Job = {
    first,
    count,
    nodes,
    bugs,
    verbose: values.verbose ?? false,
    raft,
    strict: !values["safety-only"],
    offset: 0,
    stride: jobs,
  };
  const extra = [
    ...bugs.flatMap((b) => ["--bug", b]),
    ...(values.raft === undefined ? [] : ["--raft", `'${values.raft}'`]),
    ...(values["safety-only"] ? ["--safety-only"] : []),
  ];
  const report = (f: Failure): void => {
    console.log(`seed ${f.seed} (nodes ${f.nodes}) FAILED: ${f.error}`);
    console.log(`  replay: ${replayCommand(f.seed, f.nodes, extra)}`);
  };
  const start = performance.now();
  const done = (sums: Summary[]): void => {
    const runs = sums.reduce((a, s) => a + s.runs, 0);
    const failed = sums.reduce((a, s) => a + s.failures.length, 0);
    const ticks = sums.reduce((a, s) => a + s.ticks, 0);
    const secs = (performance.now() - start) / 1000;
    const which = nodes === undefined ? "mixed 3/5/7 nodes" : `${nodes} nodes`;
    console.log(
      `${runs} seeds, ${failed} failed, ${secs.toFixed(1)} s (seeds ${first}..${first + count - 1}, ${which}, ${ticks} ticks)`,
    );
    process.exitCode = failed > 0 ? 1 : 0;
  };
  if (jobs === 1) {
    done([runJob(base, report)]);
    return;
  }
  const sums: Summary[] = [];
  for (let j = 0; j < jobs; j++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { ...base, offset: j } satisfies Job });
    w.on("message", (msg: { failure?: Failure; summary?: Summary }) => {
      if (msg.failure) report(msg.failure);
      if (msg.summary) {
        sums.push(msg.summary);
        if (sums.length === jobs) done(sums);
      }
    });
    w.on("error", (err) => {
      console.error(err);
      process.exitCode = 1;
    });
  }
}

if (isMainThread) main();
else {
  const job = workerData as Job;
  const summary = runJob(job, (failure) => parentPort!.postMessage({ failure }));
  parentPort!.postMessage({ summary });
}
