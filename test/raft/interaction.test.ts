// Interaction traces of the Raft core: one test per file in test/raft/testdata. Each file scripts
// commands against in-memory nodes and states the exact expected output (see interaction/runner.ts
// for the format and interaction/commands.ts for the commands).
//
// REWRITE=1 writes the actual outputs back into the source files (not dist/) so that an intended
// change of behaviour can be reviewed as a diff; add --test-name-pattern=<file> to rewrite one trace:
//   npm run build && REWRITE=1 node --test --test-name-pattern=figure7 dist/test/raft/interaction.test.js
// Every rewritten output must be checked against the Raft paper / etcd-io/raft semantics before it
// is kept: the traces specify correct behaviour, not whatever the code happens to print.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { handlers } from "./interaction/commands.js";
import { InteractionEnv } from "./interaction/env.js";
import { type Command, describeMismatch, runTraceFile } from "./interaction/runner.js";

// Compiled to dist/test/raft/: the repository root is three levels up; the traces stay in the source tree.
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, here.split(/[\\/]/).includes("dist") ? "../../.." : "../..");
const testdata = join(root, "test", "raft", "testdata");
const rewrite = process.env.REWRITE === "1";

function executor(env: InteractionEnv): (cmd: Command) => string[] {
  return (cmd) => {
    const h = handlers[cmd.name];
    if (h === undefined) throw new Error(`unknown command ${cmd.name}`);
    try {
      h(env, cmd);
    } catch (e) {
      // Whatever was printed before the failure stays visible, followed by the failure itself.
      env.out.error(`panic: ${e instanceof Error ? e.message : String(e)}`);
    }
    return env.out.take();
  };
}

const files = readdirSync(testdata)
  .filter((f) => f.endsWith(".txt"))
  .sort();

test("interaction traces exist", () => {
  assert.ok(files.length >= 30, `expected at least 30 traces in ${testdata}, found ${files.length}`);
});

for (const f of files) {
  test(f, () => {
    const path = join(testdata, f);
    const res = runTraceFile(path, executor(new InteractionEnv()), rewrite);
    if (res.mismatch !== undefined && !rewrite) assert.fail(describeMismatch(path, res.mismatch));
  });
}
