// txn: compares, then success requests, then failure requests, one per line, each group ended by an
// empty line (prompted with -i). Requests are get/put/del command lines with their flags. Bad input
// exits 3; the transaction itself has no deadline (etcdctl commits it with context.Background()).

import {
  type Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  KVService,
  type RequestOp,
} from "../../../api/gen/etcdserverpb/rpc.js";
import { argify, scanQuoted } from "../argify.js";
import { Command, type CommandSpec, cobraDefaultUsage, findCommand, type RunContext } from "../command.js";
import { display } from "../display.js";
import { CtlExit, ExitBadArgs, ExitInvalidInput, exitWithError } from "../exit.js";
import { mustClient } from "../globals.js";
import { goQuote } from "../goformat.js";
import { keyBytes } from "../keys.js";
import { outln } from "../out.js";
import { SyncLineReader } from "../stdin.js";
import { delOp, delSpec, getOp, getSpec, parseDec64, putOp, putSpec, rpcExit } from "./kv.js";

/** A Go panic: the message and exit status 2, as an unrecovered panic ends a Go program. */
export function goPanic(msg: string): never {
  process.stderr.write(`panic: ${msg}\n\ngoroutine 1 [running]:\nmain.main()\n`);
  throw new CtlExit(2, undefined);
}

/** fmt.Sscanf(s, "%q) %s %q"): how many items were read, and the items. */
function scanCompare(s: string): { n: number; key: string; op: string; val: string } {
  const r = { n: 0, key: "", op: "", val: "" };
  let i = 0;
  const skip = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === "\r")) i++;
  };
  skip();
  const k = scanQuoted(s.slice(i));
  if (!k) return r;
  r.key = k.value;
  r.n = 1;
  i += k.len;
  if (s[i] !== ")") return r;
  i++;
  skip();
  const start = i;
  while (i < s.length && !/\s/.test(s[i]!)) i++;
  if (i === start) return r;
  r.op = s.slice(start, i);
  r.n = 2;
  skip();
  const v = scanQuoted(s.slice(i));
  if (!v) return r;
  r.val = v.value;
  r.n = 3;
  return r;
}

const q = goQuote;

function compareResult(op: string): Compare_CompareResult {
  switch (op) {
    case "=":
      return Compare_CompareResult.EQUAL;
    case "!=":
      return Compare_CompareResult.NOT_EQUAL;
    case ">":
      return Compare_CompareResult.GREATER;
    case "<":
      return Compare_CompareResult.LESS;
  }
  goPanic("Unknown result op");
}

/** parseCompare: `<target>("<key>") <op> "<value>"`. */
export function parseCompare(line: string): Compare | string {
  const p = line.indexOf("(");
  if (p < 0) return `malformed comparison: ${line}`;
  const target = line.slice(0, p);
  const { n, key, op, val } = scanCompare(line.slice(p + 1));
  if (n !== 3) return `malformed comparison: ${line}; got ${target}(${q(key)}) ${op} ${q(val)}`;
  const cmp: Compare = {
    result: Compare_CompareResult.EQUAL,
    target: Compare_CompareTarget.VERSION,
    key: keyBytes(key),
    targetUnion: undefined,
    rangeEnd: new Uint8Array(),
  };
  const num = (): bigint | undefined => {
    const v = parseDec64(val);
    return typeof v === "bigint" ? v : undefined;
  };
  let v: bigint | undefined;
  switch (target) {
    case "ver":
    case "version":
      if ((v = num()) === undefined) break;
      cmp.target = Compare_CompareTarget.VERSION;
      cmp.result = compareResult(op);
      cmp.targetUnion = { $case: "version", value: v };
      return cmp;
    case "c":
    case "create":
      if ((v = num()) === undefined) break;
      cmp.target = Compare_CompareTarget.CREATE;
      cmp.result = compareResult(op);
      cmp.targetUnion = { $case: "createRevision", value: v };
      return cmp;
    case "m":
    case "mod":
      if ((v = num()) === undefined) break;
      cmp.target = Compare_CompareTarget.MOD;
      cmp.result = compareResult(op);
      cmp.targetUnion = { $case: "modRevision", value: v };
      return cmp;
    case "val":
    case "value":
      cmp.target = Compare_CompareTarget.VALUE;
      cmp.result = compareResult(op);
      cmp.targetUnion = { $case: "value", value: keyBytes(val) };
      return cmp;
    case "lease":
      // etcdctl builds this comparison from the value as a string, which clientv3.Compare rejects.
      compareResult(op);
      goPanic("bad value");
      break;
    default:
      return `malformed comparison: ${line} (unknown target ${target})`;
  }
  return `invalid txn compare request: ${line}`;
}

/** parseRequestUnion: a get/put/del line as a request, or the error text. */
export function parseRequest(line: string): RequestOp | string {
  const args = argify(line);
  if (args.length < 2) return `invalid txn compare request: ${line}`;
  const root = new Command({
    use: "txn-request",
    short: "",
    subcommands: [putSpec(false), getSpec(false), delSpec(false)],
  });
  const found = findCommand(root, args);
  if (found.error !== undefined || found.cmd === root) return `invalid txn request: ${line}`;
  const fs = found.cmd.flagSet();
  if (fs.parse(found.args) !== undefined) {
    // cobra prints the request command's usage (its default template) before etcdctl's error.
    process.stderr.write(`${cobraDefaultUsage(found.cmd)}\n`);
    return `invalid txn request: ${line}`;
  }
  if (fs.bool("help")) return `invalid txn request: ${line}`;
  switch (found.cmd.name) {
    case "put":
      return { request: { $case: "requestPut", value: putOp(fs.args, fs, () => new Uint8Array()) } };
    case "get":
      return { request: { $case: "requestRange", value: getOp(fs.args, fs) } };
    default:
      return { request: { $case: "requestDeleteRange", value: delOp(fs.args, fs) } };
  }
}

function readGroup<T>(r: SyncLineReader, parse: (line: string) => T | string): T[] {
  const out: T[] = [];
  for (;;) {
    const { line, eof } = r.readLine();
    if (eof) exitWithError(ExitInvalidInput, "EOF");
    const l = line.trim();
    if (l.length === 0) return out;
    const x = parse(l);
    if (typeof x === "string") exitWithError(ExitInvalidInput, x);
    out.push(x);
  }
}

async function txnRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 0) exitWithError(ExitBadArgs, "txn command does not accept argument");
  const interactive = ctx.flags.bool("interactive");
  const reader = new SyncLineReader();
  const conn = await mustClient(ctx);
  const prompt = (s: string) => {
    if (interactive) outln(s);
  };
  prompt("compares:");
  const compare = readGroup(reader, parseCompare);
  prompt("success requests (get, put, del):");
  const success = readGroup(reader, parseRequest);
  prompt("failure requests (get, put, del):");
  const failure = readGroup(reader, parseRequest);
  const resp = await conn
    .unary(KVService.txn, { compare, success, failure }, { deadline: undefined })
    .catch(rpcExit);
  display().txn(resp);
  conn.close();
}

export function txnSpec(): CommandSpec {
  return {
    use: "txn [options]",
    short: "Txn processes all the requests in one transaction",
    flags: [
      {
        name: "interactive",
        short: "i",
        kind: "bool",
        def: false,
        usage: "Input transaction in interactive mode",
      },
    ],
    run: txnRun,
  };
}
