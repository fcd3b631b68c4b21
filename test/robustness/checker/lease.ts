// Lease guarantees:
//   - a lease kept alive and never reported lost still holds its key, and lives, once the cluster healed;
//   - right after an acknowledged revoke, a linearizable get finds no key of the lease;
//   - in the end (all leases let go, the full restart done, their TTLs passed), no lease key is left.

import type { LeaseRecord } from "../workload/lease.js";

export interface LeaseCheckResult {
  ok: boolean;
  granted: number;
  kept: number;
  revoked: number;
  lost: number;
  problems: string[];
}

/** `keptState`: what the cluster said of each confirmed kept lease after healing. */
export function checkLeases(
  leases: readonly LeaseRecord[],
  keptState: ReadonlyMap<LeaseRecord, { key: boolean; ttl: number } | string>,
  leftover: ReadonlySet<string>,
): LeaseCheckResult {
  const problems: string[] = [];
  for (const [rec, st] of keptState) {
    if (typeof st === "string") {
      problems.push(`kept lease ${rec.id}: could not inspect it after healing: ${st}`);
      continue;
    }
    if (rec.lost !== undefined) continue; // reported lost meanwhile: no claim
    if (st.ttl <= 0)
      problems.push(`kept lease ${rec.id} (never reported lost) is gone after healing (TTL ${st.ttl})`);
    if (rec.put === "ok" && !st.key)
      problems.push(`kept lease ${rec.id} (never reported lost) lost its key ${rec.key}`);
  }
  for (const rec of leases) {
    if (rec.keyAfterRevoke === "present") {
      problems.push(
        `lease ${rec.id}: its key ${rec.key} was still there right after the revoke was acknowledged`,
      );
    }
  }
  if (leftover.size > 0) {
    problems.push(
      `${leftover.size} key(s) of expired or revoked leases still present at the end: ${[...leftover].slice(0, 10).join(", ")}`,
    );
  }
  return {
    ok: problems.length === 0,
    granted: leases.length,
    kept: leases.filter((l) => l.fate === "keep").length,
    revoked: leases.filter((l) => l.revoke === "ok").length,
    lost: leases.filter((l) => l.lost !== undefined).length,
    problems,
  };
}
