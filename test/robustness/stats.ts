// Availability figures of a run: operations attempted and succeeded while a fault was in effect (from
// its injection until the cluster was healthy again) and outside faults, and the longest stretch
// without any successful write.

import type { Status } from "./history.js";
import type { FaultRecord } from "./nemesis.js";

export interface TimedOp {
  call: number;
  ret?: number;
  status: Status;
  write: boolean;
}

export interface Window {
  attempted: number;
  ok: number;
  /** Seconds the window lasted. */
  seconds: number;
  /** Successful operations per second. */
  okPerSecond: number;
  /** ok / attempted. */
  availability: number;
}

export interface Availability {
  duringFaults: Window;
  outsideFaults: Window;
  /** Longest time (ms) with no write acknowledged, and when it started (ms since the run began). */
  longestWriteGapMs: number;
  longestWriteGapAt: number;
}

/** `from`/`to`: the part of the run the workloads ran (performance.now() ms). */
export function availability(
  ops: readonly TimedOp[],
  faults: readonly FaultRecord[],
  from: number,
  to: number,
): Availability {
  const spans = faults.map((f) => [f.start, f.recovered ?? f.healed] as const);
  const inFault = (t: number) => spans.some(([a, b]) => t >= a && t <= b);
  let faultMs = 0;
  for (const [a, b] of spans) faultMs += Math.max(0, Math.min(b, to) - Math.max(a, from));
  const total = Math.max(1, to - from);
  const during = { attempted: 0, ok: 0 };
  const outside = { attempted: 0, ok: 0 };
  const writeAcks: number[] = [];
  for (const op of ops) {
    if (op.call < from || op.call > to) continue;
    const w = inFault(op.call) ? during : outside;
    w.attempted++;
    if (op.status === "ok") {
      w.ok++;
      if (op.write) writeAcks.push(op.ret!);
    }
  }
  writeAcks.sort((a, b) => a - b);
  let gap = 0;
  let gapAt = from;
  let prev = from;
  for (const t of [...writeAcks, to]) {
    if (t - prev > gap) {
      gap = t - prev;
      gapAt = prev;
    }
    prev = Math.max(prev, t);
  }
  const win = (c: { attempted: number; ok: number }, ms: number): Window => ({
    attempted: c.attempted,
    ok: c.ok,
    seconds: Math.round(ms / 100) / 10,
    okPerSecond: ms > 0 ? Math.round((c.ok / ms) * 10_000) / 10 : 0,
    availability: c.attempted > 0 ? Math.round((c.ok / c.attempted) * 1000) / 1000 : 1,
  });
  return {
    duringFaults: win(during, faultMs),
    outsideFaults: win(outside, total - faultMs),
    longestWriteGapMs: Math.round(gap),
    longestWriteGapAt: Math.round(gapAt - from),
  };
}
