// Watch guarantees. The reference is the whole event history (revision 1 through the final revision),
// read after the run from every member with a fresh watch; the members must agree on it exactly. Then:
//   - the reference is well formed: revisions never go back and never skip one (every revision after
//     the first is made by a change, and a change makes events);
//   - every watcher's events are exactly the reference's first events, in order: no gap, no duplicate,
//     no reordering, same keys, types and values, across every resume; a watcher that reported itself
//     caught up to the final revision has all of them;
//   - every acknowledged write is in the reference at the revision it was acknowledged at, with its
//     value; no value that certainly failed to be written is.

import type { WatchedEvent, WatcherRecord } from "../workload/watch.js";

export interface AckedWrite {
  key: string;
  value: string;
  revision: number;
  what: string;
}

export interface WatchCheckResult {
  ok: boolean;
  events: number;
  problems: string[];
}

const show = (e: WatchedEvent | undefined) =>
  e === undefined ? "nothing" : `${e.type} ${e.key}=${JSON.stringify(e.value)} @${e.rev}`;

const same = (a: WatchedEvent, b: WatchedEvent) =>
  a.rev === b.rev && a.key === b.key && a.type === b.type && a.value === b.value;

/** The members' references agree, and the first one is well formed. Returns problems. */
export function checkReferences(refs: ReadonlyMap<string, readonly WatchedEvent[]>): string[] {
  const problems: string[] = [];
  const entries = [...refs];
  if (entries.length === 0) return ["no reference history could be read"];
  const [firstName, first] = entries[0]!;
  for (const [name, ref] of entries.slice(1)) {
    const n = Math.max(ref.length, first.length);
    for (let i = 0; i < n; i++) {
      const a = first[i];
      const b = ref[i];
      if (a === undefined || b === undefined || !same(a, b)) {
        problems.push(
          `members disagree on the history: event #${i} is ${show(a)} on ${firstName}, ${show(b)} on ${name}`,
        );
        break;
      }
    }
  }
  for (let i = 1; i < first.length; i++) {
    const d = first[i]!.rev - first[i - 1]!.rev;
    if (d < 0 || d > 1) {
      problems.push(
        `reference history jumps from revision ${first[i - 1]!.rev} to ${first[i]!.rev} at event #${i}`,
      );
      break;
    }
  }
  return problems;
}

/**
 * Compares one watcher with the reference. `completeThrough`: a revision the watcher reported to have
 * delivered everything up to (its events must then include every reference event up to it).
 */
export function checkWatcher(
  ref: readonly WatchedEvent[],
  w: WatcherRecord,
  completeThrough?: number,
): string[] {
  const ev = w.events;
  for (let i = 0; i < ev.length; i++) {
    const got = ev[i]!;
    const want = ref[i];
    if (want !== undefined && same(got, want)) continue;
    const prev = ev[i - 1];
    let what: string;
    if (want === undefined) what = "an event beyond the end of the history";
    else if (prev !== undefined && got.rev < prev.rev)
      what = "went back in revision (a duplicate or a reordering)";
    else if (prev !== undefined && same(got, prev)) what = "a duplicate";
    else if (got.rev > want.rev) what = `a gap (missed ${show(want)})`;
    else what = "a different event";
    return [
      `${w.name}: event #${i} is ${show(got)}, expected ${show(want)}: ${what} (after ${w.resumes} resume(s))`,
    ];
  }
  if (completeThrough !== undefined) {
    const need = ref.filter((e) => e.rev <= completeThrough).length;
    if (ev.length < need) {
      return [
        `${w.name}: stopped at event #${ev.length} (${show(ev.at(-1))}), though it reported everything through revision ${completeThrough} (${need} events)`,
      ];
    }
  }
  return [];
}

/** Acknowledged writes are in the history where they were acknowledged; certainly failed values are not. */
export function checkAckedInHistory(
  ref: readonly WatchedEvent[],
  acked: readonly AckedWrite[],
  failedValues: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const byRev = new Map<number, WatchedEvent[]>();
  for (const e of ref) {
    let l = byRev.get(e.rev);
    if (l === undefined) byRev.set(e.rev, (l = []));
    l.push(e);
  }
  const missing: string[] = [];
  for (const a of acked) {
    const at = byRev.get(a.revision) ?? [];
    if (!at.some((e) => e.type === "put" && e.key === a.key && e.value === a.value)) {
      missing.push(
        `${a.what} ${a.key}=${JSON.stringify(a.value)} acknowledged at revision ${a.revision} (history there: ${at.map(show).join("; ") || "nothing"})`,
      );
    }
  }
  if (missing.length > 0) {
    problems.push(
      `${missing.length} acknowledged write(s) not in the history where acknowledged: ${missing.slice(0, 5).join(" | ")}`,
    );
  }
  for (const e of ref) {
    if (e.type === "put" && failedValues.has(e.value)) {
      problems.push(
        `the history holds ${show(e)}, written by an operation that failed with an error proving it was not executed`,
      );
      break;
    }
  }
  return problems;
}
