// watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]
//
// Prints each event batch until the server cancels the watch (then exits 5). With `-- cmd args`, runs
// the command once per event (in order, after printing it) with ETCD_WATCH_REVISION, _EVENT_TYPE, _KEY
// and _VALUE in its environment. With -i, reads `watch ...` and `progress` lines from stdin.
// ETCDCTL_WATCH_KEY / ETCDCTL_WATCH_RANGE_END stand for the key arguments.

import { spawn } from "node:child_process";
import { Event_EventType } from "../../../api/gen/mvccpb/kv.js";
import { argify } from "../argify.js";
import type { CommandSpec, RunContext } from "../command.js";
import type { Conn } from "../conn.js";
import { display } from "../display.js";
import { ExitBadArgs, ExitInterrupted, ExitInvalidInput, exitWithError } from "../exit.js";
import { type FlagDef, FlagSet } from "../flags.js";
import { mustClient } from "../globals.js";
import { goQuote } from "../goformat.js";
import { keyBytes, prefixRangeEnd } from "../keys.js";
import { errln, flushAndExit, out } from "../out.js";
import type { WatchResp } from "../printer.js";
import { AsyncLineReader } from "../stdin.js";
import { type WatchOptions, WatchStream } from "../watcher.js";

const WATCH_FLAGS: FlagDef[] = [
  { name: "interactive", short: "i", kind: "bool", def: false, usage: "Interactive mode" },
  { name: "prefix", kind: "bool", def: false, usage: "Watch on a prefix if prefix is set" },
  { name: "rev", kind: "int64", def: 0n, usage: "Revision to start watching" },
  {
    name: "prev-kv",
    kind: "bool",
    def: false,
    usage: "get the previous key-value pair before the event happens",
  },
  {
    name: "progress-notify",
    kind: "bool",
    def: false,
    usage: "get periodic watch progress notification from server",
  },
];

const errBadArgsNum = "bad number of arguments";
const errBadArgsNumConflictEnv = "bad number of arguments (found conflicting environment key)";
const errBadArgsNumSeparator = "bad number of arguments (found separator --, but no commands)";
const errBadArgsInteractiveWatch = "args[0] must be 'watch' for interactive calls";

/** The watch flags in effect (etcdctl's package variables; interactive lines set them anew). */
interface WatchFlags {
  prefix: boolean;
  rev: bigint;
  prevKv: boolean;
  progressNotify: boolean;
}

type Parsed = { watchArgs: string[]; execArgs: string[] } | { error: string };

/** etcdctl's parseWatchArgs: splits the key arguments from the command to run after `--`. */
export function parseWatchArgs(
  osArgs: string[],
  commandArgs: string[],
  envKey: string,
  envRange: string,
  interactive: boolean,
  flags: WatchFlags,
): Parsed {
  let rawArgs = [...osArgs];
  let watchArgs = [...commandArgs];
  const wi = rawArgs.indexOf("watch");
  if (wi >= 0) rawArgs = rawArgs.slice(wi + 1);
  const reset = () => {
    flags.prefix = false;
    flags.rev = 0n;
    flags.prevKv = false;
  };
  if (interactive) {
    if (watchArgs[0] !== "watch") {
      reset();
      return { error: errBadArgsInteractiveWatch };
    }
    watchArgs = watchArgs.slice(1);
  }
  if (!interactive) {
    const execIdx = rawArgs.indexOf("--");
    const execExist = execIdx >= 0;
    if (execExist && execIdx === rawArgs.length - 1) return { error: errBadArgsNumSeparator };
    if (!execExist && rawArgs.length < 1 && envKey === "") return { error: errBadArgsNum };
    if (execExist && envKey !== "") {
      let ridx = rawArgs.length - 1;
      for (let widx = watchArgs.length - 1; widx >= 0; widx--) {
        if (watchArgs[widx] === rawArgs[ridx]) {
          ridx--;
          continue;
        }
        if (ridx === execIdx) return { error: errBadArgsNumConflictEnv };
      }
    }
    if (!execExist && watchArgs.length > 0 && envKey !== "") return { error: errBadArgsNumConflictEnv };
  } else {
    const execIdx = watchArgs.indexOf("--");
    const execExist = execIdx >= 0;
    if (execExist && execIdx === watchArgs.length - 1) {
      reset();
      return { error: errBadArgsNumSeparator };
    }
    const fs = new FlagSet(WATCH_FLAGS);
    const perr = fs.parse(watchArgs);
    if (perr !== undefined) {
      reset();
      return { error: perr };
    }
    if (!execExist && envKey === "" && fs.args.length < 1) {
      reset();
      return { error: errBadArgsNum };
    }
    if (!execExist && fs.args.length > 0 && envKey !== "") {
      reset();
      return { error: errBadArgsNumConflictEnv };
    }
  }

  const argsWithSep = interactive ? watchArgs : rawArgs;
  const idx = argsWithSep.indexOf("--");
  const foundSep = idx >= 0;
  const execArgs = foundSep ? argsWithSep.slice(idx + 1) : [];
  if (interactive) {
    const fs = new FlagSet(WATCH_FLAGS);
    const perr = fs.parse(argsWithSep);
    if (perr !== undefined) return { error: perr };
    watchArgs = fs.args;
    flags.prefix = fs.bool("prefix");
    flags.rev = fs.int("rev");
    flags.prevKv = fs.bool("prev-kv");
  }
  if (envKey !== "") watchArgs = [envKey, ...(envRange !== "" ? [envRange] : []), ...watchArgs];
  if (!foundSep) return { watchArgs, execArgs: [] };
  // "watch foo bar -- echo hello" parses as watchArgs [foo bar echo hello]: drop the command's words.
  let endIdx = watchArgs.length - 1;
  for (; endIdx >= 0; endIdx--) if (watchArgs[endIdx] === argsWithSep[idx + 1]) break;
  return { watchArgs: watchArgs.slice(0, Math.max(endIdx, 0)), execArgs };
}

/** getWatchChan's request: key, range end or prefix, start revision, prev-kv, progress notify. */
function watchOptions(args: string[], f: WatchFlags): WatchOptions | string {
  if (args.length < 1) return errBadArgsNum;
  let key = keyBytes(args[0]!);
  let rangeEnd: Uint8Array = new Uint8Array();
  if (args.length === 2) {
    if (f.prefix) return "`range_end` and `--prefix` are mutually exclusive";
    rangeEnd = keyBytes(args[1]!);
  }
  if (f.prefix) {
    if (key.length === 0) {
      key = new Uint8Array([0]);
      rangeEnd = new Uint8Array([0]);
    } else rangeEnd = prefixRangeEnd(key);
  }
  return { key, rangeEnd, startRevision: f.rev, prevKv: f.prevKv, progressNotify: f.progressNotify };
}

/** Runs `execArgs` for one event with the event in ETCD_WATCH_* variables; a failure exits 1. */
function runForEvent(
  execArgs: string[],
  r: WatchResp,
  type: Event_EventType,
  key: Uint8Array,
  value: Uint8Array,
): Promise<void> {
  const env = {
    ...process.env,
    ETCD_WATCH_REVISION: String(r.header.revision),
    ETCD_WATCH_EVENT_TYPE: goQuote(type === Event_EventType.DELETE ? "DELETE" : "PUT"),
    ETCD_WATCH_KEY: goQuote(key),
    ETCD_WATCH_VALUE: goQuote(value),
  };
  const quoted = `[${execArgs.map((a) => goQuote(a)).join(" ")}]`;
  return new Promise((resolve) => {
    const p = spawn(execArgs[0]!, execArgs.slice(1), { env, stdio: ["ignore", "inherit", "inherit"] });
    p.once("error", (e: NodeJS.ErrnoException) => {
      const why =
        e.code === "ENOENT"
          ? `exec: ${goQuote(execArgs[0]!)}: executable file not found in $PATH`
          : e.message;
      errln(`command ${quoted} error (${why})`);
      flushAndExit(1);
    });
    p.once("exit", (code, signal) => {
      if (code === 0) return resolve();
      errln(`command ${quoted} error (${signal ? `signal: ${signalName(signal)}` : `exit status ${code}`})`);
      flushAndExit(1);
    });
  });
}

function signalName(s: NodeJS.Signals): string {
  const names: Record<string, string> = { SIGKILL: "killed", SIGTERM: "terminated", SIGINT: "interrupt" };
  return names[s] ?? s;
}

/**
 * printWatchCh for one watcher: each response printed, then the command run for each of its events,
 * strictly in order (the next response waits); resolves when the watch has ended and all is printed.
 */
function printWatch(ws: WatchStream, opts: WatchOptions, execArgs: string[]): Promise<void> {
  let queue: Promise<void> = Promise.resolve();
  const show = async (r: WatchResp, err: string | undefined) => {
    if (r.canceled) errln(`watch was canceled (${err ?? ""})`);
    const progress =
      r.events.length === 0 &&
      !r.canceled &&
      !r.created &&
      r.compactRevision === 0n &&
      r.header.revision !== 0n;
    if (progress) out(`progress notify: ${r.header.revision}\n`);
    display().watch(r);
    if (execArgs.length === 0) return;
    for (const ev of r.events) {
      await runForEvent(
        execArgs,
        r,
        ev.type,
        ev.kv?.key ?? new Uint8Array(),
        ev.kv?.value ?? new Uint8Array(),
      );
    }
  };
  return new Promise((resolve) => {
    ws.watch(opts, {
      onResponse: (r, err) => {
        queue = queue.then(() => show(r, err));
      },
      onClose: (err) => {
        if (err !== undefined) {
          const closed: WatchResp = {
            header: { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n },
            events: [],
            compactRevision: 0n,
            canceled: true,
            created: false,
            nilEvents: true,
          };
          queue = queue.then(() => show(closed, err));
        }
        void queue.then(resolve);
      },
    });
  });
}

async function interactive(
  conn: Conn,
  ctx: RunContext,
  envKey: string,
  envRange: string,
  f: WatchFlags,
): Promise<never> {
  const ws = new WatchStream(conn);
  const reader = new AsyncLineReader();
  for (;;) {
    const { line, eof } = await reader.readLine();
    if (eof) exitWithError(ExitInvalidInput, "error reading watch request line: EOF");
    const l = line.replace(/\n$/, "");
    const args = argify(l);
    if (args.length < 1) {
      errln(`Invalid command: ${l} (watch and progress supported)`);
      continue;
    }
    switch (args[0]) {
      case "watch": {
        if (args.length < 2 && envKey === "") {
          errln(`Invalid command ${l} (command type or key is not provided)`);
          continue;
        }
        const p = parseWatchArgs(ctx.argv, args, envKey, envRange, true, f);
        if ("error" in p) exitWithError(ExitBadArgs, p.error);
        const o = watchOptions(p.watchArgs, f);
        if (typeof o === "string") {
          errln(`Invalid command ${l} (${o})`);
          continue;
        }
        void printWatch(ws, o, p.execArgs);
        break;
      }
      case "progress":
        ws.requestProgress();
        break;
      default:
        errln(`Invalid command ${l} (only support watch)`);
    }
  }
}

async function watchRun(ctx: RunContext): Promise<void> {
  const envKey = process.env.ETCDCTL_WATCH_KEY ?? "";
  const envRange = process.env.ETCDCTL_WATCH_RANGE_END ?? "";
  if (envKey === "" && envRange !== "") {
    exitWithError(
      ExitBadArgs,
      `ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${goQuote(envRange)}`,
    );
  }
  const f: WatchFlags = {
    prefix: ctx.flags.bool("prefix"),
    rev: ctx.flags.int("rev"),
    prevKv: ctx.flags.bool("prev-kv"),
    progressNotify: ctx.flags.bool("progress-notify"),
  };
  if (ctx.flags.bool("interactive")) {
    const conn = await mustClient(ctx);
    await interactive(conn, ctx, envKey, envRange, f);
  }
  const p = parseWatchArgs(ctx.argv, ctx.args, envKey, envRange, false, f);
  if ("error" in p) exitWithError(ExitBadArgs, p.error);
  const conn = await mustClient(ctx);
  const o = watchOptions(p.watchArgs, f);
  if (typeof o === "string") exitWithError(ExitBadArgs, o);
  const ws = new WatchStream(conn);
  await printWatch(ws, o, p.execArgs);
  ws.close();
  conn.close();
  exitWithError(ExitInterrupted, "watch is canceled by the server");
}

export function watchSpec(): CommandSpec {
  return {
    use: "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
    short: "Watches events stream on keys or prefixes",
    flags: WATCH_FLAGS,
    run: watchRun,
  };
}
