// The linearizability checker catches a real stale read: the register workload with serializable reads
// (served from a member's local state, without a quorum round trip) while partitions isolate a member.
// Read-only raw clients pinned to the isolated member keep getting the value it had when it was cut
// off, while the majority goes on writing. The run must fail the check, and the failure must be in the
// partition: the writes plus only the isolated member's reads during the partition are already not
// linearizable (removing reads from a linearizable history keeps it linearizable, so the violation is
// theirs).

import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkRegisters } from "./checker/linearizability.js";
import type { Operation } from "./history.js";
import { runRobustness } from "./runner.js";

test("robustness: serializable reads under partitions fail the linearizability check", {
  timeout: 180_000,
}, async (t) => {
  const lines: string[] = [];
  const r = await runRobustness({
    seed: 7,
    members: 3,
    nemeses: ["partition-follower", "partition-leader"],
    eachOnce: true,
    timeS: 0,
    serializableReads: true,
    only: "registers",
    registerClients: 3,
    readers: 3,
    keys: 2,
    copyBuild: true,
    log: (l) => lines.push(l),
  });
  try {
    assert.equal(
      r.linearizability?.verdict,
      "fail",
      `expected a stale read to be caught:\n${lines.join("\n")}`,
    );
    assert.deepEqual(
      r.problems.filter((p) => !p.startsWith("linearizability fail")),
      [],
      "the only problem is linearizability",
    );
    const ops = readFileSync(join(r.dir, "history-register.jsonl"), "utf8")
      .split("\n")
      .map((l) => JSON.parse(l) as Operation);
    for (const f of r.faults) {
      const isolated = /partition \[(\w+)\]/.exec(f.detail)?.[1];
      assert.ok(isolated, f.detail);
      const inPartition = (o: Operation) =>
        o.input.f === "read" &&
        o.client.startsWith("reader-") &&
        o.member === isolated &&
        o.call >= f.start &&
        o.call <= f.healed;
      const sub = ops.filter((o) => o.input.f !== "read" || inPartition(o));
      const reads = sub.filter(inPartition).length;
      const v = checkRegisters(sub);
      t.diagnostic(
        `${f.kind} (${f.detail}): ${reads} reads on ${isolated} during it; writes + those reads: ${v.verdict}`,
      );
      assert.ok(reads > 10, `the isolated member served reads during ${f.kind}`);
      assert.equal(v.verdict, "fail", `the stale reads of ${isolated} during ${f.kind} are caught`);
    }
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});
