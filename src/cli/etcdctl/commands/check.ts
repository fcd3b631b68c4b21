// check perf: 60 s of rate-limited puts (1 KiB values under --prefix) from many clients, then PASS/FAIL
// on throughput, slowest request and latency deviation. check datascale: a fixed number of puts, with the
// server's resident memory (from /metrics) read before and after. Both delete their keys at the end
// (--auto-compact / --auto-defrag go further).

import { randomBytes } from "node:crypto";
import { KVService, MaintenanceService, type PutRequest } from "../../../api/gen/etcdserverpb/rpc.js";
import type { CommandSpec, RunContext } from "../command.js";
import type { Conn } from "../conn.js";
import { initDisplay } from "../display.js";
import { ExitBadFeature, ExitError, ExitInvalidInput, exitQuietly, exitWithError } from "../exit.js";
import { applyEnv, connConfig, newConn } from "../globals.js";
import { goQuote } from "../goformat.js";
import { keyBytes, prefixRangeEnd } from "../keys.js";
import { out, outln } from "../out.js";
import { rangeRequest } from "./kv.js";

const ALIASES: Record<string, string> = {
  s: "s",
  small: "s",
  m: "m",
  medium: "m",
  l: "l",
  large: "l",
  xl: "xl",
  xLarge: "xl",
};
const PERF: Record<string, { limit: number; clients: number; duration: number }> = {
  s: { limit: 150, clients: 50, duration: 60 },
  m: { limit: 1000, clients: 200, duration: 60 },
  l: { limit: 8000, clients: 500, duration: 60 },
  xl: { limit: 15000, clients: 1000, duration: 60 },
};
const DATASCALE: Record<string, { limit: number; kvSize: number; clients: number }> = {
  s: { limit: 10000, kvSize: 1024, clients: 50 },
  m: { limit: 100000, kvSize: 1024, clients: 200 },
  l: { limit: 1000000, kvSize: 1024, clients: 500 },
  xl: { limit: 3000000, kvSize: 1024, clients: 1000 },
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A 256-byte (or `size`) key: a random varint then zeros, after the prefix (as etcdctl builds it). */
function randomKey(prefix: string, size: number): Uint8Array {
  const k = Buffer.alloc(size);
  randomBytes(8).copy(k, 0);
  return Buffer.concat([Buffer.from(keyBytes(prefix)), k]);
}

/** The progress bar etcdctl draws (cheggaaa/pb with the "Bom !" format), redrawn in place. */
class Bar {
  private n = 0;
  constructor(private readonly total: number) {}
  add(k = 1): void {
    this.n = Math.min(this.total, this.n + k);
    const w = 50;
    const done = Math.floor((this.n / this.total) * w);
    const bar = `B${"o".repeat(Math.max(0, done - 1))}${done > 0 ? "m" : ""}${" ".repeat(w - done)}!`;
    out(
      `\r${String(this.n).padStart(String(this.total).length)} / ${this.total} ${bar} ${((this.n / this.total) * 100).toFixed(2)}%`,
    );
  }
  finish(): void {
    // The last second's tick may land after the deadline: the bar ends full, as pb's Finish draws it.
    if (this.n < this.total) this.add(this.total - this.n);
    out("\n");
  }
}

interface Stats {
  ok: number;
  errors: Map<string, number>;
  lats: number[];
  totalS: number;
}

/** Runs `next()`'s puts through `clients` concurrently until it returns undefined. */
async function load(
  clients: Conn[],
  next: () => Promise<PutRequest | undefined>,
  onDone?: () => void,
): Promise<Stats> {
  const st: Stats = { ok: 0, errors: new Map(), lats: [], totalS: 0 };
  const start = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      for (;;) {
        const req = await next();
        if (req === undefined) return;
        const t0 = performance.now();
        try {
          await c.unary(KVService.put, req, { deadline: undefined });
          st.ok++;
          st.lats.push((performance.now() - t0) / 1000);
        } catch (e) {
          const m = e instanceof Error ? e.message : String(e);
          st.errors.set(m, (st.errors.get(m) ?? 0) + 1);
        }
        onDone?.();
      }
    }),
  );
  st.totalS = (performance.now() - start) / 1000;
  return st;
}

async function cleanup(c: Conn, prefix: string, autoCompact: boolean): Promise<void> {
  const p = keyBytes(prefix);
  try {
    const r = await c.unary(
      KVService.deleteRange,
      { key: p, rangeEnd: prefixRangeEnd(p), prevKv: false },
      { deadline: Date.now() + 30_000 },
    );
    if (autoCompact) {
      const rev = r.header?.revision ?? 0n;
      outln(`Compacting with revision ${rev}`);
      await c
        .unary(KVService.compact, { revision: rev, physical: true }, { deadline: Date.now() + 30_000 })
        .catch((e: Error) => exitWithError(ExitError, e.message));
      outln(`Compacted with revision ${rev}`);
    }
  } catch (e) {
    outln(`FAIL: Cleanup failed during key deletion: ERROR(${e instanceof Error ? e.message : String(e)})`);
  }
}

async function defragAll(c: Conn): Promise<void> {
  for (const ep of c.endpoints()) {
    outln(`Defragmenting ${goQuote(ep)}`);
    await c
      .unary(MaintenanceService.defragment, {}, { deadline: Date.now() + 30_000, endpoint: ep })
      .catch((e: Error) => exitWithError(ExitError, e.message));
    outln(`Defragmented ${goQuote(ep)}`);
  }
}

async function clientsFor(ctx: RunContext, n: number): Promise<Conn[]> {
  applyEnv(ctx);
  const cfg = await connConfig(ctx);
  initDisplay(ctx);
  const out: Conn[] = [];
  for (let i = 0; i < n; i++) out.push(await newConn(cfg));
  return out;
}

async function assertEmpty(c: Conn, prefix: string, hint: (p: string) => string): Promise<void> {
  const p = keyBytes(prefix);
  const r = await c
    .unary(
      KVService.range,
      { ...rangeRequest(p, prefixRangeEnd(p)), limit: 1n },
      { deadline: undefined, idempotent: true },
    )
    .catch((e: Error) => exitWithError(ExitError, e.message));
  if (r.kvs.length > 0) exitWithError(ExitInvalidInput, hint(prefix));
}

function stddev(xs: number[]): number {
  if (xs.length === 0) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
}

async function perfRun(ctx: RunContext): Promise<void> {
  const model = ALIASES[ctx.flags.str("load")];
  if (model === undefined) exitWithError(ExitBadFeature, `unknown load option ${ctx.flags.str("load")}`);
  const cfg = PERF[model]!;
  const prefix = ctx.flags.str("prefix");
  const clients = await clientsFor(ctx, cfg.clients);
  await assertEmpty(
    clients[0]!,
    prefix,
    (p) => `prefix ${goQuote(p)} has keys. Delete with 'etcdctl del --prefix ${p}' first`,
  );
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
  });
  const bar = new Bar(cfg.duration);
  bar.add(0);
  const ticker = setInterval(() => bar.add(), 1000);
  const end = Date.now() + cfg.duration * 1000;
  let nextAt = Date.now();
  const value = new Uint8Array(1024);
  const s = await load(clients, async () => {
    // A token bucket of one: requests leave at most `limit` per second.
    const now = Date.now();
    if (nextAt > now) await sleep(nextAt - now);
    nextAt = Math.max(nextAt, Date.now()) + 1000 / cfg.limit;
    if (Date.now() >= end || interrupted) return undefined;
    return {
      key: randomKey(prefix, 256),
      value,
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    };
  });
  clearInterval(ticker);
  bar.finish();
  await cleanup(clients[0]!, prefix, ctx.flags.bool("auto-compact"));
  if (ctx.flags.bool("auto-defrag")) await defragAll(clients[0]!);
  for (const c of clients) c.close();
  let ok = true;
  if (s.errors.size !== 0) {
    outln("FAIL: too many errors");
    for (const [k, v] of s.errors) outln(`FAIL: ERROR(${k}) -> ${v}`);
    ok = false;
  }
  const rps = s.ok / s.totalS;
  if (rps / cfg.limit <= 0.9) {
    outln(`FAIL: Throughput too low: ${Math.floor(rps) + 1} writes/s`);
    ok = false;
  } else outln(`PASS: Throughput is ${Math.floor(rps) + 1} writes/s`);
  const slowest = Math.max(0, ...s.lats);
  if (slowest > 0.5) {
    outln(`Slowest request took too long: ${slowest.toFixed(6)}s`);
    ok = false;
  } else outln(`PASS: Slowest request took ${slowest.toFixed(6)}s`);
  const sd = stddev(s.lats);
  if (sd > 0.1) {
    outln(`Stddev too high: ${sd.toFixed(6)}s`);
    ok = false;
  } else outln(`PASS: Stddev is ${sd.toFixed(6)}s`);
  if (ok) outln("PASS");
  else {
    outln("FAIL");
    exitQuietly(ExitError);
  }
}

/** process_resident_memory_bytes from the endpoint's /metrics (0 when it cannot be read). */
async function residentMemory(ep: string): Promise<number> {
  const host = ep.startsWith("http://") || ep.startsWith("https://") ? ep : `http://${ep}`;
  try {
    const text = await (await fetch(`${host}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("process_resident_memory_bytes"));
    if (line === undefined) {
      outln("could not find: process_resident_memory_bytes");
      return 0;
    }
    const v = Number(line.slice("process_resident_memory_bytes".length).trim());
    return Number.isFinite(v) ? v : 0;
  } catch (e) {
    outln(`fetch error: ${e instanceof Error ? e.message : String(e)}`);
    return 0;
  }
}

async function datascaleRun(ctx: RunContext): Promise<void> {
  const model = ALIASES[ctx.flags.str("load")];
  if (model === undefined) exitWithError(ExitBadFeature, `unknown load option ${ctx.flags.str("load")}`);
  const cfg = DATASCALE[model]!;
  const prefix = ctx.flags.str("prefix");
  const clients = await clientsFor(ctx, cfg.clients);
  const ep = clients[0]!.endpoints()[0]!;
  await assertEmpty(
    clients[0]!,
    prefix,
    (p) => `prefix ${goQuote(p)} has keys. Delete with etcdctl del --prefix ${p} first`,
  );
  const before = await residentMemory(ep);
  if (before === 0) {
    outln("FAIL: Could not read process_resident_memory_bytes before the put operations.");
    exitQuietly(ExitError);
  }
  outln(
    `Start data scale check for work load [${cfg.limit} key-value pairs, ${cfg.kvSize} bytes per key-value, ${cfg.clients} concurrent clients].`,
  );
  const bar = new Bar(cfg.limit);
  let sent = 0;
  const value = new Uint8Array(512);
  const s = await load(
    clients,
    async () =>
      sent++ < cfg.limit
        ? {
            key: randomKey(prefix, 512),
            value,
            lease: 0n,
            prevKv: false,
            ignoreValue: false,
            ignoreLease: false,
          }
        : undefined,
    () => bar.add(),
  );
  bar.finish();
  const after = await residentMemory(ep);
  if (after === 0) {
    outln("FAIL: Could not read process_resident_memory_bytes after the put operations.");
    exitQuietly(ExitError);
  }
  await cleanup(clients[0]!, prefix, ctx.flags.bool("auto-compact"));
  if (ctx.flags.bool("auto-defrag")) await defragAll(clients[0]!);
  for (const c of clients) c.close();
  if (s.errors.size !== 0) {
    outln("FAIL: too many errors");
    for (const [k, v] of s.errors) outln(`FAIL: ERROR(${k}) -> ${v}`);
    exitQuietly(ExitError);
  }
  outln(`PASS: Approximate system memory used : ${((after - before) / (1024 * 1024)).toFixed(2)} MB.`);
}

export function checkSpec(): CommandSpec {
  const common = [
    {
      name: "auto-compact",
      kind: "bool" as const,
      def: false,
      usage: "Compact storage with last revision after test is finished.",
    },
    {
      name: "auto-defrag",
      kind: "bool" as const,
      def: false,
      usage: "Defragment storage after test is finished.",
    },
  ];
  return {
    use: "check <subcommand>",
    short: "commands for checking properties of the etcd cluster",
    subcommands: [
      {
        use: "perf [options]",
        short: "Check the performance of the etcd cluster",
        flags: [
          {
            name: "load",
            kind: "string",
            def: "s",
            usage:
              "The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)",
          },
          {
            name: "prefix",
            kind: "string",
            def: "/etcdctl-check-perf/",
            usage: "The prefix for writing the performance check's keys.",
          },
          ...common,
        ],
        run: perfRun,
      },
      {
        use: "datascale [options]",
        short: "Check the memory usage of holding data for different workloads on a given server endpoint.",
        long: "If no endpoint is provided, localhost will be used. If multiple endpoints are provided, first endpoint will be used.",
        flags: [
          {
            name: "load",
            kind: "string",
            def: "s",
            usage:
              "The datascale check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)",
          },
          {
            name: "prefix",
            kind: "string",
            def: "/etcdctl-check-datascale/",
            usage: "The prefix for writing the datascale check's keys.",
          },
          ...common,
        ],
        run: datascaleRun,
      },
    ],
  };
}
