// The MVCC key space on one core, in the store itself (no raft, no network): puts per second, single-key
// ranges per second, and heap per 100k keys. The backend is a real LMDB file in a temp dir, with the
// default batching (100 ms / 10000 writes); work is done in slices of `--slice` operations with a
// yield to the event loop between slices, as the server's apply loop runs.
//
//   node dist/bench/mvcc.js [--keys 100000] [--size 256] [--seconds 3] [--slice 1000]
//
// Prints one JSON object; rates are {wall, cpu}: per second of wall time and per second of CPU time.

import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Backend } from "../src/backend/backend.js";
import { KVStore } from "../src/mvcc/kvstore.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const keys = arg("keys", 100_000);
const size = arg("size", 256);
const seconds = arg("seconds", 3);
const slice = arg("slice", 1000);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function keyOf(i: number): Buffer {
  return Buffer.from(`/registry/pods/default/pod-${i.toString().padStart(8, "0")}`, "latin1");
}

/** Operations per second of wall time, and per second of this process's CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Runs `op(i)` in slices for `secs` seconds. The CPU-time rate is what one core sustains even when the
 * machine is shared (it slightly undercounts: GC helper threads add CPU time too).
 */
async function timed(secs: number, op: (i: number) => void): Promise<Rate> {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const deadline = t0 + secs * 1000;
  let n = 0;
  while (performance.now() < deadline) {
    for (let j = 0; j < slice; j++) op(n++);
    await yieldNow();
  }
  return {
    wall: Math.round(n / ((performance.now() - t0) / 1000)),
    cpu: Math.round(n / (cpuSeconds() - c0)),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "etcd-ts-bench-mvcc-"));
  try {
    const value = Buffer.alloc(size, 0x61);
    const keyBytes = Array.from({ length: keys }, (_, i) => keyOf(i));
    const heapBefore = heapUsed();
    const backend = Backend.open(join(dir, "member", "snap", "db"));
    const kv = new KVStore(backend);

    // Load: one put per key.
    let t0 = performance.now();
    const c0 = cpuSeconds();
    for (let i = 0; i < keys; i += slice) {
      const end = Math.min(keys, i + slice);
      for (let j = i; j < end; j++) kv.put({ key: keyBytes[j], value });
      await yieldNow();
    }
    backend.commit();
    const loadPutsPerSec: Rate = {
      wall: Math.round(keys / ((performance.now() - t0) / 1000)),
      cpu: Math.round(keys / (cpuSeconds() - c0)),
    };
    const heapAfterLoad = heapUsed();

    // Single-key ranges on random existing keys.
    let seed = 1;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % keys;
    };
    let sink = 0;
    const rangesPerSec = await timed(seconds, () => {
      sink += kv.range(keyBytes[rnd()]).kvs[0].value.length;
    });
    const requestRangesPerSec = await timed(seconds, () => {
      sink += kv.rangeRequest({ key: keyBytes[rnd()] }).count;
    });

    // Overwrites of random existing keys (new revisions; the index grows by one revision each).
    const putsPerSec = await timed(seconds, () => {
      kv.put({ key: keyBytes[rnd()], value });
    });

    // Range of 100 consecutive keys.
    const prefixRangesPerSec = await timed(seconds / 2, () => {
      const i = rnd() % (keys - 100);
      sink += kv.range(keyBytes[i], keyBytes[i + 100]).kvs.length;
    });

    // Compaction of everything overwritten, then the heap again.
    t0 = performance.now();
    const c = kv.compact(kv.rev());
    const compactIndexMs = performance.now() - t0;
    await c.done;
    const compactTotalMs = performance.now() - t0;
    backend.forceCommit();
    const heapAfterCompact = heapUsed();

    // Restart: rebuild the index from the backend.
    const rev = kv.rev();
    kv.close();
    backend.close();
    t0 = performance.now();
    const backend2 = Backend.open(join(dir, "member", "snap", "db"));
    const kv2 = new KVStore(backend2);
    const restoreMs = performance.now() - t0;
    if (kv2.rev() !== rev) throw new Error(`restore: rev ${kv2.rev()} != ${rev}`);
    const dbBytes = backend2.size();
    backend2.close();

    const mib = (n: number): number => Math.round((n / 1048576) * 10) / 10;
    console.log(
      JSON.stringify(
        {
          bench: "mvcc",
          keys,
          valueBytes: size,
          loadPutsPerSec,
          putsPerSec,
          rangesPerSec,
          requestRangesPerSec,
          range100PerSec: prefixRangesPerSec,
          heapMiBPerKeys: mib(heapAfterLoad - heapBefore),
          heapMiBAfterCompact: mib(heapAfterCompact - heapBefore),
          compactIndexMs: Math.round(compactIndexMs),
          compactTotalMs: Math.round(compactTotalMs),
          restoreMs: Math.round(restoreMs),
          dbMiB: mib(dbBytes),
          rssMiB: mib(process.memoryUsage().rss),
          loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
          goals: { putsPerSec: 100_000, rangesPerSec: 300_000, heapMiB: 60 },
          sink: sink > 0,
        },
        null,
        2,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
