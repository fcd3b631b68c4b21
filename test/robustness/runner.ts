// One robustness run: start a cluster behind proxies, run the workloads, inject faults from the seed,
// heal, check liveness, restart every member at once (a power loss: unsynced WAL writes dropped), and
// check everything: register linearizability, durability of appends, watch guarantees, leases.
//
// Everything of a run lives in one directory: the members' data dirs and logs (cluster/), run.log,
// schedule.json (the faults as injected), history-register.jsonl, appends.jsonl, watchers.json,
// report.json. It is removed when the run passes (unless keep), and kept when it fails, with a
// one-line command that replays the same seed.

import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlarmRequest_AlarmAction, AlarmType, RangeRequest } from "../../src/api/gen/etcdserverpb/rpc.js";
import { derivedRand } from "../../src/sim/seeds.js";
import { delay, ROOT } from "../e2e/cluster.js";
import { checkAppends, type DurabilityResult } from "./checker/durability.js";
import { checkLeases, type LeaseCheckResult } from "./checker/lease.js";
import { type CheckResult, checkRegisters } from "./checker/linearizability.js";
import { type AckedWrite, checkAckedInHistory, checkReferences, checkWatcher } from "./checker/watch.js";
import { type Node, RobustCluster } from "./cluster.js";
import { opLine } from "./history.js";
import { type FaultKind, type FaultRecord, faultSequence, heal, runFault } from "./nemesis.js";
import { Network } from "./proxy.js";
import { bytes, call, leaderMetadata, utf8 } from "./rpc.js";
import { type Availability, availability, type TimedOp } from "./stats.js";
import { AppendWorkload } from "./workload/append.js";
import type { LeaseRecord } from "./workload/lease.js";
import { LeaseWorkload } from "./workload/lease.js";
import { RegisterWorkload } from "./workload/register.js";
import { collectEvents, type WatchedEvent, WatchWorkload } from "./workload/watch.js";

export interface RunOptions {
  seed: number;
  members: number;
  /** Fault kinds to draw from (empty: no faults). */
  nemeses: readonly FaultKind[];
  /** Seconds of faults (drawn at random); with eachOnce, every kind once in a seeded order instead. */
  timeS: number;
  eachOnce?: boolean;
  /** Register reads served locally (serializable): expected to fail the linearizability check. */
  serializableReads?: boolean;
  /** Keep the run directory even when the run passes. */
  keep?: boolean;
  /** Parent of the run directory (default: the OS temp dir). */
  baseDir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Pause between faults (ms, default 1000). */
  quietMs?: number;
  /** Workload size (defaults suit a shared 2-core machine). */
  registerClients?: number;
  /** Read-only raw register clients (one per member in turn). */
  readers?: number;
  keys?: number;
  appendClients?: number;
  thinkMs?: [number, number];
  /** Which checks to run (default all): the stale-read demonstration only needs the registers. */
  only?: "registers";
  /**
   * Run the members from a private copy of the build (dist/src, bin), so that a rebuild of this checkout
   * during a long run (other work on the same tree) cannot break a member's restart.
   */
  copyBuild?: boolean;
}

export interface RunReport {
  ok: boolean;
  seed: number;
  dir: string;
  replay: string;
  problems: string[];
  durationS: number;
  faults: FaultRecord[];
  operations: {
    register: Record<string, number>;
    appends: Record<string, number>;
    watchEvents: number;
    leases: number;
  };
  availability?: Availability;
  linearizability?: Omit<CheckResult, "keys"> & { keys: Omit<CheckResult["keys"][number], "window">[] };
  durability?: DurabilityResult;
  watch?: {
    events: number;
    watchers: { name: string; events: number; resumes: number; errors: number }[];
    problems: string[];
  };
  leases?: LeaseCheckResult;
  /** Restarts at which the WAL failpoint dropped writes that were not fsynced. */
  unsyncedDrops?: number;
}

export function replayCommand(o: RunOptions): string {
  const parts = [`npm run robustness -- --seed ${o.seed} --members ${o.members} --time ${o.timeS}`];
  parts.push(`--nemesis ${o.nemeses.length > 0 ? o.nemeses.join(",") : "none"}`);
  if (o.eachOnce) parts.push("--each-once");
  if (o.serializableReads) parts.push("--serializable-reads");
  return parts.join(" ");
}

export async function runRobustness(o: RunOptions): Promise<RunReport> {
  const t0 = performance.now();
  const dir = mkdtempSync(join(o.baseDir ?? tmpdir(), `etcd-robustness-s${o.seed}-`));
  const lines: string[] = [];
  const log = (line: string) => {
    const l = `${((performance.now() - t0) / 1000).toFixed(1).padStart(7)}s ${line}`;
    lines.push(l);
    o.log?.(l);
  };
  const replay = replayCommand(o);
  log(
    `run: seed ${o.seed}, ${o.members} members, faults ${o.nemeses.join(",") || "none"}${o.eachOnce ? " (each once)" : ` for ${o.timeS} s`}; dir ${dir}`,
  );
  const problems: string[] = [];
  const faults: FaultRecord[] = [];
  const report: RunReport = {
    ok: false,
    seed: o.seed,
    dir,
    replay,
    problems,
    durationS: 0,
    faults,
    operations: { register: {}, appends: {}, watchEvents: 0, leases: 0 },
  };

  const network = new Network();
  network.setRandom(derivedRand(o.seed, 500).next);
  let cluster: RobustCluster | undefined;
  let reg: RegisterWorkload | undefined;
  let app: AppendWorkload | undefined;
  let watch: WatchWorkload | undefined;
  let lease: LeaseWorkload | undefined;
  const timeoutMs = 5000;
  const think = o.thinkMs ?? [10, 40];
  try {
    const command = o.copyBuild ? [process.execPath, copyBuild(join(dir, "build"))] : undefined;
    cluster = await RobustCluster.start({
      command,
      size: o.members,
      dir: join(dir, "cluster"),
      network,
      dropUnsynced: true,
      // Frequent raft snapshots, so restarted and new members catch up by snapshot transfer too; the
      // leader's corruption check every 2 s, so a false alarm under faults would show (every restart
      // runs the initial check, on by default).
      extraArgs: [
        "--snapshot-count=1000",
        "--experimental-snapshot-catchup-entries=300",
        "--experimental-corrupt-check-time=2s",
      ],
      log,
    });
    log(`cluster up: ${cluster.nodes.map((n) => `${n.name}=${n.id}`).join(" ")}`);

    reg = new RegisterWorkload(cluster, {
      seed: o.seed,
      keys: o.keys ?? 4,
      clients: o.registerClients ?? 2 * o.members,
      serializableReads: o.serializableReads ?? false,
      thinkMs: think,
      timeoutMs,
      readers: o.readers ?? 0,
    });
    reg.start();
    if (o.only !== "registers") {
      app = new AppendWorkload(cluster, o.seed, o.appendClients ?? 2, think, timeoutMs);
      app.start();
      watch = new WatchWorkload(cluster, o.seed, Math.min(o.members, 3), 1);
      watch.start();
      lease = new LeaseWorkload(cluster, o.seed, timeoutMs);
      lease.start();
    }
    const started = performance.now();
    await until(() => reg!.history.counts().ok >= 10, 30_000, "the first successful register operations");

    // Faults.
    const rnd = derivedRand(o.seed, 600);
    const deadline = performance.now() + o.timeS * 1000;
    let injected = 0;
    for (const kind of faultSequence(rnd, o.nemeses, o.eachOnce ?? false)) {
      if (!o.eachOnce && performance.now() > deadline) break;
      const rec = await runFault(kind, { cluster, network, rnd, log });
      faults.push(rec);
      injected++;
      if (rec.error !== undefined) {
        problems.push(`fault #${injected} ${kind} (${rec.detail}): ${rec.error}`);
        break;
      }
      await delay(o.quietMs ?? 1000);
    }
    if (o.nemeses.length === 0) await delay(o.timeS * 1000);

    // Healed and live: every member healthy, operations succeed.
    await heal(cluster, network);
    await cluster.waitHealthy(60_000);
    const healedAt = performance.now();
    log(`healed: ${cluster.active.map((n) => n.name).join(",")} healthy`);

    let keptState = new Map<LeaseRecord, { key: boolean; ttl: number } | string>();
    if (lease !== undefined) {
      const kept = await lease.confirmKept(healedAt, 20_000);
      keptState = new Map(
        await Promise.all(
          kept.map(async (rec) => [rec, await lease!.inspect(rec).catch((e: unknown) => String(e))] as const),
        ),
      );
    }
    await Promise.all([reg.stop(), app?.stop(), lease?.stop()]);
    const ended = performance.now();
    await reg.finalReads();

    // Watchers must deliver everything up to the last revision.
    const finalRev = await currentRevision(cluster);
    if (watch !== undefined) {
      const lag = await watch.waitCaughtUp(finalRev, 30_000);
      if (lag.length > 0)
        problems.push(`watchers did not catch up to revision ${finalRev} within 30 s: ${lag.join(", ")}`);
      await watch.stop();
    }
    lease?.releaseAll();

    // Full restart: every member killed at once (unsynced WAL writes dropped), all restarted.
    log("full restart: kill -9 every member");
    const all = cluster.active;
    await Promise.all(all.map((n) => cluster!.kill(n)));
    for (const n of all) await cluster.restart(n);
    await cluster.waitHealthy(60_000);
    log("full restart: healthy");
    await reg.finalReads();

    // Checks.
    const ops = reg.history.ops;
    report.operations.register = { ...reg.history.counts(), total: ops.length };
    const timed: TimedOp[] = ops.map((x) => ({
      call: x.call,
      ret: x.ret,
      status: x.status,
      write: x.input.f !== "read",
    }));
    if (app !== undefined) {
      for (const a of app.attempts) timed.push({ call: a.call, ret: a.ret, status: a.status, write: true });
    }
    report.availability = availability(timed, faults, started, ended);
    const lin = checkRegisters(ops);
    report.linearizability = { verdict: lin.verdict, keys: lin.keys.map(({ window: _w, ...k }) => k) };
    if (lin.verdict !== "ok") {
      for (const k of lin.keys.filter((x) => x.verdict !== "ok")) {
        const around = (k.window ?? []).map((id) => opLine(ops[id]!)).join("\n    ");
        problems.push(
          `linearizability ${k.verdict} on ${k.key}: ${k.reason}${around ? `\n    ${around}` : ""}`,
        );
      }
    }

    if (app !== undefined && watch !== undefined && lease !== undefined && o.only !== "registers") {
      const present = await retry(() => app!.reader().range("app/"), 30_000, "reading the appends");
      const dur = checkAppends(app.attempts, present);
      report.durability = dur;
      report.operations.appends = countStatus(app.attempts);
      problems.push(...dur.problems.map((p) => `durability: ${p}`));
      // Every member on its own must hold them too (a linearizable read served by each in turn).
      for (const n of cluster.active) {
        const mine = await retry(() => rangeOn(n, "app/"), 30_000, `reading the appends on ${n.name}`);
        const d = checkAppends(app.attempts, mine);
        problems.push(...d.problems.map((p) => `durability on ${n.name}: ${p}`));
      }

      // Reference histories from every member, up to the same revision.
      const until = await currentRevision(cluster);
      const refs = new Map<string, WatchedEvent[]>();
      for (const n of cluster.active) {
        try {
          refs.set(n.name, await collectEvents(n.rpc(), until, 60_000));
        } catch (e) {
          problems.push(`watch: ${String(e)}`);
        }
      }
      const ref = refs.values().next().value ?? [];
      const wp: string[] = [...checkReferences(refs)];
      for (const w of [...watch.raw, ...watch.lib]) wp.push(...checkWatcher(ref, w.record, w.caughtUpTo));
      const acked: AckedWrite[] = [];
      const failed = new Set<string>();
      for (const x of ops) {
        if (x.input.f === "read") continue;
        if (
          x.status === "ok" &&
          x.revision !== undefined &&
          (x.input.f === "write" || x.output?.ok === true)
        ) {
          acked.push({ key: x.input.key, value: x.input.value, revision: x.revision, what: x.input.f });
        }
        if (x.status === "fail") failed.add(x.input.value);
      }
      for (const a of app.attempts) {
        if (a.status === "ok" && a.revision !== undefined)
          acked.push({ key: a.key, value: a.value, revision: a.revision, what: "append" });
        if (a.status === "fail") failed.add(a.value);
      }
      wp.push(...checkAckedInHistory(ref, acked, failed));
      report.operations.watchEvents = ref.length;
      report.watch = {
        events: ref.length,
        watchers: watch.records().map((r) => ({
          name: r.name,
          events: r.events.length,
          resumes: r.resumes,
          errors: r.errors.length,
        })),
        problems: wp,
      };
      problems.push(...wp.map((p) => `watch: ${p}`));
      writeFileSync(
        join(dir, "watchers.json"),
        JSON.stringify({ reference: ref.length, watchers: watch.records() }),
      );

      // Leases: every key of a lease let go, revoked or expired is gone once the TTLs passed.
      const maxTtl = Math.max(6, ...lease.leases.map((l) => l.ttl));
      let leftover = new Set<string>();
      const leftDeadline = performance.now() + maxTtl * 1000 + 30_000;
      for (;;) {
        leftover = await retry(() => lease!.presentKeys(), 30_000, "reading the lease keys");
        if (leftover.size === 0 || performance.now() > leftDeadline) break;
        await delay(500);
      }
      const lc = checkLeases(lease.leases, keptState, leftover);
      report.leases = lc;
      report.operations.leases = lease.leases.length;
      problems.push(...lc.problems.map((p) => `leases: ${p}`));
      writeFileSync(join(dir, "appends.jsonl"), app.attempts.map((a) => JSON.stringify(a)).join("\n"));
      // Now that nothing changes any more: the members hold the same key space.
      problems.push(...(await checkConsistency(cluster)).map((p) => `consistency: ${p}`));
      problems.push(...(await checkNoAlarms(cluster)).map((p) => `alarms: ${p}`));
    }
    writeFileSync(join(dir, "history-register.jsonl"), ops.map(opLine).join("\n"));
    problems.push(...cluster.crashes().map((c) => `member crashed: ${c}`));
    report.unsyncedDrops = cluster.nodes.reduce(
      (k, n) => k + n.member.log().split("dropped writes that were not fsynced").length - 1,
      0,
    );
  } catch (e) {
    problems.push(`run aborted: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    reg?.close();
    app?.close();
    lease?.close();
    await watch?.stop().catch(() => {});
    await cluster?.destroy();
  }
  report.ok = problems.length === 0;
  report.durationS = Math.round((performance.now() - t0) / 100) / 10;
  log(
    report.ok
      ? `PASS (${report.durationS} s)`
      : `FAIL: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`,
  );
  writeFileSync(join(dir, "schedule.json"), JSON.stringify(faults, null, 1));
  writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 1));
  writeFileSync(join(dir, "run.log"), `${lines.join("\n")}\n`);
  if (report.ok && !o.keep) rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}\nreplay: ${replay}`);
  return report;
}

/** Copies dist/src and bin/etcd into `to` (node_modules linked); returns the copied bin/etcd. */
function copyBuild(to: string): string {
  mkdirSync(join(to, "dist"), { recursive: true });
  cpSync(join(ROOT, "dist", "src"), join(to, "dist", "src"), { recursive: true });
  cpSync(join(ROOT, "bin"), join(to, "bin"), { recursive: true });
  cpSync(join(ROOT, "package.json"), join(to, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(to, "node_modules"));
  return join(to, "bin", "etcd");
}

function countStatus(xs: readonly { status: string }[]): Record<string, number> {
  const c: Record<string, number> = { total: xs.length };
  for (const x of xs) c[x.status] = (c[x.status] ?? 0) + 1;
  return c;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

async function retry<T>(f: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (performance.now() > deadline) throw new Error(`${what}: ${String(e)}`);
      await delay(300);
    }
  }
}

/**
 * Once the members have applied the same index, they must be at the same revision and their key
 * spaces must hash the same (HashKV at that revision): replicas that diverged fail here.
 */
async function checkConsistency(cluster: RobustCluster): Promise<string[]> {
  const members = cluster.active;
  const deadline = performance.now() + 30_000;
  let last = "";
  for (;;) {
    const st = await Promise.all(
      members.map(async (n) => {
        const r = await call(n.rpc().maintenance.status, n.rpc().maintenance, {}, 5000).catch(
          () => undefined,
        );
        return r === undefined
          ? undefined
          : { applied: r.raftAppliedIndex, revision: r.header?.revision ?? 0n };
      }),
    );
    last = members
      .map((n, i) => `${n.name}: applied ${st[i]?.applied}, revision ${st[i]?.revision}`)
      .join("; ");
    const same = st.every((x) => x !== undefined && x.applied === st[0]!.applied);
    if (same) {
      const revs = new Set(st.map((x) => x!.revision));
      if (revs.size > 1) return [`members at the same applied index are at different revisions: ${last}`];
      const rev = st[0]!.revision;
      const hashes = await Promise.all(
        members.map((n) =>
          call(n.rpc().maintenance.hashKv, n.rpc().maintenance, { revision: rev }, 10_000).then(
            (h) => `${h.hash}/${h.compactRevision}`,
            (e: unknown) => `error ${String(e)}`,
          ),
        ),
      );
      if (new Set(hashes).size > 1) {
        return [
          `key spaces differ at revision ${rev}: ${members.map((n, i) => `${n.name} ${hashes[i]}`).join(", ")}`,
        ];
      }
      return [];
    }
    if (performance.now() > deadline)
      return [`members did not reach the same applied index within 30 s: ${last}`];
    await delay(300);
  }
}

/** No member raised an alarm: a CORRUPT alarm here is a corruption check's false positive (or real divergence). */
async function checkNoAlarms(cluster: RobustCluster): Promise<string[]> {
  const n = cluster.active[0]!;
  const r = await call(
    n.rpc().maintenance.alarm,
    n.rpc().maintenance,
    { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
    10_000,
  );
  return r.alarms.map((a) => `member ${a.memberID.toString(16)} has alarm ${AlarmType[a.alarm]}`);
}

/** Every key under `prefix` as member `n` serves it (linearizable). */
async function rangeOn(
  n: Node,
  prefix: string,
): Promise<{ key: string; value: string; modRevision: number }[]> {
  const end = Buffer.from(prefix, "utf8");
  end[end.length - 1]!++;
  const req = RangeRequest.fromPartial({ key: bytes(prefix), rangeEnd: new Uint8Array(end) });
  const r = await call(n.rpc().kv.range, n.rpc().kv, req, 10_000, leaderMetadata());
  return r.kvs.map((kv) => ({
    key: utf8(kv.key),
    value: utf8(kv.value),
    modRevision: Number(kv.modRevision),
  }));
}

/** The store's current revision (a linearizable read through any member). */
async function currentRevision(cluster: RobustCluster): Promise<number> {
  return retry(
    async () => {
      let last: unknown;
      for (const n of cluster.active.filter((x) => x.running)) {
        try {
          const r = await call(
            n.rpc().kv.range,
            n.rpc().kv,
            RangeRequest.fromPartial({ key: bytes("reg/0") }),
            5000,
            leaderMetadata(),
          );
          return Number(r.header!.revision);
        } catch (e) {
          last = e;
        }
      }
      throw last ?? new Error("no member");
    },
    30_000,
    "reading the current revision",
  );
}
