// The command tree as etcdctl's (spf13/cobra 1.x with etcd's usage template): finding the command in
// the arguments (prefix matching on, flags skipped as cobra's stripFlags does), its flag set (local,
// persistent, inherited, -h/--help) and the usage text.

import { defText, type FlagDef, FlagSet } from "./flags.js";
import { tabwrite } from "./tabwriter.js";

export interface RunContext {
  cmd: Command;
  /** Positional arguments after flag parsing. */
  args: string[];
  /** Positional arguments before `--`, or -1. */
  argsLenAtDash: number;
  flags: FlagSet;
  /** The whole command line (without the program name), as os.Args[1:]. */
  argv: string[];
}

export interface CommandSpec {
  /** "get [options] <key> [range_end]": the first word is the name. */
  use: string;
  short: string;
  long?: string;
  flags?: FlagDef[];
  /** Flags this command and its subcommands accept. */
  persistentFlags?: FlagDef[];
  run?: (ctx: RunContext) => Promise<void> | void;
  suggestFor?: string[];
  hidden?: boolean;
  /** All arguments, flags included, go to `run` as they are. */
  disableFlagParsing?: boolean;
  subcommands?: CommandSpec[];
}

export class Command {
  parent: Command | undefined;
  readonly children: Command[];

  constructor(readonly spec: CommandSpec) {
    this.children = (spec.subcommands ?? []).map((s) => new Command(s)).sort((a, b) => cmp(a.name, b.name));
    for (const c of this.children) c.parent = this;
  }

  get name(): string {
    return this.spec.use.split(" ")[0]!;
  }

  runnable(): boolean {
    return this.spec.run !== undefined;
  }

  root(): Command {
    let c: Command = this;
    while (c.parent) c = c.parent;
    return c;
  }

  /** "etcdctl lease grant". */
  path(): string {
    return this.parent ? `${this.parent.path()} ${this.name}` : this.name;
  }

  addChild(spec: CommandSpec): Command {
    const c = new Command(spec);
    c.parent = this;
    this.children.push(c);
    this.children.sort((a, b) => cmp(a.name, b.name));
    return c;
  }

  helpFlag(): FlagDef {
    return { name: "help", short: "h", kind: "bool", def: false, usage: `help for ${this.name}` };
  }

  /** This command's own flags: its flags, its persistent flags and -h/--help. */
  localFlags(): FlagDef[] {
    return [...(this.spec.flags ?? []), ...(this.spec.persistentFlags ?? []), this.helpFlag()];
  }

  /** Persistent flags of the ancestors (nearest first). */
  inheritedFlags(): FlagDef[] {
    const out: FlagDef[] = [];
    const seen = new Set(this.localFlags().map((f) => f.name));
    for (let p = this.parent; p; p = p.parent) {
      for (const f of p.spec.persistentFlags ?? []) {
        if (!seen.has(f.name)) {
          seen.add(f.name);
          out.push(f);
        }
      }
    }
    return out;
  }

  /** All flags the command accepts (cobra's c.Flags() after merging persistent flags). */
  flagSet(withHelp = true): FlagSet {
    const local = withHelp ? this.localFlags() : this.localFlags().filter((f) => f.name !== "help");
    return new FlagSet([...local, ...this.inheritedFlags()]);
  }

  /** cobra's findNext: an exact name, else the only command the name prefixes. */
  findChild(name: string): Command | undefined {
    const exact = this.children.find((c) => c.name === name);
    if (exact) return exact;
    const pre = this.children.filter((c) => c.name.startsWith(name));
    return pre.length === 1 ? pre[0] : undefined;
  }

  /** cobra's SuggestionsFor: Levenshtein distance <= 2, name prefix, or SuggestFor. */
  suggestionsFor(typed: string): string[] {
    const out: string[] = [];
    for (const c of this.children) {
      if (c.spec.hidden || (!c.runnable() && c.children.length === 0)) continue;
      if (
        levenshtein(typed.toLowerCase(), c.name.toLowerCase()) <= 2 ||
        c.name.toLowerCase().startsWith(typed.toLowerCase())
      ) {
        out.push(c.name);
      }
      for (const s of c.spec.suggestFor ?? []) if (s.toLowerCase() === typed.toLowerCase()) out.push(c.name);
    }
    return out;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function levenshtein(s: string, t: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= s.length; i++) d.push([i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 0; j <= t.length; j++) d[0]![j] = j;
  for (let j = 1; j <= t.length; j++) {
    for (let i = 1; i <= s.length; i++) {
      if (s[i - 1] === t[j - 1]) d[i]![j] = d[i - 1]![j - 1]!;
      else d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + 1);
    }
  }
  return d[s.length]![t.length]!;
}

/** cobra's stripFlags: the words of `args` that are not flags or flag values. */
function stripFlags(args0: string[], fs: FlagSet): string[] {
  const commands: string[] = [];
  let args = args0;
  while (args.length > 0) {
    const s = args[0]!;
    args = args.slice(1);
    if (s === "--") break;
    const long = s.startsWith("--") && !s.includes("=") && !fs.isBool(s.slice(2));
    const short = s.startsWith("-") && !s.includes("=") && s.length === 2 && !fs.isBoolShort(s.slice(1));
    if (long || short) {
      if (args.length <= 1) break;
      args = args.slice(1);
    } else if (s !== "" && !s.startsWith("-")) commands.push(s);
  }
  return commands;
}

export interface Found {
  cmd: Command;
  args: string[];
  /** cobra's legacyArgs error: an unknown command word given to the root. */
  error?: string;
}

/** cobra's Command.Find. */
export function findCommand(root: Command, args: string[]): Found {
  let c = root;
  let rest = args;
  for (;;) {
    const words = stripFlags(rest, c.flagSet(false));
    if (words.length === 0) break;
    const next = c.findChild(words[0]!);
    if (next === undefined) break;
    const i = rest.indexOf(words[0]!);
    rest = [...rest.slice(0, i), ...rest.slice(i + 1)];
    c = next;
  }
  if (c.parent === undefined && c.children.length > 0) {
    const words = stripFlags(rest, c.flagSet(false));
    if (words.length > 0) {
      const sugg = c.suggestionsFor(words[0]!);
      const tail = sugg.length > 0 ? `\n\nDid you mean this?\n${sugg.map((s) => `\t${s}\n`).join("")}` : "";
      return {
        cmd: c,
        args: rest,
        error: `unknown command ${JSON.stringify(words[0])} for ${JSON.stringify(c.path())}${tail}`,
      };
    }
  }
  return { cmd: c, args: rest };
}

// ---- usage ----------------------------------------------------------------------------------------------

function flagUsages(flags: FlagDef[]): string {
  return flags
    .filter((f) => !f.hidden)
    .sort((a, b) => cmp(a.name, b.name))
    .map((f) => {
      let s = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
      const v = f.kind === "string" ? JSON.stringify(defText(f)) : defText(f);
      s += f.kind === "bool" ? `[=${v}]` : `=${v}`;
      return `${s}\t${f.usage}\n`;
    })
    .join("");
}

function subCommands(c: Command): Command[] {
  return c.children.filter((s) => !s.spec.hidden).flatMap((s) => [s, ...subCommands(s)]);
}

/** "lease grant": the command's path below `start`. */
function nameBelow(c: Command, start: Command): string {
  const parts = [c.name];
  for (let p = c.parent; p && p.name !== start.name; p = p.parent) parts.unshift(p.name);
  return parts.join(" ");
}

/** etcd's usage text (pkg/cobrautl's template) for `c`, formatted by the tab writer. */
export function usageText(c: Command, version: string, apiVersion: string, withHelpFlag = true): string {
  let t = "NAME:\n";
  t += c.parent ? `\t${nameBelow(c, c.root())} - ${c.spec.short}\n` : `\t${c.name} - ${c.spec.short}\n`;
  const useLine =
    (c.parent ? `${c.parent.path()} ${c.spec.use}` : c.spec.use) +
    (c.spec.use.includes("[flags]") ? "" : " [flags]");
  t += `\nUSAGE:\n\t${useLine}\n`;
  if (!c.parent) t += `\nVERSION:\n\t${version}\n`;
  if (c.children.length > 0) {
    t += `\nAPI VERSION:\n\t${apiVersion}\n`;
    t += "\n\nCOMMANDS:\n";
    for (const s of subCommands(c)) if (s.runnable()) t += `\t${nameBelow(s, c)}\t${s.spec.short}\n`;
  }
  if (c.spec.long) {
    t += "\nDESCRIPTION:\n";
    for (const l of c.spec.long.replace(/^[\n\t ]+|[\n\t ]+$/g, "").split("\n")) t += `\t${l}\n`;
  }
  const local = withHelpFlag ? c.localFlags() : c.localFlags().filter((f) => f.name !== "help");
  if (local.length > 0) t += `\nOPTIONS:\n${flagUsages(local)}`;
  const inherited = c.inheritedFlags();
  if (inherited.length > 0) t += `\nGLOBAL OPTIONS:\n${flagUsages(inherited)}`;
  t += "\n";
  return tabwrite(t);
}

/** pflag's FlagUsages (cobra's default usage template), for commands run outside etcd's template. */
function pflagUsages(flags: FlagDef[]): string {
  const typeName: Record<string, string> = {
    bool: "",
    string: "string",
    int: "int",
    int64: "int",
    uint64: "uint",
    duration: "duration",
    stringSlice: "strings",
  };
  const zero = (f: FlagDef) => ["false", "", "0", "0s", "[]"].includes(defText(f));
  const lines = flags
    .filter((f) => !f.hidden)
    .sort((a, b) => cmp(a.name, b.name))
    .map((f) => {
      let head = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
      if (typeName[f.kind]) head += ` ${typeName[f.kind]}`;
      let usage = f.usage;
      if (!zero(f))
        usage +=
          f.kind === "string" ? ` (default ${JSON.stringify(defText(f))})` : ` (default ${defText(f)})`;
      return { head, usage };
    });
  const maxlen = Math.max(...lines.map((l) => l.head.length));
  return lines.map((l) => `${l.head} ${" ".repeat(maxlen - l.head.length)}  ${l.usage}`.trimEnd()).join("\n");
}

/** cobra's default usage text of a command under a nameless root (as txn's request parser prints it). */
export function cobraDefaultUsage(c: Command): string {
  return `Usage:\n   ${c.spec.use} [flags]\n\nFlags:\n${pflagUsages(c.localFlags())}\n`;
}
