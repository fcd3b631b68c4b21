// Output formatting shared by the offline tools: go-humanize's SI byte sizes and the bordered tables
// etcd draws with olekukonko/tablewriter (header centred and upper-cased, cells right-aligned).

import { EtcdutlError, ExitCode } from "./errors.js";

/** The -w formats etcd's printers know (not all print everything). */
export const WRITE_OUT_FORMATS = ["fields", "json", "protobuf", "simple", "table"] as const;

/** etcd refuses an unknown -w before doing anything (exit code 4). */
export function checkWriteOut(writeOut: string): void {
  if (!(WRITE_OUT_FORMATS as readonly string[]).includes(writeOut)) {
    throw new EtcdutlError("unsupported output format", ExitCode.BadFeature);
  }
}

const SI_SUFFIXES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/** Go's %.Nf: round half to even on exact ties (JavaScript's toFixed rounds them up). */
function goFixed(x: number, digits: number): string {
  const scale = 10 ** digits;
  const scaled = x * scale;
  if (Number.isInteger(scaled * 2) && !Number.isInteger(scaled)) {
    const down = Math.floor(scaled);
    const even = down % 2 === 0 ? down : down + 1;
    return (even / scale).toFixed(digits);
  }
  return x.toFixed(digits);
}

/** go-humanize's Bytes: "20 kB", "1.5 MB", "9 B". */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${goFixed(val, val < 10 ? 1 : 0)} ${SI_SUFFIXES[e]}`;
}

/** A tablewriter table: `+---+` borders, centred upper-case header, right-aligned cells. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const border = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
  const centre = (s: string, w: number) => {
    const gap = w - s.length;
    const left = Math.floor(gap / 2);
    return " ".repeat(left) + s + " ".repeat(gap - left);
  };
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const out = [border, line(header.map((h, i) => centre(h.toUpperCase(), widths[i]!))), border];
  for (const r of rows) out.push(line(widths.map((w, i) => (r[i] ?? "").padStart(w))));
  out.push(border);
  return `${out.join("\n")}\n`;
}
