// lock <name> [command ...]: holds the lock until SIGINT/SIGTERM (printing the lock's key), or while the
// command runs (with ETCD_LOCK_KEY and ETCD_LOCK_REV; etcdctl then exits with the command's status).
// elect <name> [proposal]: campaigns and holds leadership until a signal; with -l, prints each leader.

import { spawn } from "node:child_process";
import { KVService } from "../../../api/gen/etcdserverpb/rpc.js";
import type { CommandSpec, RunContext } from "../command.js";
import { Cancel, Election, Mutex, Session } from "../concurrency.js";
import type { Conn } from "../conn.js";
import { display } from "../display.js";
import { ExitBadArgs, ExitError, exitWithError } from "../exit.js";
import { mustClient } from "../globals.js";
import { keyBytes } from "../keys.js";
import { rangeRequest } from "./kv.js";

/** A Cancel fired by the first SIGINT or SIGTERM (etcdctl's signal.Notify). */
function cancelOnSignal(): Cancel {
  const c = new Cancel();
  const fire = () => c.cancel();
  process.once("SIGINT", fire);
  process.once("SIGTERM", fire);
  return c;
}

function untilCanceled(c: Cancel): Promise<void> {
  return new Promise((r) => {
    if (c.canceled) r();
    else c.on(r);
  });
}

function fail(code: number): (e: unknown) => never {
  return (e) => exitWithError(code, e instanceof Error ? e.message : String(e));
}

/** Runs the command with `env` added; resolves with its exit status (a spawn failure throws). */
function runCommand(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(args[0]!, args.slice(1), {
      env: { ...process.env, ...env },
      stdio: ["inherit", "inherit", "inherit"],
    });
    p.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new Error(e.code === "ENOENT" ? `exec: "${args[0]}": executable file not found in $PATH` : e.message),
      ),
    );
    p.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}

async function showKey(conn: Conn, key: string): Promise<void> {
  const k = await conn.unary(KVService.range, rangeRequest(keyBytes(key)), {
    deadline: undefined,
    idempotent: true,
  });
  if (k.kvs.length === 0) exitWithError(ExitError, "lock lost on init");
  display().get(k);
}

async function lockRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length === 0) {
    exitWithError(ExitBadArgs, "lock takes a lock name argument and an optional command to execute");
  }
  const conn = await mustClient(ctx);
  const ttl = Number(ctx.flags.int("ttl"));
  const s = await Session.create(conn, ttl > 0 ? ttl : 60).catch(fail(ExitError));
  const m = new Mutex(s, ctx.args[0]!);
  const cancel = cancelOnSignal();
  await m.lock(cancel).catch(fail(ExitError));
  const cmd = ctx.args.slice(1);
  if (cmd.length > 0) {
    const status = await runCommand(cmd, {
      ETCD_LOCK_KEY: m.myKey,
      ETCD_LOCK_REV: String(m.header?.revision ?? 0n),
    }).catch(fail(ExitError));
    await m.unlock().catch(fail(ExitError));
    conn.close();
    if (status !== 0) exitWithError(status, `exit status ${status}`);
    return;
  }
  await showKey(conn, m.myKey).catch(fail(ExitError));
  const lost = await Promise.race([untilCanceled(cancel).then(() => false), s.done.then(() => true)]);
  if (lost) exitWithError(ExitError, "session expired");
  await m.unlock().catch(fail(ExitError));
  conn.close();
}

async function electRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1 && ctx.args.length !== 2) {
    exitWithError(ExitBadArgs, "elect takes one election name argument and an optional proposal argument");
  }
  const listen = ctx.flags.bool("listen");
  const conn = await mustClient(ctx);
  if (ctx.args.length === 1) {
    if (!listen) exitWithError(ExitBadArgs, "no proposal argument but -l not set");
    const s = await Session.create(conn).catch(fail(ExitError));
    const e = new Election(s, ctx.args[0]!);
    const cancel = cancelOnSignal();
    await e
      .observe((header, kv) => display().get({ header, kvs: [kv], more: false, count: 0n }), cancel)
      .catch(fail(ExitError));
    conn.close();
    return;
  }
  if (listen) exitWithError(ExitBadArgs, "proposal given but -l is set");
  const s = await Session.create(conn).catch(fail(ExitError));
  const e = new Election(s, ctx.args[0]!);
  const cancel = cancelOnSignal();
  await e.campaign(ctx.args[1]!, cancel).catch(fail(ExitError));
  await showKey(conn, e.leaderKey).catch(fail(ExitError));
  const lost = await Promise.race([untilCanceled(cancel).then(() => false), s.done.then(() => true)]);
  if (lost) exitWithError(ExitError, "elect: session expired");
  await e.resign().catch(fail(ExitError));
  conn.close();
}

export function lockSpec(): CommandSpec {
  return {
    use: "lock <lockname> [exec-command arg1 arg2 ...]",
    short: "Acquires a named lock",
    flags: [{ name: "ttl", kind: "int", def: 10n, usage: "timeout for session" }],
    run: lockRun,
  };
}

export function electSpec(): CommandSpec {
  return {
    use: "elect <election-name> [proposal]",
    short: "Observes and participates in leader election",
    flags: [{ name: "listen", short: "l", kind: "bool", def: false, usage: "observation mode" }],
    run: electRun,
  };
}
