// Server benchmark: the same grpc-js load generator against a 3-member etcd-ts cluster and a
// 3-member real etcd (3.4) cluster, both started here as child processes on free 127.0.0.1 ports
// with temporary data dirs and default heartbeat/election settings. Prints a JSON result and a
// markdown table of ratios (ours / etcd) and writes bench/results/server-<date>.json.
//
//   node dist/bench/server.js [--seconds N] [--etcd /usr/bin/etcd] [--load-keys 100000]
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import {
  KVClient,
  MaintenanceClient,
  PutRequest,
  RangeRequest,
  StatusRequest,
  type StatusResponse,
} from "../src/api/gen/etcdserverpb/rpc.js";

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench/server.js -> repository root is two levels up
const ROOT = resolve(here, "..", "..");

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1] as string;
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : def;
}

const SECONDS = Number(arg("seconds", "5"));
const ETCD_BIN = arg("etcd", "/usr/bin/etcd");
const LOAD_KEYS = Number(arg("load-keys", "100000"));
/** kill -9 of the leader, repeated (the killed member restarts in between); the median is reported. */
const FAILOVER_SAMPLES = Number(arg("failover-samples", "5"));
/** `--only failover` skips the load cells; `--only defrag` loads LOAD_KEYS keys and defragments the leader. */
const ONLY = arg("only", "");
const KEY_SPACE = 10_000;
const VALUE = new Uint8Array(256).fill(0x61);
const CLK_TCK = 100;

// ---------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const usedPorts = new Set<number>();
async function freePort(): Promise<number> {
  for (;;) {
    const p = await anyPort();
    if (!usedPorts.has(p)) {
      usedPorts.add(p);
      return p;
    }
  }
}
function anyPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const p = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(p));
    });
  });
}

function cpuTicks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); utime is field 14, stime field 15
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

const round = (x: number, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

// ---------------------------------------------------------------- cluster

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  proc?: ChildProcess;
  pid: number;
  alive: boolean;
}

class Cluster {
  readonly members: Member[] = [];
  readonly dir: string;
  constructor(
    readonly label: string,
    readonly cmd: string,
    readonly preArgs: string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `bench-${label}-`));
  }

  private initialCluster = "";

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      this.members.push({
        name: `m${i}`,
        clientPort: await freePort(),
        peerPort: await freePort(),
        pid: 0,
        alive: false,
      });
    }
    this.initialCluster = this.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
    for (const m of this.members) this.spawn(m);
    await this.converged();
  }

  /** (Re)starts member `m`; on a restart its data dir exists and the initial-cluster flags are ignored. */
  spawn(m: Member): void {
    const args = [
      ...this.preArgs,
      "--name",
      m.name,
      "--data-dir",
      join(this.dir, m.name),
      "--listen-client-urls",
      `http://127.0.0.1:${m.clientPort}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${m.clientPort}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${m.peerPort}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${m.peerPort}`,
      "--initial-cluster",
      this.initialCluster,
      "--initial-cluster-state",
      "new",
      "--initial-cluster-token",
      `bench-${this.label}`,
    ];
    const log = openSync(join(this.dir, `${m.name}.log`), "a");
    const p = spawn(this.cmd, args, { stdio: ["ignore", log, log] });
    m.proc = p;
    m.pid = p.pid ?? 0;
    m.alive = true;
    p.on("exit", () => {
      m.alive = false;
    });
    live.add(p);
    p.on("exit", () => live.delete(p));
  }

  /** Resolves once every member is up and reports the same leader. */
  async converged(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const st = await Promise.all(this.members.map((m) => status(m, 1000)));
        const l = st[0]?.leader ?? 0n;
        if (l !== 0n && st.every((s) => s.leader === l)) return;
      } catch {
        /* not yet */
      }
      if (this.members.some((m) => !m.alive))
        throw new Error(`${this.label}: a member exited; logs in ${this.dir}`);
      await sleep(200);
    }
    throw new Error(`${this.label}: no leader within 60 s; logs in ${this.dir}`);
  }

  async leader(): Promise<Member> {
    for (let attempt = 0; attempt < 100; attempt++) {
      for (const m of this.members.filter((x) => x.alive)) {
        try {
          const s = await status(m, 1000);
          if (s.leader !== 0n && s.leader === s.header?.memberId) return m;
        } catch {
          /* try next */
        }
      }
      await sleep(100);
    }
    throw new Error(`${this.label}: cannot find leader`);
  }

  cpu(): number {
    return this.members.reduce((a, m) => a + cpuTicks(m.pid), 0) / CLK_TCK;
  }

  logTail(): string {
    return this.members
      .map((m) => {
        try {
          const t = readFileSync(join(this.dir, `${m.name}.log`), "utf8");
          return `--- ${m.name} (${m.alive ? "alive" : "exited"}):\n${t.slice(-1500)}`;
        } catch {
          return "";
        }
      })
      .join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const p = m.proc;
        if (!p || !m.alive) return;
        const exited = new Promise<void>((r) => p.once("exit", () => r()));
        p.kill("SIGTERM");
        const t = setTimeout(() => {
          if (m.alive) p.kill("SIGKILL");
        }, 5000);
        await exited;
        clearTimeout(t);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const live = new Set<ChildProcess>();
function killAll() {
  for (const p of live) {
    try {
      p.kill("SIGKILL");
    } catch {
      /* gone */
    }
  }
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

const opts = { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": 64 << 20 };

function status(m: Member, timeoutMs: number): Promise<StatusResponse> {
  const c = new MaintenanceClient(`127.0.0.1:${m.clientPort}`, grpc.credentials.createInsecure(), opts);
  return new Promise((res, rej) => {
    c.status(
      StatusRequest.fromPartial({}),
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (e, r) => {
        c.close();
        if (e) rej(e);
        else res(r);
      },
    );
  });
}

function kvClients(m: Member, n: number): KVClient[] {
  return Array.from(
    { length: n },
    () => new KVClient(`127.0.0.1:${m.clientPort}`, grpc.credentials.createInsecure(), opts),
  );
}

type Op = (c: KVClient) => Promise<void>;

function putOp(keyOf: () => Uint8Array, timeoutMs = 10_000): Op {
  return (c) =>
    new Promise((res, rej) => {
      c.put(
        PutRequest.fromPartial({ key: keyOf(), value: VALUE }),
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (e) => (e ? rej(e) : res()),
      );
    });
}

function rangeOp(serializable: boolean): Op {
  return (c) =>
    new Promise((res, rej) => {
      c.range(
        RangeRequest.fromPartial({ key: randomKey(), serializable }),
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (e) => (e ? rej(e) : res()),
      );
    });
}

const keyCache = Array.from({ length: KEY_SPACE }, (_, i) =>
  Buffer.from(`key/${String(i).padStart(5, "0")}`),
);
const randomKey = () => keyCache[Math.floor(Math.random() * KEY_SPACE)] as Uint8Array;

interface Cell {
  clients: number;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  p50ms: number;
  p99ms: number;
  cpuSeconds: number;
  cpuSecPer1kOps: number;
}

async function runCell(cluster: Cluster, clients: number, op: Op, seconds: number): Promise<Cell> {
  const leader = await cluster.leader();
  const chans = kvClients(leader, Math.min(clients, 8));
  // warm the connections
  await Promise.all(chans.map((c) => op(c).catch(() => undefined)));
  const lat: number[] = [];
  let errors = 0;
  const cpu0 = cluster.cpu();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async (i: number) => {
    const c = chans[i % chans.length] as KVClient;
    while (performance.now() < end) {
      const s = performance.now();
      try {
        await op(c);
        lat.push(performance.now() - s);
      } catch {
        errors++;
        await sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cluster.cpu() - cpu0;
  for (const c of chans) c.close();
  lat.sort((a, b) => a - b);
  return {
    clients,
    ops: lat.length,
    errors,
    seconds: round(elapsed, 3),
    opsPerSec: round(lat.length / elapsed, 1),
    p50ms: round(pct(lat, 50), 3),
    p99ms: round(pct(lat, 99), 3),
    cpuSeconds: round(cpu, 2),
    cpuSecPer1kOps: round(lat.length ? (cpu / lat.length) * 1000 : Number.NaN, 4),
  };
}

async function loadKeys(cluster: Cluster, n: number): Promise<{ seconds: number; rssKiB: number[] }> {
  const leader = await cluster.leader();
  const chans = kvClients(leader, 8);
  let next = 0;
  const t0 = performance.now();
  const worker = async (i: number) => {
    const c = chans[i % chans.length] as KVClient;
    for (;;) {
      const k = next++;
      if (k >= n) return;
      const key = Buffer.from(`load/${String(k).padStart(7, "0")}`);
      for (let attempt = 0; ; attempt++) {
        try {
          await putOp(() => key)(c);
          break;
        } catch (e) {
          if (attempt > 5) throw e;
          await sleep(50);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, (_, i) => worker(i)));
  const seconds = (performance.now() - t0) / 1000;
  for (const c of chans) c.close();
  await sleep(1000); // let followers apply
  return { seconds: round(seconds, 2), rssKiB: cluster.members.map((m) => rssKiB(m.pid)) };
}

async function failover(cluster: Cluster): Promise<{ ms: number; killed: string }> {
  const leader = await cluster.leader();
  const rest = cluster.members.filter((m) => m !== leader);
  const chans = rest.map((m) => kvClients(m, 1)[0] as KVClient);
  // make sure the connections to the survivors are up before the kill
  await Promise.all(chans.map((c) => putOp(() => Buffer.from("failover/warm"))(c)));
  const t0 = performance.now();
  leader.proc?.kill("SIGKILL");
  const deadline = t0 + 60_000;
  let ms = Number.NaN;
  const key = Buffer.from("failover/key");
  while (performance.now() < deadline) {
    const r = await Promise.allSettled(chans.map((c) => putOp(() => key, 200)(c)));
    if (r.some((x) => x.status === "fulfilled")) {
      ms = performance.now() - t0;
      break;
    }
    await sleep(5);
  }
  for (const c of chans) c.close();
  return { ms: round(ms, 1), killed: leader.name };
}

/**
 * Defragments the leader while 16 writers put to it: how long the defrag took, the longest put that
 * overlapped it, the puts completed meanwhile, and whether the leader kept its leadership.
 */
async function defragUnderLoad(cluster: Cluster): Promise<DefragResult> {
  const leader = await cluster.leader();
  const before = await status(leader, 5000);
  const chans = kvClients(leader, 4);
  const m = new MaintenanceClient(`127.0.0.1:${leader.clientPort}`, grpc.credentials.createInsecure(), opts);
  let writing = true;
  const lat: { start: number; end: number }[] = [];
  let errors = 0;
  const writers = Array.from({ length: 16 }, async (_, w) => {
    const c = chans[w % chans.length] as KVClient;
    while (writing) {
      const start = performance.now();
      try {
        await putOp(randomKey, 30_000)(c);
        lat.push({ start, end: performance.now() });
      } catch {
        errors++;
        await sleep(10);
      }
    }
  });
  await sleep(1000);
  const t0 = performance.now();
  await new Promise<void>((res, rej) =>
    m.defragment({}, new grpc.Metadata(), { deadline: Date.now() + 300_000 }, (e) => (e ? rej(e) : res())),
  );
  const t1 = performance.now();
  await sleep(500);
  writing = false;
  await Promise.all(writers);
  m.close();
  for (const c of chans) c.close();
  const after = await status(leader, 5000);
  const during = lat.filter((l) => l.end >= t0 && l.start <= t1);
  return {
    dbSizeBefore: Number(before.dbSize),
    dbSizeAfter: Number(after.dbSize),
    defragMs: round(t1 - t0, 1),
    maxPutMs: round(Math.max(0, ...during.map((l) => l.end - l.start)), 1),
    putsDuring: during.length,
    errors,
    leaderKept: after.leader === before.leader && after.raftTerm === before.raftTerm,
  };
}

interface DefragResult {
  dbSizeBefore: number;
  dbSizeAfter: number;
  defragMs: number;
  /** The longest put that overlapped the defrag. */
  maxPutMs: number;
  putsDuring: number;
  errors: number;
  leaderKept: boolean;
}

// ---------------------------------------------------------------- run

interface ClusterResult {
  put: Cell[];
  rangeLinearizable64?: Cell;
  rangeSerializable64?: Cell;
  load?: { keys: number; seconds: number; rssKiB: number[]; rssMiBTotal: number };
  /** Median of failoverSamplesMs. */
  failoverMs?: number;
  failoverSamplesMs?: number[];
  defrag?: DefragResult;
  error?: string;
}

async function waitExit(m: Member): Promise<void> {
  while (m.alive) await sleep(10);
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(a.length / 2);
  return a.length % 2 === 1 ? (a[mid] as number) : ((a[mid - 1] as number) + (a[mid] as number)) / 2;
}

/** Throughput, latency, CPU and memory cells. */
async function loadCells(cluster: Cluster, res: ClusterResult): Promise<void> {
  // fill the 10k key space so ranges hit existing keys
  {
    const leader = await cluster.leader();
    const chans = kvClients(leader, 8);
    let i = 0;
    await Promise.all(
      Array.from({ length: 64 }, async (_, w) => {
        const c = chans[w % 8] as KVClient;
        for (;;) {
          const k = i++;
          if (k >= KEY_SPACE) return;
          await putOp(() => keyCache[k] as Uint8Array)(c);
        }
      }),
    );
    for (const c of chans) c.close();
  }
  for (const n of [1, 16, 64, 256]) {
    const cell = await runCell(cluster, n, putOp(randomKey), SECONDS);
    process.stderr.write(`[${cluster.label}] put c=${n}: ${JSON.stringify(cell)}\n`);
    res.put.push(cell);
  }
  res.rangeLinearizable64 = await runCell(cluster, 64, rangeOp(false), SECONDS);
  process.stderr.write(`[${cluster.label}] range lin c=64: ${JSON.stringify(res.rangeLinearizable64)}\n`);
  res.rangeSerializable64 = await runCell(cluster, 64, rangeOp(true), SECONDS);
  process.stderr.write(`[${cluster.label}] range ser c=64: ${JSON.stringify(res.rangeSerializable64)}\n`);
  const load = await loadKeys(cluster, LOAD_KEYS);
  res.load = {
    keys: LOAD_KEYS,
    ...load,
    rssMiBTotal: round(load.rssKiB.reduce((a, b) => a + b, 0) / 1024, 1),
  };
  process.stderr.write(`[${cluster.label}] load: ${JSON.stringify(res.load)}\n`);
}

async function benchCluster(cluster: Cluster): Promise<ClusterResult> {
  const res: ClusterResult = { put: [] };
  try {
    process.stderr.write(`[${cluster.label}] starting 3 members...\n`);
    await cluster.start();
    if (ONLY !== "failover" && ONLY !== "defrag") await loadCells(cluster, res);
    if (ONLY === "defrag") {
      const load = await loadKeys(cluster, LOAD_KEYS);
      process.stderr.write(`[${cluster.label}] loaded ${LOAD_KEYS} keys in ${load.seconds} s\n`);
    }
    if (ONLY === "" || ONLY === "defrag") {
      res.defrag = await defragUnderLoad(cluster);
      process.stderr.write(`[${cluster.label}] defrag under load: ${JSON.stringify(res.defrag)}\n`);
      if (ONLY === "defrag") return res;
    }
    const samples: number[] = [];
    for (let i = 0; i < FAILOVER_SAMPLES; i++) {
      const fo = await failover(cluster);
      samples.push(fo.ms);
      process.stderr.write(`[${cluster.label}] failover ${i + 1}/${FAILOVER_SAMPLES}: ${fo.ms} ms\n`);
      const killed = cluster.members.find((m) => m.name === fo.killed) as Member;
      await waitExit(killed);
      cluster.spawn(killed);
      await cluster.converged();
    }
    res.failoverSamplesMs = samples;
    res.failoverMs = median(samples);
  } catch (e) {
    res.error = String((e as Error)?.stack ?? e);
    process.stderr.write(`[${cluster.label}] ERROR: ${res.error}\n${cluster.logTail()}\n`);
  } finally {
    await cluster.stop();
  }
  return res;
}

function table(ours: ClusterResult, etcd: ClusterResult): string {
  const rows: [string, number | undefined, number | undefined, boolean][] = []; // name, ours, etcd, higherIsBetter
  for (const n of [1, 16, 64, 256]) {
    const a = ours.put.find((c) => c.clients === n);
    const b = etcd.put.find((c) => c.clients === n);
    rows.push([`put ops/s, ${n} clients`, a?.opsPerSec, b?.opsPerSec, true]);
    rows.push([`put p50 ms, ${n} clients`, a?.p50ms, b?.p50ms, false]);
    rows.push([`put p99 ms, ${n} clients`, a?.p99ms, b?.p99ms, false]);
    rows.push([`put CPU s / 1k ops, ${n} clients`, a?.cpuSecPer1kOps, b?.cpuSecPer1kOps, false]);
  }
  for (const [k, label] of [
    ["rangeLinearizable64", "linearizable range"],
    ["rangeSerializable64", "serializable range"],
  ] as const) {
    rows.push([`${label} ops/s, 64 clients`, ours[k]?.opsPerSec, etcd[k]?.opsPerSec, true]);
    rows.push([`${label} p99 ms, 64 clients`, ours[k]?.p99ms, etcd[k]?.p99ms, false]);
    rows.push([`${label} CPU s / 1k ops`, ours[k]?.cpuSecPer1kOps, etcd[k]?.cpuSecPer1kOps, false]);
  }
  const rss = (r: ClusterResult) => (r.load ? Math.max(...r.load.rssKiB) / 1024 : undefined);
  rows.push([`max member RSS MiB after ${LOAD_KEYS} keys`, rss(ours), rss(etcd), false]);
  rows.push([`load ${LOAD_KEYS} keys, seconds (64 clients)`, ours.load?.seconds, etcd.load?.seconds, false]);
  rows.push([
    `failover: kill -9 leader → next put, ms (median of ${FAILOVER_SAMPLES})`,
    ours.failoverMs,
    etcd.failoverMs,
    false,
  ]);
  rows.push([
    `defrag of the leader under 16 writers, ms`,
    ours.defrag?.defragMs,
    etcd.defrag?.defragMs,
    false,
  ]);
  rows.push([`longest put during that defrag, ms`, ours.defrag?.maxPutMs, etcd.defrag?.maxPutMs, false]);
  rows.push([`puts completed during that defrag`, ours.defrag?.putsDuring, etcd.defrag?.putsDuring, true]);
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "n/a" : String(round(x, 3)));
  const lines = ["| metric | etcd-ts | etcd 3.4 | ratio (ours/etcd) |", "|---|---:|---:|---:|"];
  for (const [name, a, b] of rows) {
    const ratio =
      a !== undefined && b !== undefined && b !== 0 && Number.isFinite(a) && Number.isFinite(b)
        ? `${round(a / b, 2)}×`
        : "n/a";
    lines.push(`| ${name} | ${f(a)} | ${f(b)} | ${ratio} |`);
  }
  return lines.join("\n");
}

async function main() {
  const started = new Date();
  const ours = await benchCluster(new Cluster("etcd-ts", process.execPath, [join(ROOT, "bin", "etcd")]));
  const etcd = await benchCluster(new Cluster("etcd", ETCD_BIN, []));
  const result = {
    date: started.toISOString(),
    secondsPerCell: SECONDS,
    keySpace: KEY_SPACE,
    valueBytes: VALUE.length,
    node: process.version,
    etcdBinary: ETCD_BIN,
    notes:
      "Load generator: one Node process, grpc-js, min(clients, 8) channels to the leader. CPU = utime+stime of the 3 member processes. Latencies in ms.",
    ours,
    etcd,
  };
  const outDir = join(ROOT, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  // A partial run (--only failover|defrag) is filed under its own name, next to the full run's.
  const file = join(outDir, `${ONLY === "" ? "server" : ONLY}-${started.toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log();
  console.log(table(ours, etcd));
  console.log(`\nwritten ${file}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    killAll();
    process.exit(1);
  },
);
