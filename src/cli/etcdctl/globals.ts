// etcdctl's global flags (ctlv3/ctl.go), their ETCDCTL_* environment variables, and the client
// configuration built from them (ctlv3/command/global.go): endpoints (or DNS SRV discovery), timeouts,
// TLS, user and password.

import { readFileSync, readSync } from "node:fs";
import { resolveClientEndpoints } from "../../discovery/index.js";
import type { RunContext } from "./command.js";
import type { ConnConfig, TlsOptions } from "./conn.js";
import { Conn } from "./conn.js";
import { initDisplay } from "./display.js";
import { RpcError } from "./errors.js";
import { CtlExit, ExitBadArgs, ExitBadConnection, ExitError, exitWithError } from "./exit.js";
import type { FlagDef, FlagSet } from "./flags.js";
import { formatGoDuration as formatDuration } from "./goformat.js";
import { out, zlog } from "./out.js";

const S = 1e9;

export const GLOBAL_FLAGS: FlagDef[] = [
  { name: "endpoints", kind: "stringSlice", def: ["127.0.0.1:2379"], usage: "gRPC endpoints" },
  { name: "debug", kind: "bool", def: false, usage: "enable client-side debug logging" },
  {
    name: "write-out",
    short: "w",
    kind: "string",
    def: "simple",
    usage: "set the output format (fields, json, protobuf, simple, table)",
  },
  { name: "hex", kind: "bool", def: false, usage: "print byte strings as hex encoded strings" },
  { name: "dial-timeout", kind: "duration", def: 2 * S, usage: "dial timeout for client connections" },
  {
    name: "command-timeout",
    kind: "duration",
    def: 5 * S,
    usage: "timeout for short running command (excluding dial timeout)",
  },
  { name: "keepalive-time", kind: "duration", def: 2 * S, usage: "keepalive time for client connections" },
  {
    name: "keepalive-timeout",
    kind: "duration",
    def: 6 * S,
    usage: "keepalive timeout for client connections",
  },
  {
    name: "insecure-transport",
    kind: "bool",
    def: true,
    usage: "disable transport security for client connections",
  },
  {
    name: "insecure-discovery",
    kind: "bool",
    def: true,
    usage: "accept insecure SRV records describing cluster endpoints",
  },
  {
    name: "insecure-skip-tls-verify",
    kind: "bool",
    def: false,
    usage:
      "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)",
  },
  { name: "cert", kind: "string", def: "", usage: "identify secure client using this TLS certificate file" },
  { name: "key", kind: "string", def: "", usage: "identify secure client using this TLS key file" },
  {
    name: "cacert",
    kind: "string",
    def: "",
    usage: "verify certificates of TLS-enabled secure servers using this CA bundle",
  },
  {
    name: "user",
    kind: "string",
    def: "",
    usage: "username[:password] for authentication (prompt if password is not supplied)",
  },
  {
    name: "password",
    kind: "string",
    def: "",
    usage: "password for authentication (if this option is used, --user option shouldn't include password)",
  },
  {
    name: "discovery-srv",
    short: "d",
    kind: "string",
    def: "",
    usage: "domain name to query for SRV records describing cluster endpoints",
  },
  {
    name: "discovery-srv-name",
    kind: "string",
    def: "",
    usage: "service name to query when using DNS discovery",
  },
  {
    name: "discovery-srv-dns-server",
    kind: "string",
    def: "",
    usage: "etcd-ts: DNS server (ip[:port]) to ask for the SRV records instead of the system's",
    hidden: true,
  },
];

/** pkg/flags' FlagToEnv: ETCDCTL_ + upper-case name with '-' as '_'. */
export function flagToEnv(name: string): string {
  return `ETCDCTL_${name.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * pkg/flags' SetPflagsFromEnv on the command's inherited flags: an ETCDCTL_* variable sets a flag not given
 * on the command line; one shadowed by a given flag is fatal; an unknown ETCDCTL_* variable is warned about.
 */
export function applyEnv(ctx: RunContext, env: NodeJS.ProcessEnv = process.env): void {
  const names = ctx.cmd.inheritedFlags().map((f) => f.name);
  if (ctx.cmd.name === "watch") names.push("watch-key", "watch-range-end");
  const used = new Set<string>();
  const alreadySet = new Set<string>();
  for (const name of names) {
    const key = flagToEnv(name);
    if (ctx.flags.changed.has(name)) {
      alreadySet.add(key);
      continue;
    }
    const v = env[key];
    if (v === undefined || v === "") continue;
    used.add(key);
    if (!ctx.flags.has(name)) continue;
    const e = ctx.flags.set(name, v);
    if (e) exitWithError(ExitError, `invalid value ${JSON.stringify(v)} for ${key}: ${e}`);
  }
  for (const [k, v] of Object.entries(env)) {
    if (used.has(k)) continue;
    if (alreadySet.has(k)) {
      zlog(
        "fatal",
        "flags/flag.go:93",
        "conflicting environment variable is shadowed by corresponding command-line flag (either unset environment variable or disable flag))",
        { "environment-variable": k },
      );
      throw new CtlExit(1, undefined);
    }
    if (k.startsWith("ETCDCTL_")) {
      zlog("warn", "flags/flag.go:105", "unrecognized environment variable", {
        "environment-variable": `${k}=${v}`,
      });
    }
  }
  if (ctx.flags.bool("debug")) {
    for (const f of [...ctx.cmd.inheritedFlags()]
      .filter((x) => !x.hidden)
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const v = ctx.flags.get(f.name);
      const text = Array.isArray(v)
        ? `[${v.join(",")}]`
        : typeof v === "number"
          ? formatDuration(v)
          : String(v);
      process.stderr.write(`${flagToEnv(f.name)}=${text}\n`);
    }
  }
}

function tlsFromFlags(fs: FlagSet): TlsOptions | undefined {
  const tls: TlsOptions = { insecureSkipVerify: fs.bool("insecure-skip-tls-verify") };
  let any = false;
  for (const k of ["cert", "key", "cacert"] as const) {
    const v = fs.str(k);
    if (v === "" && fs.changed.has(k)) exitWithError(ExitBadArgs, `empty string is passed to --${k} option`);
    if (v !== "") {
      tls[k] = v;
      any = true;
    }
  }
  if (!fs.bool("insecure-discovery") && fs.str("discovery-srv") !== "") {
    tls.serverName = fs.str("discovery-srv");
    any = true;
  }
  if (!any && fs.bool("insecure-transport")) return undefined;
  return tls;
}

/** Reads a password from the terminal without echo (speakeasy), or a line from stdin when not a TTY. */
export function askPassword(prompt: string): string {
  out(prompt);
  const stdin = process.stdin;
  const tty = stdin.isTTY;
  if (tty) stdin.setRawMode(true);
  let s = "";
  const buf = Buffer.alloc(1);
  try {
    for (;;) {
      let n = 0;
      try {
        n = readSync(0, buf, 0, 1, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
        throw e;
      }
      if (n === 0) break;
      const c = buf[0]!;
      if (c === 0x0a || c === 0x0d) break;
      if (tty && c === 0x03) process.exit(130);
      s += String.fromCharCode(c);
    }
  } finally {
    if (tty) stdin.setRawMode(false);
  }
  out("\n");
  return Buffer.from(s, "latin1").toString("utf8");
}

function authFromFlags(fs: FlagSet): { username: string; password: string } | undefined {
  const user = fs.str("user");
  const password = fs.str("password");
  if (user === "") return undefined;
  if (password !== "") return { username: user, password };
  const i = user.indexOf(":");
  if (i < 0) return { username: user, password: askPassword("Password: ") };
  return { username: user.slice(0, i), password: user.slice(i + 1) };
}

/** DNS SRV discovery (clientv3's srv.GetClient): _etcd-client-ssl[-name]._tcp, then _etcd-client. */
async function discoverEndpoints(fs: FlagSet): Promise<string[]> {
  const domain = fs.str("discovery-srv");
  if (domain === "") return [];
  let eps: string[];
  try {
    ({ endpoints: eps } = await resolveClientEndpoints(domain, {
      serviceName: fs.str("discovery-srv-name"),
      dnsServer: fs.str("discovery-srv-dns-server") || undefined,
    }));
  } catch (e) {
    exitWithError(ExitError, `error querying DNS SRV records for _etcd-client ${(e as Error).message}`);
  }
  if (fs.bool("insecure-discovery")) return eps;
  return eps.filter((e) => {
    if (!e.startsWith("http://")) return true;
    process.stderr.write(`ignoring discovered insecure endpoint ${JSON.stringify(e)}\n`);
    return false;
  });
}

/** --endpoints (or the endpoints discovered by DNS SRV), trimmed. */
export async function endpointsFromFlags(fs: FlagSet): Promise<string[]> {
  const eps = await discoverEndpoints(fs);
  if (eps.length > 0) return eps;
  return fs.strs("endpoints").map((e) => e.trim());
}

/** The client configuration for `endpoints` (default: the flags' endpoints). */
export async function connConfig(ctx: RunContext, endpoints?: string[]): Promise<ConnConfig> {
  const fs = ctx.flags;
  const cfg: ConnConfig = {
    endpoints: endpoints ?? (await endpointsFromFlags(fs)),
    dialTimeoutMs: fs.ms("dial-timeout"),
    keepAliveTimeMs: fs.ms("keepalive-time"),
    keepAliveTimeoutMs: fs.ms("keepalive-timeout"),
    tls: tlsFromFlags(fs),
  };
  const auth = authFromFlags(fs);
  if (auth) cfg.auth = auth;
  return cfg;
}

/** transport.TLSInfo.ClientConfig's checks: both of cert and key or neither, readable files. */
function tlsError(tls: TlsOptions | undefined): string | undefined {
  if (tls === undefined) return undefined;
  if ((tls.cert || tls.key) && !(tls.cert && tls.key)) {
    return `KeyFile and CertFile must both be present[key: ${tls.key ?? ""}, cert: ${tls.cert ?? ""}]`;
  }
  for (const f of [tls.cert, tls.key, tls.cacert]) {
    if (f === undefined) continue;
    try {
      readFileSync(f);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : String(e);
      return `open ${f}: ${why}`;
    }
  }
  return undefined;
}

/** clientv3.New: a connection, authenticated when --user is given (TLS file errors exit 128, others 2). */
export async function newConn(cfg: ConnConfig): Promise<Conn> {
  const bad = tlsError(cfg.tls);
  if (bad !== undefined) exitWithError(ExitBadArgs, bad);
  if (cfg.endpoints.length === 0)
    exitWithError(ExitBadConnection, "at least one Endpoint is required in client config");
  const c = new Conn(cfg);
  try {
    await c.authenticate();
  } catch (e) {
    c.close();
    exitWithError(ExitBadConnection, e instanceof RpcError ? e.message : String(e));
  }
  return c;
}

/** mustClientFromCmd: environment applied, display chosen, connection made. */
export async function mustClient(ctx: RunContext): Promise<Conn> {
  applyEnv(ctx);
  const cfg = await connConfig(ctx);
  initDisplay(ctx);
  return newConn(cfg);
}

/** The deadline of a short command (--command-timeout from now). */
export function commandDeadline(ctx: RunContext): number {
  return Date.now() + ctx.flags.ms("command-timeout");
}
