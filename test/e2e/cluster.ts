// End-to-end harness: real `bin/etcd` member processes (and, for comparison, the real etcd 3.4 at
// /usr/bin/etcd) on 127.0.0.1 with free ports, logs captured to files in the test's temp dir, readiness by
// polling /health (bounded, never fixed sleeps), kill -9 / SIGTERM / restart with the same data dir, and the
// real etcdctl 3.4 (ETCDCTL_API=3) as a one-shot command or a long-running child (watch).
//
// Cleanup: every child process and temp dir is registered here; `Cluster.destroy()` (call it from `after`)
// removes them, and an exit/signal hook of the test process kills whatever is left, so nothing outlives a
// failed or interrupted test. Set E2E_KEEP=1 to keep temp dirs (logs) for a post-mortem.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ETCDCTL = "/usr/bin/etcdctl";
export const REAL_ETCD = "/usr/bin/etcd";

/** A `skip` value for node:test: false when the real etcdctl is installed, else the reason. */
export const skipWithoutEtcdctl: string | false = existsSync(ETCDCTL)
  ? false
  : `${ETCDCTL} is missing: install Debian's etcd-client (scripts/install-system-deps.sh) to run the e2e tests`;

/** True when the real etcd 3.4 server is installed (used for side-by-side comparisons). */
export const haveRealEtcd = existsSync(REAL_ETCD);

/** The repository root (the directory holding bin/etcd), from this file's location in src or dist. */
export const ROOT = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, "bin", "etcd")) && existsSync(join(d, "package.json"))) return d;
    d = dirname(d);
  }
  throw new Error("cannot find the repository root (bin/etcd)");
})();
export const BIN_ETCD = join(ROOT, "bin", "etcd");

// ---- cleanup registry -----------------------------------------------------------------------------------

const liveProcs = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const keep = process.env.E2E_KEEP === "1";

function killAllNow(): void {
  for (const p of liveProcs) {
    try {
      p.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  liveProcs.clear();
  if (!keep) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

process.on("exit", killAllNow);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    killAllNow();
    process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
  });
}

/** A fresh temp dir, removed by `removeTempDir` or at exit. */
export function makeTempDir(prefix = "etcd-e2e-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  tempDirs.delete(d);
  if (keep) {
    console.error(`E2E_KEEP=1: kept ${d}`);
    return;
  }
  rmSync(d, { recursive: true, force: true });
}

// ---- small utilities ------------------------------------------------------------------------------------

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` naming `what`
 * (and the last error the probe threw, if any). This waits for a condition; it never stands in for one.
 */
export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await delay(intervalMs);
  }
}

/** Free TCP ports on 127.0.0.1: listen on port 0 (all at once, so they are distinct), then close. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP/1.1 GET (curl-like), failing after `timeoutMs`. */
export function httpGet(url: string, timeoutMs = 2000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/**
 * JSON.parse that keeps integers of 16+ digits (uint64 IDs as etcdctl prints them) exact, as strings.
 * Use `BigInt(x)` on the fields that hold them.
 */
// biome-ignore lint/suspicious/noExplicitAny: etcdctl's JSON output, whose shape the callers assert.
export function parseJsonBig(text: string): any {
  return JSON.parse(text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));
}

// ---- members --------------------------------------------------------------------------------------------

export interface MemberSpec {
  name: string;
  /** The program and its leading arguments: `node bin/etcd` (default) or the real etcd. */
  command?: string[];
  args: string[];
  /** Extra environment (ETCD_* variables); the parent's ETCD_* / ETCDCTL_* variables are never inherited. */
  env?: Record<string, string>;
  /** Working directory (the default data dir `<name>.etcd` lands here). */
  cwd: string;
  /** A client URL to probe for readiness (`http://127.0.0.1:port`). */
  clientUrl: string;
  logPath: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("ETCD_") || k.startsWith("ETCDCTL_")) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** One member process; restartable with the same arguments, environment and data dir. */
export class Member {
  proc: ChildProcess | undefined;
  private exit: Promise<ExitStatus> | undefined;
  private exitStatus: ExitStatus | undefined;
  starts = 0;

  constructor(readonly spec: MemberSpec) {}

  get name(): string {
    return this.spec.name;
  }

  /** `127.0.0.1:port` of the client URL (for --endpoints). */
  get endpoint(): string {
    return new URL(this.spec.clientUrl).host;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  running(): boolean {
    return this.proc !== undefined && this.exitStatus === undefined;
  }

  start(): void {
    if (this.running()) throw new Error(`${this.name} is already running`);
    const [cmd, ...pre] = this.spec.command ?? [process.execPath, BIN_ETCD];
    const fd = openSync(this.spec.logPath, "a");
    let proc: ChildProcess;
    try {
      proc = spawn(cmd!, [...pre, ...this.spec.args], {
        cwd: this.spec.cwd,
        env: childEnv(this.spec.env),
        stdio: ["ignore", fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.starts++;
    this.proc = proc;
    this.exitStatus = undefined;
    liveProcs.add(proc);
    this.exit = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        liveProcs.delete(proc);
        const st = { code, signal };
        if (this.proc === proc) this.exitStatus = st;
        resolve(st);
      });
      proc.once("error", (err) => {
        liveProcs.delete(proc);
        const st = { code: -1, signal: null };
        if (this.proc === proc) this.exitStatus = st;
        console.error(`${this.name}: spawn failed: ${err.message}`);
        resolve(st);
      });
    });
  }

  /** Sends `signal` and waits for the process to exit; a SIGTERM not obeyed in `graceMs` becomes SIGKILL. */
  async kill(signal: NodeJS.Signals = "SIGKILL", graceMs = 10_000): Promise<ExitStatus> {
    const proc = this.proc;
    if (proc === undefined || this.exit === undefined) throw new Error(`${this.name} was never started`);
    if (this.exitStatus !== undefined) return this.exitStatus;
    proc.kill(signal);
    if (signal === "SIGKILL") return this.exit;
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((r) => {
      timer = setTimeout(r, graceMs);
    });
    const first = await Promise.race([this.exit, forced.then(() => undefined)]);
    clearTimeout(timer);
    if (first !== undefined) return first;
    proc.kill("SIGKILL");
    await this.exit;
    throw new Error(`${this.name} ignored ${signal} for ${graceMs} ms (killed with SIGKILL)`);
  }

  /** Resolves with the exit status once the process has exited. */
  exited(): Promise<ExitStatus> {
    if (this.exit === undefined) throw new Error(`${this.name} was never started`);
    return this.exit;
  }

  /** The parsed /health answer of this member's client URL (throws if it cannot be fetched). */
  async health(timeoutMs = 2000): Promise<{ status: number; health?: string; reason?: string }> {
    const r = await httpGet(`${this.spec.clientUrl}/health`, timeoutMs);
    const body = JSON.parse(r.body) as { health?: string; reason?: string };
    return { status: r.status, ...body };
  }

  /** Polls /health until {"health":"true"}; fails early if the process exits, or after `timeoutMs`. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    for (;;) {
      if (!this.running()) {
        throw new Error(
          `${this.name} exited (${JSON.stringify(this.exitStatus)}) before it was healthy\n${this.logTail()}`,
        );
      }
      try {
        const h = await this.health(1000);
        if (h.status === 200 && h.health === "true") return;
        last = JSON.stringify(h);
      } catch (e) {
        last = String(e);
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name} not healthy after ${timeoutMs} ms (last: ${last})\n${this.logTail()}`);
      }
      await delay(100);
    }
  }

  /** Starts the stopped member again with the same arguments and data dir, and waits until healthy. */
  async restart(timeoutMs = 20_000): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is still running`);
    this.start();
    await this.waitHealthy(timeoutMs);
  }

  log(): string {
    try {
      return readFileSync(this.spec.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /** The last lines of the member's log, without the "/health error" lines our readiness polling causes. */
  logTail(lines = 25): string {
    const all = this.log()
      .trimEnd()
      .split("\n")
      .filter((l) => !l.includes('"msg":"/health error"'));
    return `--- last ${Math.min(lines, all.length)} lines of ${this.spec.logPath} ---\n${all.slice(-lines).join("\n")}`;
  }
}

// ---- clusters -------------------------------------------------------------------------------------------

export interface ClusterOptions {
  /** Number of members (default 3). */
  size?: number;
  /** Configure through command-line flags (default) or through ETCD_* environment variables only. */
  via?: "flags" | "env";
  /** Member names (default m0, m1, ...). */
  names?: string[];
  token?: string;
  /** Give member 0 a second --listen-peer-urls URL (not advertised). */
  extraPeerListener?: boolean;
  /** Give every member a second --listen-client-urls URL (the guide's "plus 127.0.0.1" pattern). */
  secondClientUrl?: boolean;
  /** Pass --wal-dir <dir>/<name>.wal. */
  walDir?: boolean;
  /** Extra flags for every member (with via "env" they are still passed as flags). */
  extraArgs?: string[];
  /** Run the real etcd 3.4 instead of bin/etcd (same flags). */
  real?: boolean;
  /** Use these ports instead of fresh ones (to run real etcd with exactly the same flags). */
  layout?: ClusterLayout;
  /** Wait until every member answers /health (default true). */
  wait?: boolean;
  readyTimeoutMs?: number;
}

export interface MemberLayout {
  name: string;
  peerUrl: string;
  clientUrl: string;
  /** The second listen client URL, if any. */
  clientUrl2?: string;
  /** The extra (unadvertised) listen peer URL, if any. */
  extraPeerUrl?: string;
}

export interface ClusterLayout {
  token: string;
  members: MemberLayout[];
}

/** Guide-style configuration of member `i`: flags (name -> value) in the guide's order. */
export function memberConfig(
  layout: ClusterLayout,
  i: number,
  opts: ClusterOptions,
  dir: string,
): [string, string][] {
  const m = layout.members[i]!;
  const initialCluster = layout.members.map((x) => `${x.name}=${x.peerUrl}`).join(",");
  const cfg: [string, string][] = [
    ["name", m.name],
    ["initial-advertise-peer-urls", m.peerUrl],
    ["listen-peer-urls", [m.peerUrl, ...(m.extraPeerUrl ? [m.extraPeerUrl] : [])].join(",")],
    ["listen-client-urls", [m.clientUrl, ...(m.clientUrl2 ? [m.clientUrl2] : [])].join(",")],
    ["advertise-client-urls", m.clientUrl],
    ["initial-cluster-token", layout.token],
    ["initial-cluster", initialCluster],
    ["initial-cluster-state", "new"],
  ];
  if (opts.walDir) cfg.push(["wal-dir", join(dir, `${m.name}.wal`)]);
  return cfg;
}

export class Cluster {
  private destroyed = false;

  private constructor(
    readonly dir: string,
    readonly layout: ClusterLayout,
    readonly members: Member[],
    readonly opts: ClusterOptions,
  ) {}

  /** Fresh ports and names for a cluster of `size` members. */
  static async makeLayout(opts: ClusterOptions = {}): Promise<ClusterLayout> {
    const size = opts.size ?? 3;
    const perMember = 2 + (opts.secondClientUrl ? 1 : 0);
    const ports = await freePorts(size * perMember + (opts.extraPeerListener ? 1 : 0));
    const url = (p: number) => `http://127.0.0.1:${p}`;
    const members: MemberLayout[] = [];
    for (let i = 0; i < size; i++) {
      const base = i * perMember;
      const m: MemberLayout = {
        name: opts.names?.[i] ?? `m${i}`,
        peerUrl: url(ports[base]!),
        clientUrl: url(ports[base + 1]!),
      };
      if (opts.secondClientUrl) m.clientUrl2 = url(ports[base + 2]!);
      if (opts.extraPeerListener && i === 0) m.extraPeerUrl = url(ports[size * perMember]!);
      members.push(m);
    }
    return { token: opts.token ?? `e2e-${process.pid}-${Date.now()}`, members };
  }

  /** Starts the members (all at once, as a static bootstrap needs) and waits until all are healthy. */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const dir = makeTempDir(opts.real ? "etcd-e2e-real-" : "etcd-e2e-");
    const layout = opts.layout ?? (await Cluster.makeLayout(opts));
    const members = layout.members.map((m, i) => {
      const cfg = memberConfig(layout, i, opts, dir);
      const args: string[] = [];
      const env: Record<string, string> = {};
      for (const [k, v] of cfg) {
        if (opts.via === "env") env[`ETCD_${k.toUpperCase().replace(/-/g, "_")}`] = v;
        else args.push(`--${k}`, v);
      }
      args.push(...(opts.extraArgs ?? []));
      return new Member({
        name: m.name,
        command: opts.real ? [REAL_ETCD] : undefined,
        args,
        env,
        cwd: dir,
        clientUrl: m.clientUrl,
        logPath: join(dir, `${m.name}.log`),
      });
    });
    const c = new Cluster(dir, layout, members, opts);
    try {
      for (const m of members) m.start();
      if (opts.wait ?? true) await c.waitHealthy(opts.readyTimeoutMs);
    } catch (e) {
      await c.destroy();
      throw e;
    }
    return c;
  }

  /** The default data dir of a member (`<cwd>/<name>.etcd`). */
  dataDir(i: number): string {
    return join(this.dir, `${this.members[i]!.name}.etcd`);
  }

  /** `127.0.0.1:port` client endpoints of the given members (default all). */
  endpoints(which?: number[]): string[] {
    return (which ?? this.members.map((_, i) => i)).map((i) => this.members[i]!.endpoint);
  }

  /** Endpoints of the members that are running. */
  liveEndpoints(): string[] {
    return this.members.filter((m) => m.running()).map((m) => m.endpoint);
  }

  async waitHealthy(timeoutMs = 20_000, which?: number[]): Promise<void> {
    const ms = which ? which.map((i) => this.members[i]!) : this.members;
    await Promise.all(ms.map((m) => m.waitHealthy(timeoutMs)));
  }

  /** The index of the leader according to `endpoint status` of the live members. */
  async leaderIndex(): Promise<number> {
    const live = this.liveEndpoints();
    return until(
      async () => {
        const r = await etcdctl(["endpoint", "status", "-w", "json"], { endpoints: live });
        if (r.code !== 0) return undefined;
        const st = parseJsonBig(r.stdout) as {
          Endpoint: string;
          Status: { header: { member_id: string }; leader: string };
        }[];
        const leader = st.find(
          (s) => s.Status.leader !== "0" && s.Status.leader === s.Status.header.member_id,
        );
        if (leader === undefined) return undefined;
        const i = this.members.findIndex((m) => m.endpoint === leader.Endpoint);
        return i >= 0 ? i : undefined;
      },
      "a leader among the live members",
      20_000,
      200,
    );
  }

  /**
   * Starts a new member with the `ETCD_*` lines `etcdctl member add` printed (plus its listen URLs and
   * a fresh client port), appends it to `members`, and returns it (not yet waited for).
   */
  async join(addOutput: string, extraArgs: string[] = []): Promise<Member> {
    const env: Record<string, string> = {};
    for (const l of addOutput.split("\n")) {
      const m = /^(ETCD_[A-Z_]+)="(.*)"$/.exec(l.trim());
      if (m) env[m[1]!] = m[2]!;
    }
    const name = env.ETCD_NAME;
    const peerUrl = env.ETCD_INITIAL_ADVERTISE_PEER_URLS;
    if (name === undefined || peerUrl === undefined) throw new Error(`no ETCD_* lines in:\n${addOutput}`);
    const [cp] = await freePorts(1);
    const clientUrl = `http://127.0.0.1:${cp}`;
    const m = new Member({
      name,
      args: [
        `--listen-peer-urls=${peerUrl}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        ...(this.opts.extraArgs ?? []),
        ...extraArgs,
      ],
      env,
      cwd: this.dir,
      clientUrl,
      logPath: join(this.dir, `${name}-${cp}.log`),
    });
    this.members.push(m);
    m.start();
    return m;
  }

  /** All members' log tails, for failure messages. */
  logs(lines = 25): string {
    return this.members.map((m) => m.logTail(lines)).join("\n");
  }

  /** Kills every member (SIGKILL) and removes the temp dir. Idempotent; call it from `after`. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.members.filter((m) => m.running()).map((m) => m.kill("SIGKILL")));
    removeTempDir(this.dir);
  }
}

/** A single real etcd 3.4 member on free ports in its own temp dir (for side-by-side comparisons). */
export async function startRealEtcd(opts: { extraArgs?: string[] } = {}): Promise<Cluster> {
  return Cluster.start({ size: 1, real: true, names: ["real"], extraArgs: opts.extraArgs });
}

// ---- etcdctl --------------------------------------------------------------------------------------------

export interface CtlOptions {
  endpoints: string[] | string;
  /** Written to etcdctl's stdin (then closed). */
  stdin?: string;
  /** Kill etcdctl after this long (default 30 s); the result then has code null. */
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the command in milliseconds. */
  ms: number;
}

function ctlSpawn(args: string[], opts: CtlOptions): ChildProcess {
  const endpoints = Array.isArray(opts.endpoints) ? opts.endpoints.join(",") : opts.endpoints;
  const p = spawn(ETCDCTL, [`--endpoints=${endpoints}`, ...args], {
    env: childEnv({ ETCDCTL_API: "3", ...opts.env }),
    stdio: ["pipe", "pipe", "pipe"],
  });
  liveProcs.add(p);
  p.once("exit", () => liveProcs.delete(p));
  p.once("error", () => liveProcs.delete(p));
  return p;
}

/** Runs the real etcdctl (ETCDCTL_API=3) with `--endpoints` and `args`. */
export function etcdctl(args: string[], opts: CtlOptions): Promise<CtlResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const p = ctlSpawn(args, opts);
    let stdout = "";
    let stderr = "";
    p.stdout!.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    p.stderr!.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    p.stdin!.on("error", () => {});
    p.stdin!.end(opts.stdin ?? "");
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    p.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Runs etcdctl and fails (with its output) unless it exits 0; returns stdout. */
export async function ctlOk(args: string[], opts: CtlOptions): Promise<string> {
  const r = await etcdctl(args, opts);
  if (r.code !== 0) {
    throw new Error(`etcdctl ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stdout;
}

/** A long-running etcdctl (e.g. `watch`): collects its output until stopped. */
export class CtlProcess {
  readonly proc: ChildProcess;
  stdout = "";
  stderr = "";
  private closed: Promise<number | null>;

  constructor(args: string[], opts: CtlOptions) {
    this.proc = ctlSpawn(args, opts);
    this.proc.stdout!.setEncoding("utf8").on("data", (c: string) => {
      this.stdout += c;
    });
    this.proc.stderr!.setEncoding("utf8").on("data", (c: string) => {
      this.stderr += c;
    });
    this.proc.stdin!.on("error", () => {});
    if (opts.stdin !== undefined) this.proc.stdin!.end(opts.stdin);
    this.closed = new Promise((resolve) => {
      this.proc.once("close", (code) => resolve(code));
      this.proc.once("error", () => resolve(-1));
    });
  }

  /** Waits until stdout satisfies `cond` (bounded); returns stdout. */
  async waitFor(cond: (out: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!cond(this.stdout)) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        // One more look: the last chunk may have arrived with the exit.
        await delay(20);
        if (cond(this.stdout)) break;
        throw new Error(`etcdctl exited before ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await delay(20);
    }
    return this.stdout;
  }

  /** Kills it (SIGKILL unless told) and waits for it to close; returns its exit code. */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.closed;
  }

  /** Resolves with the exit code once etcdctl has exited by itself. */
  exited(): Promise<number | null> {
    return this.closed;
  }
}
