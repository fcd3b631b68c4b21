// Splitting a line of txn or interactive-watch input into words (etcdctl's argify) and Go's reading of a
// quoted string (fmt's %q verb / strconv.Unquote).

import { ExitInvalidInput, exitWithError } from "./exit.js";

/**
 * strconv.Unquote of a double-quoted or back-quoted Go string literal at the start of `s`: the value and
 * the length consumed, or undefined when `s` does not start with a valid literal.
 */
export function scanQuoted(s: string): { value: string; len: number } | undefined {
  if (s.startsWith("`")) {
    const end = s.indexOf("`", 1);
    return end < 0 ? undefined : { value: s.slice(1, end).replace(/\r/g, ""), len: end + 1 };
  }
  if (!s.startsWith('"')) return undefined;
  const bytes: number[] = [];
  const pushStr = (t: string) => bytes.push(...Buffer.from(t, "utf8"));
  let i = 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') return { value: Buffer.from(bytes).toString("utf8"), len: i + 1 };
    if (c === "\n") return undefined;
    if (c !== "\\") {
      const cp = s.codePointAt(i)!;
      pushStr(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = s[i + 1];
    const simple: Record<string, number> = {
      a: 7,
      b: 8,
      f: 12,
      n: 10,
      r: 13,
      t: 9,
      v: 11,
      "\\": 92,
      '"': 34,
    };
    if (e !== undefined && e in simple) {
      bytes.push(simple[e]!);
      i += 2;
    } else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      pushStr(String.fromCodePoint(Number.parseInt(s.slice(i + 2, i + 6), 16)));
      i += 6;
    } else if (e === "U" && /^[0-9a-fA-F]{8}$/.test(s.slice(i + 2, i + 10))) {
      const cp = Number.parseInt(s.slice(i + 2, i + 10), 16);
      if (cp > 0x10ffff) return undefined;
      pushStr(String.fromCodePoint(cp));
      i += 10;
    } else if (e !== undefined && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      const v = Number.parseInt(s.slice(i + 1, i + 4), 8);
      if (v > 255) return undefined;
      bytes.push(v);
      i += 4;
    } else return undefined;
  }
  return undefined;
}

const WORD = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?/g;

/** argify: words, quotes removed ('single' as is, "double" unescaped; a bad escape exits 3). */
export function argify(s: string): string[] {
  const words = s.match(WORD) ?? [];
  return words.map((w) => {
    if (w.startsWith("'")) return w.slice(1, -1);
    if (w.startsWith('"')) {
      const q = scanQuoted(w);
      if (q === undefined) exitWithError(ExitInvalidInput, "invalid syntax");
      return q.value;
    }
    return w;
  });
}
