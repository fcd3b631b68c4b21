// Durability of the appends: after healing and a full restart (every member killed at once, unsynced WAL
// writes dropped), every acknowledged append is present, at the revision its put was acknowledged at;
// no append that certainly failed is present; nothing is present that nobody tried to write.

import type { AppendAttempt } from "../workload/append.js";

export interface DurabilityResult {
  ok: boolean;
  acknowledged: number;
  present: number;
  /** Indeterminate appends found present / absent. */
  indeterminatePresent: number;
  indeterminateAbsent: number;
  problems: string[];
}

export function checkAppends(
  attempts: readonly AppendAttempt[],
  present: readonly { key: string; value: string; modRevision: number }[],
): DurabilityResult {
  const found = new Map(present.map((p) => [p.key, p]));
  const attempted = new Map(attempts.map((a) => [a.key, a]));
  const problems: string[] = [];
  let acknowledged = 0;
  let indeterminatePresent = 0;
  let indeterminateAbsent = 0;
  const lost: string[] = [];
  for (const a of attempts) {
    const p = found.get(a.key);
    if (a.status === "ok") {
      acknowledged++;
      if (p === undefined) lost.push(`${a.key} (acknowledged at revision ${a.revision})`);
      else if (p.value !== a.value)
        problems.push(`${a.key}: value ${JSON.stringify(p.value)}, wrote ${JSON.stringify(a.value)}`);
      else if (a.revision !== undefined && p.modRevision !== a.revision) {
        problems.push(
          `${a.key}: at revision ${p.modRevision}, but its put was acknowledged at revision ${a.revision}`,
        );
      }
    } else if (a.status === "fail") {
      if (p !== undefined)
        problems.push(
          `${a.key}: present, but its put failed with an error proving it was not executed (${a.error})`,
        );
    } else if (p !== undefined) indeterminatePresent++;
    else indeterminateAbsent++;
  }
  if (lost.length > 0) {
    problems.unshift(
      `${lost.length} acknowledged append(s) lost: ${lost.slice(0, 20).join(", ")}${lost.length > 20 ? ", ..." : ""}`,
    );
  }
  for (const p of present) {
    if (!attempted.has(p.key)) problems.push(`${p.key}: present, but nobody wrote it`);
  }
  return {
    ok: problems.length === 0,
    acknowledged,
    present: present.length,
    indeterminatePresent,
    indeterminateAbsent,
    problems,
  };
}
