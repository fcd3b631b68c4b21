// `npm start` until the server exists: one simulated 3-member cluster, run in the foreground with its
// events printed (elections, faults, membership changes), then the run's statistics. Ctrl-C stops it.
//
//   node dist/src/sim/demo.js [--seed S] [--nodes 3|5|7]

import { runSeed } from "./index.js";

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

const seed = arg("seed") ?? Math.floor(Date.now() % 1_000_000);
const nodes = arg("nodes") ?? 3;
console.log(`etcd-ts: simulated ${nodes}-member cluster, seed ${seed} (the server is not built yet)`);
const result = runSeed(seed, { nodes, trace: (line) => console.log(line) });
console.log(JSON.stringify(result.stats, null, 2));
if (!result.ok) {
  console.error(`FAILED: ${result.error}`);
  process.exit(1);
}
console.log(
  `ok: ${result.stats.applies} entries applied, ${result.stats.leaders} leaders elected, no invariant violated`,
);
