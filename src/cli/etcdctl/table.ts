// olekukonko/tablewriter v0.0.5 as etcdctl configures it (defaults plus right-aligned cells): borders of
// `+`, `-`, `|`; headers upper-cased (`_` as space) and centred; cells wider than 30 columns wrapped at
// spaces with the library's minimum-raggedness line breaking.

const MAX_WIDTH = 30;
const PENALTY = 1e5;

function width(s: string): number {
  return [...s].length;
}

/** tablewriter's WrapWords: line breaks with the least squared slack, over-long lines penalised. */
function wrapWords(words: string[], lim: number): string[][] {
  const n = words.length;
  const length: number[][] = [];
  for (let i = 0; i < n; i++) {
    length.push(new Array<number>(n).fill(0));
    length[i]![i] = width(words[i]!);
    for (let j = i + 1; j < n; j++) length[i]![j] = length[i]![j - 1]! + 1 + width(words[j]!);
  }
  const nbrk = new Array<number>(n).fill(0);
  const cost = new Array<number>(n).fill(2 ** 31 - 1);
  for (let i = n - 1; i >= 0; i--) {
    if (length[i]![n - 1]! <= lim) {
      cost[i] = 0;
      nbrk[i] = n;
    } else {
      for (let j = i + 1; j < n; j++) {
        const d = lim - length[i]![j - 1]!;
        let c = d * d + cost[j]!;
        if (length[i]![j - 1]! > lim) c += PENALTY;
        if (c < cost[i]!) {
          cost[i] = c;
          nbrk[i] = j;
        }
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; i = nbrk[i]!) lines.push(words.slice(i, nbrk[i]));
  return lines;
}

function wrapString(s: string, lim0: number): string[] {
  const words = s.replace(/\n/g, " ").split(" ");
  let lim = lim0;
  for (const w of words) if (width(w) > lim) lim = width(w);
  return wrapWords(words, lim).map((l) => l.join(" "));
}

/** parseDimension: a cell's lines (wrapped) and its width. */
function cellLines(s: string): { lines: string[]; w: number } {
  const raw = s.split("\n");
  let maxW = Math.max(...raw.map(width));
  if (maxW > MAX_WIDTH) maxW = MAX_WIDTH;
  const lines = wrapString(raw.join(" "), maxW);
  for (const l of lines) if (width(l) > maxW) maxW = width(l);
  return { lines, w: maxW };
}

function title(name: string): string {
  const t = [...name]
    .map((c, i, a) => {
      if (c === "_") return " ";
      if (c === ".") {
        const numOrSpace = (x: string | undefined) => x !== undefined && /[0-9 ]/.test(x);
        if ((i !== 0 && !numOrSpace(a[i - 1])) || (i !== a.length - 1 && !numOrSpace(a[i + 1]))) return " ";
      }
      return c;
    })
    .join("")
    .trim();
  return (t === "" && name.length > 0 ? " " : t).toUpperCase();
}

/** Renders the table as etcdctl prints it (SetAlignment(ALIGN_RIGHT)). */
export function renderTable(hdr: string[], rows: string[][]): string {
  const cs: number[] = [];
  const fit = (col: number, w: number) => {
    if (cs[col] === undefined || cs[col]! < w || cs[col] === 0) cs[col] = w;
  };
  const heads = hdr.map((h, i) => {
    const c = cellLines(h);
    fit(i, c.w);
    return c.lines;
  });
  const body = rows.map((r) =>
    r.map((v, i) => {
      const c = cellLines(v);
      fit(i, c.w);
      return c.lines;
    }),
  );
  const line = `+${cs.map((w) => "-".repeat(w + 2)).join("+")}+\n`;
  let out = line;
  const hmax = Math.max(...heads.map((h) => h.length));
  for (let x = 0; x < hmax; x++) {
    out += "|";
    heads.forEach((h, y) => {
      const t = title(h[x] ?? "");
      const gap = cs[y]! - width(t);
      const left = gap > 0 ? Math.floor(gap / 2) : 0;
      const right = gap > 0 ? gap - left : 0;
      out += ` ${" ".repeat(left)}${t}${" ".repeat(right)} |`;
    });
    out += "\n";
  }
  out += line;
  for (const r of body) {
    const max = Math.max(...r.map((c) => c.length));
    for (let x = 0; x < max; x++) {
      for (let y = 0; y < r.length; y++) {
        const s = r[y]![x] ?? "  ";
        out += `| ${s.padStart(cs[y]! - width(s) + s.length)} `;
      }
      out += "|\n";
    }
  }
  out += line;
  return out;
}
