// WAL group commit: appends per second of 256-byte entries with 1, 16 and 256 concurrent appenders
// (each awaits its save, then saves again), next to the raw fdatasync rate of the same disk measured in
// the same run (a 256-byte write + fdatasync loop on a preallocated file, as the WAL writes). Prints JSON.
//
//   npm run bench:storage -- [--seconds 3] [--size 256] [--dir <dir on the disk to measure>]

import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { EntryType } from "../src/raft/types.js";
import { WAL } from "../src/wal/index.js";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const seconds = Number(arg("seconds", "3"));
const size = Number(arg("size", "256"));
const base = fs.mkdtempSync(join(arg("dir", os.tmpdir()), "etcd-ts-bench-wal-"));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function rawFsyncRate(): number {
  const file = join(base, "raw");
  const fd = fs.openSync(file, "w+");
  fs.ftruncateSync(fd, 64 * 1024 * 1024);
  const buf = Buffer.alloc(size, 7);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  let t = 0;
  const start = performance.now();
  while ((t = performance.now()) < end) {
    fs.writeSync(fd, buf, 0, size, n * size);
    fs.fdatasyncSync(fd);
    n++;
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return n / ((t - start) / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function walRate(appenders: number) {
  const dir = join(base, `wal-${appenders}`);
  const wal = await WAL.create(dir, new Uint8Array([1]), { logger: quiet });
  const data = new Uint8Array(size).fill(42);
  const fsyncs0 = wal.stats.fsyncs;
  const writes0 = wal.stats.writes;
  let next = 1;
  let appends = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  async function appender(): Promise<void> {
    while (performance.now() < end) {
      const t0 = performance.now();
      await wal.save(undefined, [{ term: 1, index: next++, type: EntryType.Normal, data }]);
      latencies.push(performance.now() - t0);
      appends++;
    }
  }
  await Promise.all(Array.from({ length: appenders }, appender));
  const elapsed = (performance.now() - start) / 1000;
  const fsyncs = wal.stats.fsyncs - fsyncs0;
  const writes = wal.stats.writes - writes0;
  await wal.close();
  fs.rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    appenders,
    appendsPerSec: Math.round(appends / elapsed),
    fsyncsPerSec: Math.round(fsyncs / elapsed),
    appendsPerFsync: Number((appends / Math.max(1, fsyncs)).toFixed(1)),
    writes,
    latencyMs: {
      p50: Number(percentile(latencies, 0.5).toFixed(3)),
      p99: Number(percentile(latencies, 0.99).toFixed(3)),
    },
  };
}

try {
  // The raw rate is measured before and after the WAL runs: a shared disk's rate drifts.
  const rawBefore = rawFsyncRate();
  const runs = [];
  for (const n of [1, 16, 256]) runs.push(await walRate(n));
  const rawAfter = rawFsyncRate();
  const at256 = runs.find((r) => r.appenders === 256)!;
  console.log(
    JSON.stringify(
      {
        bench: "wal",
        dir: base,
        node: process.version,
        seconds,
        entryBytes: size,
        rawFsyncsPerSec: Math.round((rawBefore + rawAfter) / 2),
        rawFsyncsPerSecBeforeAfter: [Math.round(rawBefore), Math.round(rawAfter)],
        wal: runs,
        goal: { appendsPerFsyncAt256: 20, met: at256.appendsPerFsync >= 20 },
      },
      null,
      2,
    ),
  );
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
