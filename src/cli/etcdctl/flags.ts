// Flags as etcdctl's (spf13/pflag) reads them: `--name=value`, `--name value`, bare `--bool`, shorthand
// `-w json` / `-wjson` / `-w=json`, grouped boolean shorthands, interspersed positional arguments, `--`
// ending the flags. Values are set with Go's parsers and rejected with pflag's messages.

import { formatGoDuration, parseGoBool, parseGoDuration, parseGoInt, parseGoUint } from "../etcd/goparse.js";

export type FlagKind = "bool" | "string" | "int" | "int64" | "uint64" | "duration" | "stringSlice";
/** bool, string, bigint (int/int64/uint64), number (duration in ns), string[] (stringSlice). */
export type FlagValue = boolean | string | bigint | number | string[];

export interface FlagDef {
  name: string;
  short?: string;
  kind: FlagKind;
  def: FlagValue;
  usage: string;
  /** Accepted but left out of usage texts (etcd-ts-only flags, so help stays etcdctl's). */
  hidden?: boolean;
}

/** pflag's DefValue text, as the usage lists it. */
export function defText(f: FlagDef): string {
  switch (f.kind) {
    case "duration":
      return formatGoDuration(f.def as number);
    case "stringSlice":
      return `[${(f.def as string[]).join(",")}]`;
    default:
      return String(f.def);
  }
}

function numErr(fn: string, raw: string, e: string): string {
  return `strconv.${fn}: parsing ${JSON.stringify(raw)}: ${e === "parse error" ? "invalid syntax" : "value out of range"}`;
}

/** encoding/csv's reading of one record, as pflag's stringSlice uses it (quotes allowed). */
function readCsv(raw: string): string[] {
  if (raw === "") return [];
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quoted) {
      if (c === '"' && raw[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === "") quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export class FlagSet {
  private readonly byName = new Map<string, FlagDef>();
  private readonly byShort = new Map<string, FlagDef>();
  private readonly values = new Map<string, FlagValue>();
  /** Flags set on the command line or from the environment (pflag's Changed). */
  readonly changed = new Set<string>();
  /** Positional arguments, in order. */
  args: string[] = [];
  /** How many positional arguments came before `--` (-1 without `--`). */
  argsLenAtDash = -1;

  constructor(defs: FlagDef[]) {
    for (const d of defs) this.add(d);
  }

  add(d: FlagDef): void {
    if (this.byName.has(d.name)) return;
    this.byName.set(d.name, d);
    if (d.short) this.byShort.set(d.short, d);
    this.values.set(d.name, Array.isArray(d.def) ? [...d.def] : d.def);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  def(name: string): FlagDef | undefined {
    return this.byName.get(name);
  }

  defs(): FlagDef[] {
    return [...this.byName.values()];
  }

  /** Bool flags take no argument (pflag's NoOptDefVal "true"). */
  isBool(name: string): boolean {
    return this.byName.get(name)?.kind === "bool";
  }

  isBoolShort(c: string): boolean {
    return this.byShort.get(c)?.kind === "bool";
  }

  get(name: string): FlagValue {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`flag accessed but not defined: ${name}`);
    return v;
  }
  bool(name: string): boolean {
    return this.get(name) as boolean;
  }
  str(name: string): string {
    return this.get(name) as string;
  }
  int(name: string): bigint {
    return this.get(name) as bigint;
  }
  /** A duration flag in milliseconds. */
  ms(name: string): number {
    return (this.get(name) as number) / 1e6;
  }
  strs(name: string): string[] {
    return this.get(name) as string[];
  }

  /** flag.Value.Set by name; returns pflag's error text on a bad value. */
  set(name: string, raw: string): string | undefined {
    const d = this.byName.get(name);
    if (d === undefined) return `no such flag -${name}`;
    const v = this.convert(d, raw);
    if (typeof v === "object" && v !== null && "error" in v) {
      const fname = d.short ? `-${d.short}, --${d.name}` : `--${d.name}`;
      return `invalid argument ${JSON.stringify(raw)} for ${JSON.stringify(fname)} flag: ${v.error}`;
    }
    this.values.set(name, v);
    this.changed.add(name);
    return undefined;
  }

  private convert(d: FlagDef, raw: string): FlagValue | { error: string } {
    switch (d.kind) {
      case "string":
        return raw;
      case "bool": {
        const b = parseGoBool(raw);
        return typeof b === "boolean" ? b : { error: numErr("ParseBool", raw, b) };
      }
      case "int":
      case "int64": {
        const n = parseGoInt(raw, 64);
        return typeof n === "bigint" ? n : { error: numErr("ParseInt", raw, n) };
      }
      case "uint64": {
        const n = parseGoUint(raw, 64);
        return typeof n === "bigint" ? n : { error: numErr("ParseUint", raw, n) };
      }
      case "duration": {
        const r = parseGoDuration(raw);
        return "ns" in r ? r.ns : { error: r.error };
      }
      case "stringSlice": {
        const vs = readCsv(raw);
        return this.changed.has(d.name) ? [...(this.values.get(d.name) as string[]), ...vs] : vs;
      }
    }
  }

  /** Parses `args` (flags interspersed with positional arguments); returns pflag's error text. */
  parse(args0: string[]): string | undefined {
    let args = args0;
    while (args.length > 0) {
      const s = args[0]!;
      args = args.slice(1);
      if (s.length < 2 || s[0] !== "-") {
        this.args.push(s);
        continue;
      }
      if (s[1] === "-") {
        if (s.length === 2) {
          this.argsLenAtDash = this.args.length;
          this.args.push(...args);
          return undefined;
        }
        const r = this.parseLong(s, args);
        if (typeof r === "string") return r;
        args = r;
      } else {
        let shorts = s.slice(1);
        while (shorts.length > 0) {
          const r = this.parseShort(shorts, args);
          if (typeof r === "string") return r;
          [shorts, args] = r;
        }
      }
    }
    return undefined;
  }

  private parseLong(s: string, args: string[]): string[] | string {
    const body = s.slice(2);
    if (body === "" || body[0] === "-" || body[0] === "=") return `bad flag syntax: ${s}`;
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const d = this.byName.get(name);
    if (d === undefined) return `unknown flag: --${name}`;
    let value: string;
    let rest = args;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (d.kind === "bool") value = "true";
    else if (args.length > 0) {
      value = args[0]!;
      rest = args.slice(1);
    } else return `flag needs an argument: ${s}`;
    return this.set(d.name, value) ?? rest;
  }

  private parseShort(shorts: string, args: string[]): [string, string[]] | string {
    const c = shorts[0]!;
    const d = this.byShort.get(c);
    if (d === undefined) return `unknown shorthand flag: '${c}' in -${shorts}`;
    let value: string;
    let restShorts = shorts.slice(1);
    let rest = args;
    if (shorts.length > 2 && shorts[1] === "=") {
      value = shorts.slice(2);
      restShorts = "";
    } else if (d.kind === "bool") value = "true";
    else if (shorts.length > 1) {
      value = shorts.slice(1);
      restShorts = "";
    } else if (args.length > 0) {
      value = args[0]!;
      rest = args.slice(1);
    } else return `flag needs an argument: '${c}' in -${shorts}`;
    const e = this.set(d.name, value);
    return e ?? [restShorts, rest];
  }
}
