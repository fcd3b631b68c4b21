// Parsing, running and rewriting of interaction trace files (test/raft/testdata/*.txt).
//
// A trace file is a sequence of blocks separated by blank lines:
//
//   # comment lines (and blank lines) between blocks are kept verbatim on rewrite
//   command arg key=value key=(1,2,3)
//   ----
//   expected output, one or more lines, ending at the next blank line or the end of the file
//
// The output of a command never contains a blank line (the formatter guarantees it), so a blank line
// always ends a block unambiguously. A command whose output is empty prints "ok".

import { readFileSync, writeFileSync } from "node:fs";

export const SEPARATOR = "----";

export interface Block {
  /** 1-based line number of the command line, for error messages. */
  line: number;
  command: string;
  expected: string[];
}

export type Item = { kind: "text"; text: string } | { kind: "block"; block: Block };

/** Splits a trace file into verbatim text lines (comments, blank lines) and command blocks. */
export function parseTrace(src: string, file = "<trace>"): Item[] {
  const lines = src.split("\n");
  // A trailing newline yields one empty last element that is not a line of its own.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const items: Item[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === "" || l.trimStart().startsWith("#")) {
      items.push({ kind: "text", text: l });
      i++;
      continue;
    }
    const line = i + 1;
    const command = l.trim();
    i++;
    if (i >= lines.length || lines[i] !== SEPARATOR) {
      throw new Error(`${file}:${line}: expected "${SEPARATOR}" after command "${command}"`);
    }
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== "") expected.push(lines[i++]!);
    items.push({ kind: "block", block: { line, command, expected } });
  }
  return items;
}

/** Renders items back to text, with `outputs` (when given) replacing each block's expected output. */
export function renderTrace(items: readonly Item[], outputs?: ReadonlyMap<Block, string[]>): string {
  const out: string[] = [];
  for (const it of items) {
    if (it.kind === "text") {
      out.push(it.text);
      continue;
    }
    out.push(it.block.command, SEPARATOR, ...(outputs?.get(it.block) ?? it.block.expected));
  }
  return out.join("\n") + "\n";
}

/** A parsed command line: the name, positional tokens and key=value arguments (values split on ','). */
export interface Command {
  name: string;
  pos: string[];
  args: Map<string, string[]>;
  raw: string;
}

/**
 * Tokenizes on whitespace, keeping "quoted strings" and (parenthesised, lists) whole. A list value
 * `(1,2 3)` splits on commas and spaces; a quoted value loses its quotes.
 */
export function parseCommand(raw: string): Command {
  const tokens: string[] = [];
  let cur = "";
  let depth = 0;
  let quoted = false;
  let has = false;
  for (const ch of raw) {
    if (quoted) {
      if (ch === '"') quoted = false;
      else cur += ch;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      has = true;
      continue;
    }
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (has) tokens.push(cur);
      cur = "";
      has = false;
      continue;
    }
    cur += ch;
    has = true;
  }
  if (quoted || depth !== 0) throw new Error(`unbalanced quotes or parentheses in "${raw}"`);
  if (has) tokens.push(cur);
  const [name, ...rest] = tokens;
  if (name === undefined) throw new Error("empty command");
  const pos: string[] = [];
  const args = new Map<string, string[]>();
  for (const t of rest) {
    const eq = t.indexOf("=");
    if (eq <= 0) {
      pos.push(t);
      continue;
    }
    let v = t.slice(eq + 1);
    if (v.startsWith("(") && v.endsWith(")")) v = v.slice(1, -1);
    args.set(
      t.slice(0, eq),
      v.split(/[\s,]+/).filter((s) => s !== ""),
    );
  }
  return { name, pos, args, raw };
}

/** Runs one command and returns its output lines. */
export type Executor = (cmd: Command) => string[];

export interface Mismatch {
  block: Block;
  actual: string[];
}

export interface TraceResult {
  items: Item[];
  outputs: Map<Block, string[]>;
  /** The first block whose output differs; later blocks still ran (their state may be off). */
  mismatch?: Mismatch;
}

export function runTraceText(src: string, file: string, exec: Executor): TraceResult {
  const items = parseTrace(src, file);
  const outputs = new Map<Block, string[]>();
  let mismatch: Mismatch | undefined;
  for (const it of items) {
    if (it.kind !== "block") continue;
    let actual: string[];
    try {
      actual = exec(parseCommand(it.block.command));
    } catch (e) {
      // An exception escaping a handler is part of the trace: it shows up as a mismatch (or is
      // recorded on rewrite, where the review must catch it).
      actual = [`panic: ${e instanceof Error ? e.message : String(e)}`];
    }
    if (actual.length === 0) actual = ["ok"];
    // Blank lines would end the block early when the file is read back.
    actual = actual.map((l) => (l.trim() === "" ? "<blank>" : l));
    outputs.set(it.block, actual);
    if (mismatch === undefined && actual.join("\n") !== it.block.expected.join("\n")) {
      mismatch = { block: it.block, actual };
    }
  }
  return { items, outputs, ...(mismatch ? { mismatch } : {}) };
}

/** Runs a trace file; with `rewrite`, writes the actual outputs back into it. */
export function runTraceFile(path: string, exec: Executor, rewrite: boolean): TraceResult {
  const src = readFileSync(path, "utf8");
  const res = runTraceText(src, path, exec);
  if (rewrite) {
    const next = renderTrace(res.items, res.outputs);
    if (next !== src) writeFileSync(path, next);
  }
  return res;
}

/** A readable report of a mismatch: location, command, and a line diff of expected vs actual. */
export function describeMismatch(file: string, m: Mismatch): string {
  const { block, actual } = m;
  const exp = block.expected;
  const lines = [`${file}:${block.line}: output of "${block.command}" differs`];
  const n = Math.max(exp.length, actual.length);
  let firstDiff = 0;
  while (firstDiff < n && exp[firstDiff] === actual[firstDiff]) firstDiff++;
  lines.push(`first difference at output line ${firstDiff + 1}:`);
  lines.push(`  expected: ${exp[firstDiff] ?? "<end of output>"}`);
  lines.push(`  actual:   ${actual[firstDiff] ?? "<end of output>"}`);
  lines.push("--- expected", ...exp, "--- actual", ...actual);
  lines.push("(run with REWRITE=1 to accept the actual output after reviewing it)");
  return lines.join("\n");
}
