// A small command tree with cobra's and pflag's behaviour, as far as etcdutl shows it: subcommands,
// flags before/after/between arguments (`--f v`, `--f=v`, `-w v`, `-wv`, bare booleans, `--` ends
// flags), persistent flags inherited by subcommands, required flags, and cobra's usage text (the help
// etcd's tools print, commands and flags sorted, flags aligned as pflag aligns them).

import { parseGoBool, parseGoInt, parseGoUint } from "../etcd/goparse.js";

export type FlagType = "string" | "bool" | "uint64" | "int64";
export type FlagValue = string | boolean | number;

export interface FlagDef {
  name: string;
  shorthand?: string;
  type: FlagType;
  /** Default as pflag prints it (and parses it). */
  def: string;
  usage: string;
  required?: boolean;
}

export interface CommandDef {
  /** cobra's Use: the name, then the argument synopsis. */
  use: string;
  short: string;
  flags?: FlagDef[];
  /** Flags this command's subcommands inherit. */
  persistentFlags?: FlagDef[];
  subcommands?: CommandDef[];
  hidden?: boolean;
  /** Absent for commands that only group subcommands. */
  run?: (ctx: RunContext) => Promise<string> | string;
}

export interface RunContext {
  args: string[];
  flags: Map<string, FlagValue>;
  /** Whether a flag was given on the command line (rather than defaulted). */
  changed: Set<string>;
  /** The usage text of the command (for argument errors). */
  usage: string;
}

export const HELP_FLAG_USAGE = (name: string) => `help for ${name}`;

/** What a command line resolves to. */
export type Outcome =
  | { kind: "run"; cmd: CommandDef; path: CommandDef[]; ctx: RunContext }
  | { kind: "help"; text: string }
  /** A usage error: cobra prints `Error: <message>` and the usage on stderr, and exits 1. */
  | { kind: "usageError"; message: string; usage: string; suggestRoot?: boolean };

function nameOf(c: CommandDef): string {
  return c.use.split(" ")[0]!;
}

function pathName(path: CommandDef[]): string {
  return path.map(nameOf).join(" ");
}

function helpFlag(c: CommandDef): FlagDef {
  return { name: "help", shorthand: "h", type: "bool", def: "false", usage: HELP_FLAG_USAGE(nameOf(c)) };
}

function localFlags(c: CommandDef): FlagDef[] {
  return [...(c.flags ?? []), ...(c.persistentFlags ?? []), helpFlag(c)];
}

function inheritedFlags(path: CommandDef[]): FlagDef[] {
  return path.slice(0, -1).flatMap((c) => c.persistentFlags ?? []);
}

/** pflag's type names in usage lines (UnquoteUsage). */
function varName(f: FlagDef): string {
  switch (f.type) {
    case "bool":
      return "";
    case "uint64":
      return "uint";
    case "int64":
      return "int";
    default:
      return "string";
  }
}

function isZeroDefault(f: FlagDef): boolean {
  return f.def === "" || f.def === "false" || f.def === "0";
}

/** pflag's FlagUsages: sorted, name column padded to the longest, default appended unless zero. */
export function flagUsages(flags: FlagDef[]): string {
  const sorted = [...flags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const heads = sorted.map((f) => {
    let line = f.shorthand ? `  -${f.shorthand}, --${f.name}` : `      --${f.name}`;
    const v = varName(f);
    if (v !== "") line += ` ${v}`;
    return line;
  });
  const width = Math.max(...heads.map((h) => h.length));
  return sorted
    .map((f, i) => {
      let usage = f.usage;
      if (!isZeroDefault(f))
        usage += f.type === "string" ? ` (default ${JSON.stringify(f.def)})` : ` (default ${f.def})`;
      return `${heads[i]!.padEnd(width)}   ${usage}`;
    })
    .join("\n");
}

/** cobra's default usage template (etcdutl's help template is the usage). */
export function usageText(path: CommandDef[]): string {
  const c = path[path.length - 1]!;
  const name = pathName(path);
  const subs = (c.subcommands ?? []).filter((s) => !s.hidden);
  const out: string[] = ["Usage:"];
  if (c.run) {
    let line = `${pathName(path.slice(0, -1))} ${c.use}`.trim();
    if (!line.includes("[flags]")) line += " [flags]";
    out.push(`  ${line}`);
  }
  if (subs.length > 0) out.push(`  ${name} [command]`);
  if (subs.length > 0) {
    // cobra adds its `help` command to the root only.
    const all = path.length === 1 ? [...subs, { use: "help", short: "Help about any command" }] : [...subs];
    all.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : 1));
    const pad = Math.max(11, ...all.map((s) => nameOf(s).length));
    out.push("", "Available Commands:");
    for (const s of all) out.push(`  ${nameOf(s).padEnd(pad)} ${s.short}`);
  }
  out.push("", "Flags:", flagUsages(localFlags(c)));
  const inherited = inheritedFlags(path);
  if (inherited.length > 0) out.push("", "Global Flags:", flagUsages(inherited));
  if (subs.length > 0) out.push("", `Use "${name} [command] --help" for more information about a command.`);
  return `${out.join("\n")}\n`;
}

/** The flag's value, or (for non-string flags) pflag's error text as a string. */
function parseValue(f: FlagDef, raw: string): FlagValue {
  const bad = (why: string) => `invalid argument ${JSON.stringify(raw)} for "--${f.name}" flag: ${why}`;
  switch (f.type) {
    case "string":
      return raw;
    case "bool": {
      const b = parseGoBool(raw);
      return typeof b === "boolean"
        ? b
        : bad(`strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
    }
    case "uint64":
    case "int64": {
      const fn = f.type === "uint64" ? "ParseUint" : "ParseInt";
      const n = f.type === "uint64" ? parseGoUint(raw, 64) : parseGoInt(raw, 64);
      if (typeof n === "bigint") return Number(n);
      const why = n === "parse error" ? "invalid syntax" : "value out of range";
      return bad(`strconv.${fn}: parsing ${JSON.stringify(raw)}: ${why}`);
    }
  }
}

/** Resolves a command line against the tree rooted at `root`. */
export function resolve(root: CommandDef, argv: string[]): Outcome {
  // Subcommand names come first (cobra finds the command from the leading non-flag words).
  const path: CommandDef[] = [root];
  let rest = [...argv];
  let helpCmd = false;
  if (rest[0] === "help") {
    helpCmd = true;
    rest = rest.slice(1);
  }
  for (;;) {
    const cur = path[path.length - 1]!;
    const idx = firstPositional(rest, [...localFlags(cur), ...inheritedFlags(path)]);
    if (idx < 0) break;
    const sub = (cur.subcommands ?? []).find((s) => nameOf(s) === rest[idx]);
    if (sub === undefined) {
      if (path.length === 1 && !helpCmd) {
        return {
          kind: "usageError",
          message: `unknown command ${JSON.stringify(rest[idx])} for "${nameOf(root)}"`,
          usage: `Run '${nameOf(root)} --help' for usage.\n`,
          suggestRoot: true,
        };
      }
      break;
    }
    path.push(sub);
    rest.splice(idx, 1);
  }
  const cmd = path[path.length - 1]!;
  const usage = usageText(path);
  if (helpCmd) return { kind: "help", text: usage };

  const defs = [...localFlags(cmd), ...inheritedFlags(path)];
  const flags = new Map<string, FlagValue>();
  const changed = new Set<string>();
  for (const f of defs) flags.set(f.name, parseValue(f, f.def) as FlagValue);
  const args: string[] = [];
  const err = (message: string): Outcome => ({ kind: "usageError", message, usage });
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--") {
      args.push(...rest.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      args.push(a);
      continue;
    }
    let f: FlagDef | undefined;
    let value: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (eq >= 0) value = a.slice(eq + 1);
      f = defs.find((d) => d.name === name);
      if (f === undefined) return err(`unknown flag: --${name}`);
    } else {
      const c = a[1]!;
      f = defs.find((d) => d.shorthand === c);
      if (f === undefined) return err(`unknown shorthand flag: '${c}' in ${a}`);
      if (a.length > 2) value = a[2] === "=" ? a.slice(3) : a.slice(2);
    }
    if (value === undefined) {
      if (f.type === "bool") value = "true";
      else if (i + 1 < rest.length) value = rest[++i]!;
      else
        return err(
          `flag needs an argument: ${a.startsWith("--") ? `--${f.name}` : `'${f.shorthand}' in -${f.shorthand}`}`,
        );
    }
    const v = parseValue(f, value);
    if (typeof v === "string" && f.type !== "string") return err(v);
    flags.set(f.name, v);
    changed.add(f.name);
  }
  if (flags.get("help") === true || !cmd.run) return { kind: "help", text: usage };
  const missing = defs.filter((f) => f.required && !changed.has(f.name)).map((f) => JSON.stringify(f.name));
  if (missing.length > 0) return err(`required flag(s) ${missing.sort().join(", ")} not set`);
  return { kind: "run", cmd, path, ctx: { args, flags, changed, usage } };
}

/** Index of the first argument that is not a flag or a flag's value (-1 if none). */
function firstPositional(argv: string[], defs: FlagDef[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return -1;
    if (!a.startsWith("-") || a === "-") return i;
    if (a.includes("=")) continue;
    const f = a.startsWith("--")
      ? defs.find((d) => d.name === a.slice(2))
      : defs.find((d) => d.shorthand === a[1]);
    if (f !== undefined && f.type !== "bool" && (a.startsWith("--") || a.length === 2)) i++;
  }
  return -1;
}
