// Mutation test: each classic Raft bug of src/raft/testing.ts, switched on alone, must be caught by the
// simulator's checks within a bounded number of seeds. "Caught" means a Violation or a liveness failure
// reported by the simulator; a crash of the core itself does not count.
//
// Two checkers are measured. The default (strict) one also checks rules of the algorithm (one vote per
// term, commit only on an entry of the leader's term, only committed entries applied); the safety-only
// one checks nothing but the safety properties, so the bug must show through its consequences. The
// Figure 8 bug (commitPreviousTermByCount) needs thousands of seeds to surface as a safety breach, so
// that case runs only with SIM_MUTATION_FULL=1.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { raftTestBugs, resetRaftTestBugs } from "../../src/raft/testing.js";
import { runSeed } from "../../src/sim/index.js";

type Bug = keyof typeof raftTestBugs;

/** The first seed in 1..maxSeeds whose run the simulator reports as failed, with the failure. */
function firstCatch(
  bug: Bug,
  strict: boolean,
  maxSeeds: number,
): { seed: number; error: string } | undefined {
  raftTestBugs[bug] = true;
  try {
    for (let seed = 1; seed <= maxSeeds; seed++) {
      const r = runSeed(seed, { strict });
      if (!r.ok && !r.error!.startsWith("exception")) return { seed, error: r.error! };
    }
    return undefined;
  } finally {
    resetRaftTestBugs();
  }
}

const cases: { bug: Bug; strict: boolean; maxSeeds: number; slow?: boolean }[] = [
  { bug: "commitPreviousTermByCount", strict: true, maxSeeds: 200 },
  { bug: "voteWithoutLogCheck", strict: true, maxSeeds: 200 },
  { bug: "applyUncommitted", strict: true, maxSeeds: 200 },
  { bug: "forgetVote", strict: true, maxSeeds: 500 },
  { bug: "voteWithoutLogCheck", strict: false, maxSeeds: 200 },
  { bug: "applyUncommitted", strict: false, maxSeeds: 200 },
  { bug: "forgetVote", strict: false, maxSeeds: 3000 },
  { bug: "commitPreviousTermByCount", strict: false, maxSeeds: 30000, slow: true },
];

describe("mutation: the simulator catches classic Raft bugs", () => {
  afterEach(() => resetRaftTestBugs());

  for (const c of cases) {
    const name = `${c.bug} (${c.strict ? "strict checks" : "safety properties only"}) within ${c.maxSeeds} seeds`;
    test(name, {
      skip: c.slow && process.env.SIM_MUTATION_FULL !== "1" ? "set SIM_MUTATION_FULL=1" : false,
    }, (t) => {
      const start = performance.now();
      const caught = firstCatch(c.bug, c.strict, c.maxSeeds);
      assert.ok(caught !== undefined, `${c.bug} was not caught in ${c.maxSeeds} seeds`);
      const secs = ((performance.now() - start) / 1000).toFixed(1);
      t.diagnostic(`caught at seed ${caught.seed} (${secs} s): ${caught.error.slice(0, 200)}`);
    });
  }

  test("with no bug switched on, the same seeds pass", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = runSeed(seed, { strict: true });
      assert.ok(r.ok, `seed ${seed}: ${r.error}`);
    }
  });
});
