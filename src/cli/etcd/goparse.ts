// How etcd (a Go program) reads flag values, reproduced so the same strings are accepted and rejected
// with the same messages: strconv.ParseBool/ParseInt/ParseUint with base 0, time.ParseDuration,
// net/url.Parse as etcd's types.NewURLs uses it, and net.SplitHostPort.

import { isIP } from "node:net";
import { UNIT_NS } from "../../pkg/duration.js";
import { EtcdURL } from "../../server/config.js";

/** Go's strconv errors as the flag package reports them. */
export type NumError = "parse error" | "value out of range";

const MAX_U64 = (1n << 64n) - 1n;

function lower(c: string): string {
  return c.toLowerCase();
}

/** strconv's underscoreOK: underscores only between digits (base prefix counts as a digit). */
function underscoreOK(s0: string): boolean {
  let s = s0;
  let saw = "^";
  let i = 0;
  if (s.length >= 1 && (s[0] === "-" || s[0] === "+")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "box".includes(lower(s[1]!))) {
    i = 2;
    saw = "0";
    hex = lower(s[1]!) === "x";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hex && lower(c) >= "a" && lower(c) <= "f")) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/** strconv.ParseUint(s, 0, bits). */
export function parseGoUint(s0: string, bits: number): bigint | NumError {
  if (s0 === "") return "parse error";
  let s = s0;
  let base = 10n;
  if (s[0] === "0") {
    const p = s.length >= 3 ? lower(s[1]!) : "";
    if (p === "b") [base, s] = [2n, s.slice(2)];
    else if (p === "o") [base, s] = [8n, s.slice(2)];
    else if (p === "x") [base, s] = [16n, s.slice(2)];
    else [base, s] = [8n, s.slice(1)];
  }
  const max = bits >= 64 ? MAX_U64 : (1n << BigInt(bits)) - 1n;
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === "_") {
      underscores = true;
      continue;
    }
    let d: bigint;
    if (c >= "0" && c <= "9") d = BigInt(c.charCodeAt(0) - 48);
    else if (lower(c) >= "a" && lower(c) <= "z") d = BigInt(lower(c).charCodeAt(0) - 87);
    else return "parse error";
    if (d >= base) return "parse error";
    n = n * base + d;
    if (n > max) return "value out of range";
  }
  if (underscores && !underscoreOK(s0)) return "parse error";
  return n;
}

/** strconv.ParseInt(s, 0, bits). */
export function parseGoInt(s0: string, bits: number): bigint | NumError {
  if (s0 === "") return "parse error";
  let s = s0;
  let neg = false;
  if (s[0] === "+") s = s.slice(1);
  else if (s[0] === "-") {
    neg = true;
    s = s.slice(1);
  }
  const un = parseGoUint(s, bits);
  if (typeof un !== "bigint") return un;
  const cutoff = 1n << BigInt(bits - 1);
  if (!neg && un >= cutoff) return "value out of range";
  if (neg && un > cutoff) return "value out of range";
  return neg ? -un : un;
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean | "parse error" {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return "parse error";
}

/** time.ParseDuration: nanoseconds, or an error text as Go's (`time: invalid duration "x"`). */
export function parseGoDuration(orig: string): { ns: number } | { error: string } {
  let s = orig;
  const quoted = JSON.stringify(orig);
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ns: 0 };
  if (s === "") return { error: `time: invalid duration ${quoted}` };
  let total = 0;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const intPart = m[1] ?? "";
    const fracPart = m[2];
    if (intPart === "" && (fracPart === undefined || fracPart === "")) {
      return { error: `time: invalid duration ${quoted}` };
    }
    s = s.slice(m[0].length);
    const u = /^[^\d.]*/.exec(s)![0];
    if (u === "") return { error: `time: missing unit in duration ${quoted}` };
    const unit = UNIT_NS[u];
    if (unit === undefined) return { error: `time: unknown unit ${JSON.stringify(u)} in duration ${quoted}` };
    s = s.slice(u.length);
    total += Number(`${intPart || "0"}.${fracPart || "0"}`) * unit;
    if (total >= 2 ** 63) return { error: `time: invalid duration ${quoted}` };
  }
  return { ns: neg ? -total : total };
}

/** time.Duration.String for the few messages that print one ("0s", "1m0s", "100ms", "1.5s"). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${trimNum(u / 1e3)}µs`;
    else out = `${trimNum(u / 1e6)}ms`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const sec = `${trimNum(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}

function trimNum(x: number): string {
  return String(Number(x.toFixed(9)));
}

/** net.SplitHostPort: host and port, or Go's error text. */
export function splitHostPort(hostport: string): { host: string; port: string } | { error: string } {
  const addrErr = (why: string) => ({ error: hostport === "" ? why : `address ${hostport}: ${why}` });
  const i = hostport.lastIndexOf(":");
  if (i < 0) return addrErr("missing port in address");
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === "[") {
    const end = hostport.indexOf("]");
    if (end < 0) return addrErr("missing ']' in address");
    if (end + 1 === hostport.length) return addrErr("missing port in address");
    if (end + 1 !== i) {
      return addrErr(hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    }
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) return addrErr("too many colons in address");
  }
  if (hostport.slice(j).includes("[")) return addrErr("unexpected '[' in address");
  if (hostport.slice(k).includes("]")) return addrErr("unexpected ']' in address");
  return { host, port: hostport.slice(i + 1) };
}

/** Whether Go's net.ParseIP accepts the string. */
export function isIPAddress(host: string): boolean {
  return isIP(host) !== 0;
}

/** The parts of a Go url.URL that etcd looks at. */
export interface GoURL {
  scheme: string;
  /** Authority host (with port), unescaped. */
  host: string;
  path: string;
  opaque: string;
  /** etcd's string for it (Go's URL.String() for the URLs etcd accepts). */
  canonical: string;
}

// Characters Go's url package accepts unescaped in a host (shouldEscape(c, encodeHost) == false).
const HOST_OK = /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/;

function unescapeCheck(s: string, isHost: boolean): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "%") {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return `invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`;
      i += 2;
    } else if (isHost && c.charCodeAt(0) < 0x80 && !HOST_OK.test(c)) {
      return `invalid character ${JSON.stringify(c)} in host name`;
    }
  }
  return undefined;
}

function validOptionalPort(port: string): boolean {
  if (port === "") return true;
  return port[0] === ":" && /^\d*$/.test(port.slice(1));
}

/** net/url.Parse, as far as etcd's URL flags need it. Errors read `parse "<raw>": <why>` as Go's. */
export function parseGoURL(raw: string): GoURL | { error: string } {
  const fail = (why: string) => ({ error: `parse ${JSON.stringify(raw)}: ${why}` });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go rejects ASCII control characters
  if (/[\x00-\x1f\x7f]/.test(raw)) return fail("net/url: invalid control character in URL");
  let rest = raw;
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    const err = unescapeCheck(rest.slice(hash + 1), false);
    if (err) return fail(err);
    rest = rest.slice(0, hash);
  }
  // getScheme
  let scheme = "";
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z")) continue;
    if ((c >= "0" && c <= "9") || c === "+" || c === "-" || c === ".") {
      if (i === 0) break;
      continue;
    }
    if (c === ":") {
      if (i === 0) return fail("missing protocol scheme");
      scheme = rest.slice(0, i).toLowerCase();
      rest = rest.slice(i + 1);
    }
    break;
  }
  const afterScheme = rest;
  const q = rest.indexOf("?");
  if (q >= 0) rest = rest.slice(0, q);
  let host = "";
  let path = "";
  let opaque = "";
  if (!rest.startsWith("/")) {
    if (scheme !== "") {
      opaque = rest;
      return { scheme, host, path, opaque, canonical: `${scheme}:${afterScheme}` };
    }
    const slash = rest.indexOf("/");
    const segment = slash >= 0 ? rest.slice(0, slash) : rest;
    if (segment.includes(":")) return fail("first path segment in URL cannot contain colon");
  }
  if (rest.startsWith("//") && (scheme !== "" || !rest.startsWith("///"))) {
    let authority = rest.slice(2);
    const slash = authority.indexOf("/");
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    } else rest = "";
    const at = authority.lastIndexOf("@");
    host = at >= 0 ? authority.slice(at + 1) : authority;
    if (at >= 0 && /[^A-Za-z0-9\-._:~!$&'()*+,;=%@]/.test(authority.slice(0, at))) {
      return fail("net/url: invalid userinfo");
    }
    if (host.startsWith("[")) {
      const end = host.lastIndexOf("]");
      if (end < 0) return fail("missing ']' in host");
      const colonPort = host.slice(end + 1);
      if (!validOptionalPort(colonPort)) return fail(`invalid port ${JSON.stringify(colonPort)} after host`);
    } else {
      const colon = host.lastIndexOf(":");
      if (colon >= 0) {
        const colonPort = host.slice(colon);
        if (!validOptionalPort(colonPort))
          return fail(`invalid port ${JSON.stringify(colonPort)} after host`);
      }
    }
    const err = unescapeCheck(host, true);
    if (err) return fail(err);
    host = decodeURIComponentSafe(host);
  }
  const perr = unescapeCheck(rest, false);
  if (perr) return fail(perr);
  path = rest;
  const canonical = scheme === "" ? afterScheme : `${scheme}:${afterScheme}`;
  return { scheme, host, path, opaque, canonical };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * etcd's types.NewURLs for one comma-separated flag value: each URL trimmed, http/https need
 * "host:port" and no path, unix/unixs anything; the result sorted by string (duplicates kept).
 */
export function parseEtcdURLs(parts: string[]): EtcdURL[] | { error: string } {
  if (parts.length === 0) return { error: "no valid URLs given" };
  const out: EtcdURL[] = [];
  for (const part of parts) {
    const input = part.trim();
    const u = parseGoURL(input);
    if ("error" in u) return u;
    if (u.scheme === "http" || u.scheme === "https") {
      if ("error" in splitHostPort(u.host)) {
        return { error: `URL address does not have the form "host:port": ${input}` };
      }
      if (u.path !== "") return { error: `URL must not contain a path: ${input}` };
    } else if (u.scheme !== "unix" && u.scheme !== "unixs") {
      return { error: `URL scheme must be http, https, unix, or unixs: ${input}` };
    }
    try {
      out.push(new EtcdURL(u.canonical));
    } catch {
      // Go accepts an empty host ("http://:2380"), and etcd rejects it later with a clearer message
      // (validation reads the canonical string); WHATWG URL cannot hold it, so parse a placeholder host.
      const hp = splitHostPort(u.host);
      if ("error" in hp || hp.host !== "")
        return { error: `URL is not usable (invalid host or port): ${input}` };
      try {
        out.push(new EtcdURL(u.canonical, `${u.scheme}://empty-host.invalid:${hp.port}`));
      } catch {
        return { error: `URL is not usable (invalid host or port): ${input}` };
      }
    }
  }
  out.sort((a, b) => compareStrings(a.canonical, b.canonical));
  return out;
}

/** Byte-wise string order, as Go's sort.Strings (same as UTF-16 order for ASCII). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Go's %q of a string slice: ["a" "b"]. */
export function goQuoteSlice(ss: string[]): string {
  return `[${ss.map((s) => JSON.stringify(s)).join(" ")}]`;
}
