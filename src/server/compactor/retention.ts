// --auto-compaction-mode and --auto-compaction-retention resolved as etcd reads them: a bare integer is
// hours in periodic mode and a revision count in revision mode; anything else is a Go duration, taken as
// is in periodic mode and as its nanosecond count in revision mode (etcd's quirk, kept for parity).

import { parseGoDurationMs } from "../../pkg/duration.js";

export type CompactionPolicy =
  | { mode: "off" }
  | { mode: "periodic"; periodMs: number }
  | { mode: "revision"; retain: number };

export class CompactionRetentionError extends Error {}

export function compactionPolicy(mode: "periodic" | "revision", retention: string): CompactionPolicy {
  const r = retention === "" ? "0" : retention;
  if (/^\+?\d+$/.test(r)) {
    const n = Number(r.replace(/^\+/, ""));
    if (n === 0) return { mode: "off" };
    return mode === "revision" ? { mode, retain: n } : { mode, periodMs: n * 3_600_000 };
  }
  const ms = parseGoDurationMs(r);
  if (ms === undefined) {
    throw new CompactionRetentionError(`error parsing CompactionRetention: time: invalid duration "${r}"`);
  }
  if (ms <= 0) return { mode: "off" };
  return mode === "revision" ? { mode, retain: Math.round(ms * 1e6) } : { mode, periodMs: ms };
}
