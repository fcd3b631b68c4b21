// npm run robustness -- [--time S] [--seed N] [--nemesis kind,kind|all|none] [--members 3|5] [--each-once]
//                       [--serializable-reads] [--keep] [--dir D] [--runs K]
//
// Runs the robustness harness (runner.ts) against bin/etcd processes; prints progress, the report's
// figures, and on failure the directory kept and the one-line replay command. Exit status 0 when every
// run passed. --runs K repeats with seeds N, N+1, ...

import { FAULT_KINDS, type FaultKind, isFaultKind } from "./nemesis.js";
import { type RunReport, runRobustness } from "./runner.js";

interface Args {
  time: number;
  seed: number;
  nemeses: FaultKind[];
  members: number;
  eachOnce: boolean;
  serializable: boolean;
  keep: boolean;
  dir: string | undefined;
  runs: number;
}

function usage(msg?: string): never {
  if (msg) console.error(`robustness: ${msg}`);
  console.error(
    "usage: npm run robustness -- [--time S] [--seed N] [--nemesis kind,...|all|none] [--members 3|5] [--each-once] [--serializable-reads] [--keep] [--dir D] [--runs K]",
  );
  console.error(`fault kinds: ${FAULT_KINDS.join(", ")}`);
  process.exit(2);
}

function parse(argv: string[]): Args {
  const a: Args = {
    time: 60,
    seed: Math.floor(Math.random() * 2 ** 31),
    nemeses: [...FAULT_KINDS],
    members: 3,
    eachOnce: false,
    serializable: false,
    keep: false,
    dir: undefined,
    runs: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split("=", 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    const num = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) usage(`${flag} needs a non-negative integer`);
      return v;
    };
    switch (flag) {
      case "--time":
        a.time = num();
        break;
      case "--seed":
        a.seed = num();
        break;
      case "--members":
        a.members = num();
        if (a.members < 3) usage("--members must be at least 3");
        break;
      case "--runs":
        a.runs = Math.max(1, num());
        break;
      case "--nemesis": {
        const v = value();
        if (v === "all") a.nemeses = [...FAULT_KINDS];
        else if (v === "none") a.nemeses = [];
        else {
          const ks = v.split(",").map((s) => s.trim());
          a.nemeses = ks.map((k) => (isFaultKind(k) ? k : usage(`unknown fault kind ${k}`)));
        }
        break;
      }
      case "--each-once":
        a.eachOnce = true;
        break;
      case "--serializable-reads":
        a.serializable = true;
        break;
      case "--keep":
        a.keep = true;
        break;
      case "--dir":
        a.dir = value();
        break;
      case "--help":
      case "-h":
        usage();
        break;
      default:
        usage(`unknown argument ${argv[i]}`);
    }
  }
  return a;
}

function summary(r: RunReport): string {
  const lines = [
    `seed ${r.seed}: ${r.ok ? "PASS" : "FAIL"} in ${r.durationS} s, ${r.faults.length} fault(s): ${r.faults.map((f) => f.kind).join(", ")}`,
    `  register ops ${JSON.stringify(r.operations.register)}; appends ${JSON.stringify(r.operations.appends)}; watch events ${r.operations.watchEvents}; leases ${r.operations.leases}`,
  ];
  if (r.linearizability)
    lines.push(
      `  linearizability: ${r.linearizability.verdict} (${r.linearizability.keys.map((k) => `${k.key}: ${k.ops} ops, ${k.steps} steps`).join("; ")})`,
    );
  if (r.durability)
    lines.push(
      `  durability: ${r.durability.acknowledged} acknowledged appends, ${r.durability.present} present (${r.durability.indeterminatePresent} indeterminate present, ${r.durability.indeterminateAbsent} absent)`,
    );
  if (r.watch)
    lines.push(
      `  watch: ${r.watch.events} events; ${r.watch.watchers.map((w) => `${w.name} ${w.events} ev/${w.resumes} resumes`).join(", ")}`,
    );
  if (r.unsyncedDrops !== undefined)
    lines.push(`  restarts that dropped unsynced WAL writes: ${r.unsyncedDrops}`);
  if (r.leases)
    lines.push(
      `  leases: ${r.leases.granted} granted, ${r.leases.kept} kept, ${r.leases.revoked} revoked, ${r.leases.lost} reported lost`,
    );
  if (r.availability) {
    const a = r.availability;
    lines.push(
      `  availability: during faults ${a.duringFaults.ok}/${a.duringFaults.attempted} ok (${a.duringFaults.okPerSecond}/s over ${a.duringFaults.seconds} s), ` +
        `outside ${a.outsideFaults.ok}/${a.outsideFaults.attempted} ok (${a.outsideFaults.okPerSecond}/s over ${a.outsideFaults.seconds} s); longest write gap ${a.longestWriteGapMs} ms`,
    );
  }
  if (!r.ok) lines.push(`  kept ${r.dir}`, `  replay: ${r.replay}`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  let failed = 0;
  for (let k = 0; k < a.runs; k++) {
    const r = await runRobustness({
      seed: a.seed + k,
      members: a.members,
      nemeses: a.nemeses,
      timeS: a.time,
      eachOnce: a.eachOnce,
      serializableReads: a.serializable,
      keep: a.keep,
      baseDir: a.dir,
      copyBuild: true,
      log: (l) => console.log(l),
    });
    console.log(summary(r));
    if (!r.ok) failed++;
  }
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
