// Side-by-side runs of our bin/etcdctl and Debian's real etcdctl 3.4 (/usr/bin/etcdctl).
//
// A Trio is three servers started together: two real etcd 3.4 members (`realA` for the real etcdctl,
// `realB` for ours) and our bin/etcd cluster (`ours`, for our etcdctl). The same commands run on all three,
// so the three histories stay in lockstep (same revisions, versions, counts); outputs then differ only by
// member/cluster/lease IDs, terms, ports and times, which `norm` replaces with placeholders:
//   real etcdctl on realA  ==  our etcdctl on realB   (byte for byte, modulo IDs and ports)
//   our etcdctl on realB   ==  our etcdctl on ours    (modulo IDs, ports, terms, times, sizes)
// Where etcd 3.5's etcdctl prints differently from 3.4's, `v35` rewrites the real 3.4 output into the 3.5
// form (each rewrite says which difference it stands for).

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { API_VERSION, VERSION } from "../../../src/cli/etcdctl/meta.js";
import { Cluster, ETCDCTL, haveRealEtcd, ROOT, startRealEtcd } from "../../e2e/cluster.js";

export const OUR_ETCDCTL = join(ROOT, "bin", "etcdctl");

/** Skip reason when the real etcd / etcdctl 3.4 are not installed. */
export const skipWithoutReal: string | false =
  existsSync(ETCDCTL) && haveRealEtcd
    ? false
    : "needs Debian's etcd-server and etcd-client 3.4 (scripts/install-system-deps.sh)";

export type Tool = "ours" | "real";

export interface RunOpts {
  endpoints?: string[];
  stdin?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("ETCD_") && !k.startsWith("ETCDCTL_")) out[k] = v;
  }
  return { ...out, ETCDCTL_API: "3", ...extra };
}

/** Spawns etcdctl (ours or the real one) with `--endpoints` first when given. */
export function spawnCtl(tool: Tool, args: string[], o: RunOpts = {}): ChildProcess {
  const pre = o.endpoints ? [`--endpoints=${o.endpoints.join(",")}`] : [];
  const [cmd, ...lead] = tool === "ours" ? [process.execPath, OUR_ETCDCTL] : [ETCDCTL];
  const p = spawn(cmd!, [...lead, ...pre, ...args], {
    env: env(o.env),
    stdio: ["pipe", "pipe", "pipe"],
    cwd: o.cwd,
  });
  live.add(p);
  p.once("exit", () => live.delete(p));
  return p;
}

/** Runs etcdctl to completion (killed after timeoutMs, default 20 s). */
export function runCtl(tool: Tool, args: string[], o: RunOpts = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawnCtl(tool, args, o);
    let stdout = "";
    let stderr = "";
    p.stdout!.setEncoding("latin1").on("data", (c: string) => {
      stdout += c;
    });
    p.stderr!.setEncoding("latin1").on("data", (c: string) => {
      stderr += c;
    });
    p.stdin!.on("error", () => {});
    p.stdin!.end(o.stdin ?? "");
    const timer = setTimeout(() => p.kill("SIGKILL"), o.timeoutMs ?? 20_000);
    p.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running etcdctl (watch, lock, elect, keep-alive) whose output is collected. */
export class CtlChild {
  readonly proc: ChildProcess;
  stdout = "";
  stderr = "";
  private readonly closed: Promise<number | null>;

  constructor(
    readonly tool: Tool,
    args: string[],
    o: RunOpts = {},
  ) {
    this.proc = spawnCtl(tool, args, o);
    this.proc.stdout!.setEncoding("latin1").on("data", (c: string) => {
      this.stdout += c;
    });
    this.proc.stderr!.setEncoding("latin1").on("data", (c: string) => {
      this.stderr += c;
    });
    this.proc.stdin!.on("error", () => {});
    if (o.stdin !== undefined) this.proc.stdin!.end(o.stdin);
    this.closed = new Promise((r) => this.proc.once("close", (code) => r(code)));
  }

  write(s: string): void {
    this.proc.stdin!.write(s);
  }

  /** Waits (bounded) until stdout satisfies `cond`. */
  async waitFor(cond: (out: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!cond(this.stdout)) {
      if (Date.now() > deadline || this.proc.exitCode !== null) {
        if (cond(this.stdout)) break;
        throw new Error(
          `${this.tool} etcdctl, waiting for ${what}: stdout=${JSON.stringify(this.stdout)} stderr=${JSON.stringify(this.stderr)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.stdout;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(sig);
  }

  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null> {
    return this.closed;
  }

  async stop(): Promise<number | null> {
    this.signal("SIGKILL");
    return this.closed;
  }
}

export interface NormOpts {
  /** Also replace revisions (header, create/mod, compact) with N. */
  revisions?: boolean;
  /**
   * The answering member may differ (several endpoints, and clientv3 balances between them): replace the
   * header's member ID.
   */
  anyMember?: boolean;
  /** Column widths may differ (a table of durations): collapse runs of `-` and spaces; durations to T. */
  looseTable?: boolean;
}

/**
 * Replaces what differs between two servers: member/cluster/lease IDs (decimal and hex, consistently
 * numbered per string), raft terms and indexes, ports, durations, database sizes, hashes and zap log
 * lines.
 */
export function norm(s: string, o: NormOpts = {}): string {
  const ids = new Map<string, string>();
  const id = (v: string) => {
    if (!ids.has(v)) ids.set(v, `<id${ids.size}>`);
    return ids.get(v)!;
  };
  let t = s
    .split("\n")
    .filter((l) => !l.startsWith('{"level"'))
    .join("\n");
  if (o.anyMember)
    t = t.replace(/"member_id":\d+/g, '"member_id":M').replace(/"MemberID" : \d+/g, '"MemberID" : M');
  t = t
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT")
    .replace(/\b\d{15,20}\b/g, (d) => id(BigInt(d).toString(16)))
    .replace(/\b(?=[0-9a-f]*[a-f])[0-9a-f]{10,16}\b/g, (h) => id(h.replace(/^0+/, "")))
    .replace(
      /"(raft_term|raftTerm|raftIndex|raftAppliedIndex|RaftTerm|RaftIndex|RaftAppliedIndex)"( ?: ?)\d+/g,
      '"$1"$2N',
    )
    .replace(/"(dbSize|dbSizeInUse|DBSize)"( ?: ?)\d+/g, '"$1"$2N')
    .replace(/"(hash|Hash)"( ?: ?)\d+/g, '"$1"$2N')
    // Durations: output is read as latin1, so "µs" arrives as "Âµs".
    .replace(/"(took|Took)"( ?: ?)"?[0-9.]+(?:Âµ|µ|m|n)?s"?/g, '"$1"$2T')
    .replace(/took = [0-9.]+(?:Âµ|µ|m|n)?s/g, "took = T")
    .replace(/\b\d+(\.\d+)? [kMG]?B\b/g, "SIZE")
    .replace(/"(ttl|TTL)"(:|" :) \d+|"(ttl|TTL)":\d+/g, (m) => m.replace(/\d+$/, "N"))
    .replace(/remaining\(\d+s\)/g, "remaining(Ns)")
    .replace(/keepalived with TTL\(\d+\)/g, "keepalived with TTL(N)");
  if (o.looseTable)
    t = t
      .replace(/\b\d+(\.\d+)?(ms|Âµs|µs|ns|s)(?= )/g, "T")
      .replace(/-+/g, "-")
      .replace(/ +/g, " ")
      .replace(/\| \d+ (?=\|)/g, "| N ");
  // endpoint status's simple lines: the raft term, index and applied index after the two booleans.
  t = t.replace(/(, (?:true|false), (?:true|false)), \d+, \d+, \d+, /g, "$1, N, N, N, ");
  if (o.revisions) {
    t = t.replace(
      /"(revision|create_revision|mod_revision|compact_revision|Revision|CreateRevision|ModRevision)"( ?: ?)\d+/g,
      '"$1"$2N',
    );
  }
  return t;
}

/** Rewrites etcdctl 3.4's output into etcd 3.5's form where the two differ. */
export function v35(s: string): string {
  return (
    s
      // The versions in the usage texts.
      .replace(/\nVERSION:\n\t3\.4\.\d+\n/, `\nVERSION:\n\t${VERSION}\n`)
      .replace(/\nAPI VERSION:\n\t3\.4\n/, `\nAPI VERSION:\n\t${API_VERSION}\n`)
      // 3.5 lists `auth status`, has no `migrate`, and calls `snapshot status` deprecated.
      .replace(
        "\tauth enable\t\tEnables authentication\n",
        "\tauth enable\t\tEnables authentication\n\tauth status\t\tReturns authentication status\n",
      )
      .replace("\tmigrate\t\t\tMigrates keys in a v2 store to a mvcc store\n", "")
      .replace("\tsnapshot status\t\tGets backend", "\tsnapshot status\t\t[deprecated] Gets backend")
      // 3.5's gogoproto oneof wrappers carry json tags (response_put); 3.4's print Go field names.
      .replace(
        /"Response(Range|Put|DeleteRange|Txn)":/g,
        (_m, k: string) => `"response_${k.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase()}":`,
      )
      // 3.4 logs with capnslog (`<date> W | pkg/flags: ...`), 3.5 with zap (JSON lines, which norm drops).
      .replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [DINWEC] \| .*\n/gm, "")
      // 3.5's message starts in lower case.
      .replace("Error: Error reading watch request line", "Error: error reading watch request line")
      // 3.5's check perf quotes the command it suggests.
      .replace(/Delete with etcdctl del --prefix (\S+) first/, "Delete with 'etcdctl del --prefix $1' first")
      // 3.5 added `del --range`.
      .replace(
        "      --prev-kv[=false]\t\treturn deleted key-value pairs\n",
        "      --prev-kv[=false]\t\treturn deleted key-value pairs\n      --range[=false]\t\tdelete range of keys\n",
      )
      // 3.5 added `get --count-only`.
      .replace(
        '      --consistency="l"\t\t\tLinearizable(l) or Serializable(s)\n',
        '      --consistency="l"\t\t\tLinearizable(l) or Serializable(s)\n      --count-only[=false]\t\tGet only the count\n',
      )
      .replace(
        '      --consistency string   Linearizable(l) or Serializable(s) (default "l")\n',
        '      --consistency string   Linearizable(l) or Serializable(s) (default "l")\n      --count-only           Get only the count\n',
      )
  );
}

export class Trio {
  private constructor(
    readonly realA: Cluster,
    readonly realB: Cluster,
    readonly ours: Cluster,
  ) {}

  /** Two real etcd 3.4 members and our cluster of `size` members, started together. */
  static async start(size = 1): Promise<Trio> {
    const [a, b, o] = await Promise.all([startRealEtcd(), startRealEtcd(), Cluster.start({ size })]);
    return new Trio(a, b, o);
  }

  async destroy(): Promise<void> {
    await Promise.all([this.realA.destroy(), this.realB.destroy(), this.ours.destroy()]);
  }
}

export interface Triple {
  /** Real etcdctl on realA. */
  real: RunResult;
  /** Our etcdctl on realB. */
  oursReal: RunResult;
  /** Our etcdctl on our cluster. */
  ours: RunResult;
}

export interface SameOpts extends Omit<RunOpts, "endpoints"> {
  norm?: NormOpts;
  /**
   * Only compare the real etcdctl with ours on the real etcd: for what the client decides alone (argument
   * errors, help texts), where running ours a third time adds nothing.
   */
  realOnly?: boolean;
  /** Skip comparing stderr. */
  ignoreStderr?: boolean;
  /**
   * A 3.5-only command that etcd 3.4 does not serve either (auth status): run ours on bin/etcd only (the
   * caller checks the output).
   */
  oursOnly?: boolean;
}

function show(r: RunResult): string {
  return `code=${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/**
 * Runs `args` with the real etcdctl on realA, ours on realB and ours on our cluster (concurrently); asserts
 * equal exit codes and normalised stdout/stderr; returns the three results.
 */
export async function same(t: Trio, args: string[], o: SameOpts = {}): Promise<Triple> {
  if (o.oursOnly) {
    const r = await runCtl("ours", args, { ...o, endpoints: t.ours.endpoints() });
    return { real: r, oursReal: r, ours: r };
  }
  const [real, oursReal, ours] = await Promise.all([
    runCtl("real", args, { ...o, endpoints: t.realA.endpoints() }),
    runCtl("ours", args, { ...o, endpoints: t.realB.endpoints() }),
    o.realOnly ? Promise.resolve(undefined) : runCtl("ours", args, { ...o, endpoints: t.ours.endpoints() }),
  ]);
  const label = `etcdctl ${args.join(" ")}`;
  const cmp = (a: RunResult, b: RunResult, what: string, xa: (s: string) => string) => {
    const detail = `\n=== ${what}\n${show(a)}\n=== vs\n${show(b)}`;
    const xb = (s: string) => norm(s, o.norm);
    assert.equal(a.code, b.code, `${label}: exit code${detail}`);
    assert.equal(xb(b.stdout), xa(a.stdout), `${label}: stdout${detail}`);
    if (!o.ignoreStderr) assert.equal(xb(b.stderr), xa(a.stderr), `${label}: stderr${detail}`);
  };
  if (!o.oursOnly) {
    cmp(real, oursReal, "real etcdctl (3.4, rewritten to 3.5) vs ours, on real etcd", (s) =>
      norm(v35(s), o.norm),
    );
  }
  if (ours) cmp(oursReal, ours, "ours on real etcd vs ours on bin/etcd", (s) => norm(s, o.norm));
  return { real, oursReal, ours: ours ?? oursReal };
}

/** Runs `same` on each case, a few at a time (for cases that do not depend on each other's effects). */
export async function sameAll(t: Trio, cases: string[][], o: SameOpts = {}, width = 3): Promise<Triple[]> {
  const out: Triple[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < cases.length) {
        const i = next++;
        out[i] = await same(t, cases[i]!, o);
      }
    }),
  );
  return out;
}

/** Runs `args` with the real etcdctl on all three servers (fast writes that keep them in lockstep). */
export async function onAll(t: Trio, args: string[], o: RunOpts = {}): Promise<void> {
  const rs = await Promise.all(
    [t.realA, t.realB, t.ours].map((c) => runCtl("real", args, { ...o, endpoints: c.endpoints() })),
  );
  for (const r of rs) assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
}

/** The three long-running etcdctl processes of one command: real on realA, ours on realB and on ours. */
export class ChildTrio {
  readonly real: CtlChild;
  readonly oursReal: CtlChild;
  readonly ours: CtlChild;

  constructor(t: Trio, args: string[], o: RunOpts = {}) {
    this.real = new CtlChild("real", args, { ...o, endpoints: t.realA.endpoints() });
    this.oursReal = new CtlChild("ours", args, { ...o, endpoints: t.realB.endpoints() });
    this.ours = new CtlChild("ours", args, { ...o, endpoints: t.ours.endpoints() });
  }

  all(): CtlChild[] {
    return [this.real, this.oursReal, this.ours];
  }

  async waitFor(cond: (out: string) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await Promise.all(this.all().map((c) => c.waitFor(cond, what, timeoutMs)));
  }

  write(s: string): void {
    for (const c of this.all()) c.write(s);
  }

  signal(sig: NodeJS.Signals): void {
    for (const c of this.all()) c.signal(sig);
  }

  /** Exit codes once all three have exited. */
  exited(): Promise<(number | null)[]> {
    return Promise.all(this.all().map((c) => c.exited()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((c) => c.stop()));
  }

  /** Asserts the normalised stdout (and stderr unless told) of the three are equal; returns ours. */
  assertSame(o: { norm?: NormOpts; stderr?: boolean } = {}): string {
    const x = (s: string) => norm(s, o.norm);
    assert.equal(
      x(this.oursReal.stdout),
      x(v35(this.real.stdout)),
      "stdout: ours vs real etcdctl, on real etcd",
    );
    assert.equal(
      x(this.ours.stdout),
      x(this.oursReal.stdout),
      "stdout: ours on bin/etcd vs ours on real etcd",
    );
    if (o.stderr !== false) {
      assert.equal(
        x(this.oursReal.stderr),
        x(v35(this.real.stderr)),
        "stderr: ours vs real etcdctl, on real etcd",
      );
      assert.equal(
        x(this.ours.stderr),
        x(this.oursReal.stderr),
        "stderr: ours on bin/etcd vs ours on real etcd",
      );
    }
    return this.ours.stdout;
  }
}

/** The current revision of the three servers (asserted equal: they are in lockstep). */
export async function revision(t: Trio): Promise<number> {
  const revs = await Promise.all(
    [t.realA, t.realB, t.ours].map(async (c) => {
      const r = await runCtl("real", ["get", "rev-probe", "-w", "json"], { endpoints: c.endpoints() });
      return Number(/"revision":(\d+)/.exec(r.stdout)?.[1]);
    }),
  );
  assert.ok(
    revs.every((r) => r === revs[0]),
    `servers in lockstep: ${revs}`,
  );
  return revs[0]!;
}

/**
 * Runs `args` with the real etcdctl and ours against the same cluster (concurrently unless the command
 * changes something) and asserts equal exit codes and normalised outputs; returns both results.
 */
export async function pair(
  endpoints: string[],
  args: string[],
  o: Omit<SameOpts, "realOnly"> & {
    sequential?: boolean;
    sortLines?: boolean;
    /** Compare stdout and stderr together (3.4 prints healthy endpoints on stderr, 3.5 on stdout). */
    mergeStreams?: boolean;
  } = {},
): Promise<{ real: RunResult; ours: RunResult }> {
  const run = (tool: Tool) => runCtl(tool, args, { ...o, endpoints });
  let [real, ours] = o.sequential
    ? [await run("real"), await run("ours")]
    : await Promise.all([run("real"), run("ours")]);
  if (o.mergeStreams) {
    const merge = (r: RunResult) => ({ ...r, stdout: r.stdout + r.stderr, stderr: "" });
    [real, ours] = [merge(real!), merge(ours!)];
  }
  const x = (s: string) => {
    const n = norm(s, o.norm);
    return o.sortLines ? n.split("\n").sort().join("\n") : n;
  };
  const detail = `\n=== real\n${show(real!)}\n=== ours\n${show(ours!)}`;
  const label = `etcdctl ${args.join(" ")}`;
  assert.equal(ours!.code, real!.code, `${label}: exit code${detail}`);
  assert.equal(x(ours!.stdout), x(v35(real!.stdout)), `${label}: stdout${detail}`);
  if (!o.ignoreStderr) assert.equal(x(ours!.stderr), x(v35(real!.stderr)), `${label}: stderr${detail}`);
  return { real: real!, ours: ours! };
}
