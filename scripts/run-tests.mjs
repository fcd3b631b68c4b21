#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's built-in runner, after the linter.
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out.sort();
}

const lint = spawnSync("npx", ["biome", "check", "src", "test", "bench", "scripts"], { stdio: "inherit" });
if (lint.status !== 0) {
  console.error("lint failed: run `npm run format` and fix what `npm run lint` reports");
  process.exit(lint.status ?? 1);
}
const files = findTests("dist/test");
const r = spawnSync(
  process.execPath,
  ["--test", "--test-reporter=spec", ...process.argv.slice(2), ...files],
  {
    stdio: "inherit",
  },
);
process.exit(r.status ?? 1);
