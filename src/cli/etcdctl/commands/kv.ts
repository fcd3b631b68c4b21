// get, put, del: the argument checks, the request clientv3 builds from the options, and the display.
// The *Op functions are shared with txn, which reads the same commands from its input lines.

import { readFileSync } from "node:fs";
import {
  type DeleteRangeRequest,
  KVService,
  type PutRequest,
  type RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
} from "../../../api/gen/etcdserverpb/rpc.js";
import { parseGoInt } from "../../etcd/goparse.js";
import type { CommandSpec, RunContext } from "../command.js";
import { display } from "../display.js";
import { RpcError } from "../errors.js";
import { ExitBadArgs, ExitBadFeature, ExitError, exitWithError } from "../exit.js";
import type { FlagDef, FlagSet } from "../flags.js";
import { commandDeadline, mustClient } from "../globals.js";
import { keyBytes, prefixRangeEnd } from "../keys.js";
import { FieldsPrinter } from "../printer_fields.js";
import { SimplePrinter } from "../printer_simple.js";

const ZERO = new Uint8Array([0]);

export const GET_FLAGS: FlagDef[] = [
  { name: "consistency", kind: "string", def: "l", usage: "Linearizable(l) or Serializable(s)" },
  {
    name: "order",
    kind: "string",
    def: "",
    usage: "Order of results; ASCEND or DESCEND (ASCEND by default)",
  },
  { name: "sort-by", kind: "string", def: "", usage: "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION" },
  { name: "limit", kind: "int64", def: 0n, usage: "Maximum number of results" },
  { name: "prefix", kind: "bool", def: false, usage: "Get keys with matching prefix" },
  {
    name: "from-key",
    kind: "bool",
    def: false,
    usage: "Get keys that are greater than or equal to the given key using byte compare",
  },
  { name: "rev", kind: "int64", def: 0n, usage: "Specify the kv revision" },
  { name: "keys-only", kind: "bool", def: false, usage: "Get only the keys" },
  { name: "count-only", kind: "bool", def: false, usage: "Get only the count" },
  {
    name: "print-value-only",
    kind: "bool",
    def: false,
    usage: 'Only write values when using the "simple" output format',
  },
];

export const PUT_FLAGS: FlagDef[] = [
  { name: "lease", kind: "string", def: "0", usage: "lease ID (in hexadecimal) to attach to the key" },
  {
    name: "prev-kv",
    kind: "bool",
    def: false,
    usage: "return the previous key-value pair before modification",
  },
  { name: "ignore-value", kind: "bool", def: false, usage: "updates the key using its current value" },
  { name: "ignore-lease", kind: "bool", def: false, usage: "updates the key using its current lease" },
];

export const DEL_FLAGS: FlagDef[] = [
  { name: "prefix", kind: "bool", def: false, usage: "delete keys with matching prefix" },
  { name: "prev-kv", kind: "bool", def: false, usage: "return deleted key-value pairs" },
  {
    name: "from-key",
    kind: "bool",
    def: false,
    usage: "delete keys that are greater than or equal to the given key using byte compare",
  },
  { name: "range", kind: "bool", def: false, usage: "delete range of keys" },
];

export const PUT_LONG = `
Puts the given key into the store.

When <value> begins with '-', <value> is interpreted as a flag.
Insert '--' for workaround:

$ put <key> -- <value>
$ put -- <key> <value>

If <value> isn't given as a command line argument and '--ignore-value' is not specified,
this command tries to read the value from standard input.

If <lease> isn't given as a command line argument and '--ignore-lease' is not specified,
this command tries to read the value from standard input.

For example,
$ cat file | put <key>
will store the content of the file to <key>.
`;

/** strconv.ParseInt(s, 16, 64): base 16 without prefix or underscores. */
export function parseHex64(s: string): bigint | string {
  const what = `strconv.ParseInt: parsing ${JSON.stringify(s)}`;
  const m = /^([+-]?)([0-9a-fA-F]+)$/.exec(s);
  if (!m) return `${what}: invalid syntax`;
  const v = BigInt(`0x${m[2]}`) * (m[1] === "-" ? -1n : 1n);
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) return `${what}: value out of range`;
  return v;
}

/** strconv.ParseUint(s, 16, 64). */
export function parseHexU64(s: string): bigint | string {
  const what = `strconv.ParseUint: parsing ${JSON.stringify(s)}`;
  if (!/^[0-9a-fA-F]+$/.test(s)) return `${what}: invalid syntax`;
  const v = BigInt(`0x${s}`);
  if (v >= 1n << 64n) return `${what}: value out of range`;
  return v;
}

/** strconv.ParseInt(s, 10, 64). */
export function parseDec64(s: string): bigint | string {
  const what = `strconv.ParseInt: parsing ${JSON.stringify(s)}`;
  if (!/^[+-]?[0-9]+$/.test(s)) return `${what}: invalid syntax`;
  const v = parseGoInt(s.replace(/^([+-]?)0+(?=\d)/, "$1"), 64);
  return typeof v === "bigint" ? v : `${what}: value out of range`;
}

function emptyRange(): RangeRequest {
  return {
    key: new Uint8Array(),
    rangeEnd: new Uint8Array(),
    limit: 0n,
    revision: 0n,
    sortOrder: RangeRequest_SortOrder.NONE,
    sortTarget: RangeRequest_SortTarget.KEY,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0n,
    maxModRevision: 0n,
    minCreateRevision: 0n,
    maxCreateRevision: 0n,
  };
}

export function rangeRequest(key: Uint8Array, rangeEnd: Uint8Array = new Uint8Array()): RangeRequest {
  return { ...emptyRange(), key, rangeEnd };
}

/** getGetOp: the range request of `get` (and of txn's `get` lines). */
export function getOp(args: string[], f: FlagSet): RangeRequest {
  if (args.length === 0) {
    exitWithError(ExitBadArgs, "get command needs one argument as key and an optional argument as range_end");
  }
  const prefix = f.bool("prefix");
  const fromKey = f.bool("from-key");
  if (prefix && fromKey) {
    exitWithError(ExitBadArgs, "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
  if (f.bool("keys-only") && f.bool("count-only")) {
    exitWithError(ExitBadArgs, "`--keys-only` and `--count-only` cannot be set at the same time, choose one");
  }
  const r = emptyRange();
  const consistency = f.str("consistency");
  if (consistency === "s") r.serializable = true;
  else if (consistency !== "l")
    exitWithError(ExitBadFeature, `unknown consistency flag ${JSON.stringify(consistency)}`);

  let key = keyBytes(args[0]!);
  if (args.length > 1) {
    if (prefix || fromKey) {
      exitWithError(
        ExitBadArgs,
        "too many arguments, only accept one argument when `--prefix` or `--from-key` is set",
      );
    }
    r.rangeEnd = keyBytes(args[1]!);
  }
  r.limit = f.int("limit");
  if (f.int("rev") > 0n) r.revision = f.int("rev");

  let order = RangeRequest_SortOrder.NONE;
  switch (f.str("order").toUpperCase()) {
    case "ASCEND":
      order = RangeRequest_SortOrder.ASCEND;
      break;
    case "DESCEND":
      order = RangeRequest_SortOrder.DESCEND;
      break;
    case "":
      break;
    default:
      exitWithError(ExitBadFeature, `bad sort order ${f.str("order")}`);
  }
  let target = RangeRequest_SortTarget.KEY;
  switch (f.str("sort-by").toUpperCase()) {
    case "CREATE":
      target = RangeRequest_SortTarget.CREATE;
      break;
    case "KEY":
      target = RangeRequest_SortTarget.KEY;
      break;
    case "MODIFY":
      target = RangeRequest_SortTarget.MOD;
      break;
    case "VALUE":
      target = RangeRequest_SortTarget.VALUE;
      break;
    case "VERSION":
      target = RangeRequest_SortTarget.VERSION;
      break;
    case "":
      break;
    default:
      exitWithError(ExitBadFeature, `bad sort target ${f.str("sort-by")}`);
  }
  // clientv3's WithSort: keys already come in ascending key order, so that sort is dropped.
  if (target === RangeRequest_SortTarget.KEY && order === RangeRequest_SortOrder.ASCEND) {
    order = RangeRequest_SortOrder.NONE;
  }
  r.sortOrder = order;
  r.sortTarget = target;

  if (prefix) {
    if (key.length === 0) {
      key = ZERO;
      r.rangeEnd = ZERO;
    } else r.rangeEnd = prefixRangeEnd(key);
  }
  if (fromKey) {
    if (key.length === 0) key = ZERO;
    r.rangeEnd = ZERO;
  }
  r.key = key;
  r.keysOnly = f.bool("keys-only");
  r.countOnly = f.bool("count-only");
  return r;
}

/** argOrStdin: the argument at `i`, else all of stdin (an error when that is empty). */
export function argOrStdin(args: string[], i: number, readStdin: () => Uint8Array): Uint8Array | undefined {
  if (i < args.length) return keyBytes(args[i]!);
  let b: Uint8Array;
  try {
    b = readStdin();
  } catch {
    return undefined;
  }
  return b.length === 0 ? undefined : b;
}

export function readAllStdin(): Uint8Array {
  return readFileSync(0);
}

/** getPutOp: the put request of `put` (and of txn's `put` lines). */
export function putOp(args: string[], f: FlagSet, readStdin: () => Uint8Array): PutRequest {
  const usage = "put command needs 1 argument and input from stdin or 2 arguments";
  if (args.length === 0) exitWithError(ExitBadArgs, usage);
  const ignoreValue = f.bool("ignore-value");
  if (ignoreValue && args.length > 1) {
    exitWithError(ExitBadArgs, "put command needs only 1 argument when 'ignore-value' is set");
  }
  let value: Uint8Array = new Uint8Array();
  if (!ignoreValue) {
    const v = argOrStdin(args, 1, readStdin);
    if (v === undefined) exitWithError(ExitBadArgs, usage);
    value = v;
  }
  const id = parseHex64(f.str("lease"));
  if (typeof id === "string") exitWithError(ExitBadArgs, `bad lease ID (${id}), expecting ID in Hex`);
  return {
    key: keyBytes(args[0]!),
    value,
    lease: id,
    prevKv: f.bool("prev-kv"),
    ignoreValue,
    ignoreLease: f.bool("ignore-lease"),
  };
}

/** getDelOp: the delete request of `del` (and of txn's `del` lines). */
export function delOp(args: string[], f: FlagSet): DeleteRangeRequest {
  if (args.length === 0 || args.length > 2) {
    exitWithError(ExitBadArgs, "del command needs one argument as key and an optional argument as range_end");
  }
  const prefix = f.bool("prefix");
  const fromKey = f.bool("from-key");
  if (prefix && fromKey) {
    exitWithError(ExitBadArgs, "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
  let key = keyBytes(args[0]!);
  let rangeEnd: Uint8Array = new Uint8Array();
  if (args.length > 1) {
    if (prefix || fromKey) {
      exitWithError(
        ExitBadArgs,
        "too many arguments, only accept one argument when `--prefix` or `--from-key` is set",
      );
    }
    rangeEnd = keyBytes(args[1]!);
    if (!f.bool("range")) {
      process.stderr.write(
        "In etcd v3.6, the operation will be suspended for a few seconds to provide the user time to verify range.\n",
      );
    }
  }
  if (prefix) {
    if (key.length === 0) {
      key = ZERO;
      rangeEnd = ZERO;
    } else rangeEnd = prefixRangeEnd(key);
  }
  if (fromKey) {
    if (key.length === 0) key = ZERO;
    rangeEnd = ZERO;
  }
  return { key, rangeEnd, prevKv: f.bool("prev-kv") };
}

function rpcExit(e: unknown): never {
  if (e instanceof RpcError) exitWithError(ExitError, e.message);
  throw e;
}

async function getRun(ctx: RunContext): Promise<void> {
  const req = getOp(ctx.args, ctx.flags);
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(KVService.range, req, { deadline: commandDeadline(ctx), idempotent: true })
    .catch(rpcExit);
  const d = display();
  if (ctx.flags.bool("count-only") && !(d instanceof FieldsPrinter)) {
    exitWithError(ExitBadArgs, "--count-only is only for `--write-out=fields`");
  }
  if (ctx.flags.bool("print-value-only")) {
    if (!(d instanceof SimplePrinter))
      exitWithError(ExitBadArgs, "print-value-only is only for `--write-out=simple`");
    d.valueOnly = true;
  }
  d.get(resp);
  conn.close();
}

async function putRun(ctx: RunContext): Promise<void> {
  const req = putOp(ctx.args, ctx.flags, readAllStdin);
  const conn = await mustClient(ctx);
  const resp = await conn.unary(KVService.put, req, { deadline: commandDeadline(ctx) }).catch(rpcExit);
  display().put(resp);
  conn.close();
}

async function delRun(ctx: RunContext): Promise<void> {
  const req = delOp(ctx.args, ctx.flags);
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(KVService.deleteRange, req, { deadline: commandDeadline(ctx) })
    .catch(rpcExit);
  display().del(resp);
  conn.close();
}

export const getSpec = (run = true): CommandSpec => ({
  use: "get [options] <key> [range_end]",
  short: "Gets the key or a range of keys",
  flags: GET_FLAGS,
  run: run ? getRun : () => {},
});

export const putSpec = (run = true): CommandSpec => ({
  use: "put [options] <key> <value> (<value> can also be given from stdin)",
  short: "Puts the given key into the store",
  long: PUT_LONG,
  flags: PUT_FLAGS,
  run: run ? putRun : () => {},
});

export const delSpec = (run = true): CommandSpec => ({
  use: "del [options] <key> [range_end]",
  short: "Removes the specified key or range of keys [key, range_end)",
  flags: DEL_FLAGS,
  run: run ? delRun : () => {},
});

export { rpcExit };
