// Go's formatting as etcdctl's output uses it, reproduced byte for byte: strconv.Quote (%q), %x on
// uint64, go-humanize's Bytes, fmt's %v of a []string, and time.Duration's String.

import { formatGoDuration } from "../etcd/goparse.js";

export { formatGoDuration };

const utf8 = new TextEncoder();

export function toBytes(s: string | Uint8Array): Uint8Array {
  return typeof s === "string" ? utf8.encode(s) : s;
}

/**
 * Decodes one rune at `i` as Go's utf8.DecodeRune does: an invalid or overlong sequence or a surrogate is
 * one byte wide and reports rune -1 (RuneError).
 */
function decodeRune(b: Uint8Array, i: number): { r: number; size: number } {
  const c0 = b[i]!;
  if (c0 < 0x80) return { r: c0, size: 1 };
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c0 >= 0xc2 && c0 <= 0xdf && cont(1)) return { r: ((c0 & 0x1f) << 6) | (b[i + 1]! & 0x3f), size: 2 };
  if (c0 >= 0xe0 && c0 <= 0xef && cont(1) && cont(2)) {
    const r = ((c0 & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
    if (r >= 0x800 && (r < 0xd800 || r > 0xdfff)) return { r, size: 3 };
  }
  if (c0 >= 0xf0 && c0 <= 0xf4 && cont(1) && cont(2) && cont(3)) {
    const r =
      ((c0 & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
    if (r >= 0x10000 && r <= 0x10ffff) return { r, size: 4 };
  }
  return { r: -1, size: 1 };
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** strconv.Quote of the bytes (or of a string's UTF-8): what Go's %q prints. */
export function goQuote(s: string | Uint8Array): string {
  const b = toBytes(s);
  let out = '"';
  for (let i = 0; i < b.length; ) {
    const { r, size } = decodeRune(b, i);
    if (r < 0) {
      out += `\\x${hex2(b[i]!)}`;
      i += size;
      continue;
    }
    i += size;
    if (r === 0x22 || r === 0x5c) {
      out += `\\${String.fromCharCode(r)}`;
      continue;
    }
    const ch = String.fromCodePoint(r);
    if (printable.test(ch)) {
      out += ch;
      continue;
    }
    switch (r) {
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x0b:
        out += "\\v";
        break;
      default:
        if (r < 0x20 || r === 0x7f) out += `\\x${hex2(r)}`;
        else if (r < 0x10000) out += `\\u${r.toString(16).padStart(4, "0")}`;
        else out += `\\U${r.toString(16).padStart(8, "0")}`;
    }
  }
  return out + '"';
}

/** encoding/json's string encoding (HTML-safe: <, >, & escaped; U+2028/9 escaped). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "<":
      case ">":
      case "&":
      case "\u2028":
      case "\u2029":
        out += `\\u${c.toString(16).padStart(4, "0")}`;
        continue;
    }
    if (c < 0x20) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd";
    else out += ch;
  }
  return out + '"';
}

/** %x of a uint64. */
export function hex(n: bigint): string {
  return BigInt.asUintN(64, n).toString(16);
}

/** %016x of a lease ID (int64 printed as Go prints a negative value: with a minus sign). */
export function hex016(n: bigint): string {
  const neg = n < 0n;
  const h = (neg ? -n : n).toString(16).padStart(neg ? 15 : 16, "0");
  return neg ? `-${h}` : h;
}

/** %16x of a uint64: space-padded to 16. */
export function hex16(n: bigint): string {
  return hex(n).padStart(16, " ");
}

/** fmt's %.<prec>f, with Go's round-half-to-even on exact ties. */
export function goFixed(v: number, prec: number): string {
  const scaled = v * 10 ** prec;
  const fl = Math.floor(scaled);
  if (scaled - fl === 0.5 && fl % 2 === 0) return (fl / 10 ** prec).toFixed(prec);
  return v.toFixed(prec);
}

const SIZES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/** go-humanize's Bytes (SI units): "20 kB", "1.2 MB", "9 B". */
export function humanizeBytes(n: bigint | number): string {
  const s = Number(n);
  if (s < 10) return `${s} B`;
  const e = Math.floor(Math.log(s) / Math.log(1000));
  const val = Math.floor((s / 1000 ** e) * 10 + 0.5) / 10;
  return `${goFixed(val, val < 10 ? 1 : 0)} ${SIZES[e]}`;
}

/** fmt's %v of a []string: `[a b c]`. */
export function goStringSlice(ss: string[]): string {
  return `[${ss.join(" ")}]`;
}
