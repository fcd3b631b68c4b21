// `etcd`'s configuration: command-line flags (Go flag syntax), ETCD_* environment variables and
// --config-file, validated as etcd 3.5 validates them (server/etcdmain/config.go, server/embed/config.go,
// and the bootstrap checks of server/config/config.go), producing a ServerConfig.
//
// parseEtcdConfig is pure: no process.exit, no output, no I/O except reading the --config-file (through
// an injectable reader). What etcd would print and its exit code come back in `exit`; warnings come back
// as lines for the caller to log (before `exit.stderr`, which is where etcd prints them).

import { readFileSync } from "node:fs";
import type { TlsConfig } from "../../pkg/tls/info.js";
import {
  DEFAULT_ADVERTISE_CLIENT_URL,
  DEFAULT_BACKEND_BATCH_INTERVAL_MS,
  DEFAULT_BACKEND_BATCH_LIMIT,
  DEFAULT_INITIAL_ADVERTISE_PEER_URL,
  DEFAULT_NAME,
  DEFAULT_QUOTA_BACKEND_BYTES,
  DEFAULT_SNAPSHOT_CATCH_UP_ENTRIES,
  DEFAULT_SNAPSHOT_COUNT,
  type DiscoveryConfig,
  ETCD_SERVER_VERSION,
  ETCD_TS_VERSION,
  EtcdURL,
  type InitialClusterMember,
  type LogLevel,
  MAX_ELECTION_MS,
  MAX_QUOTA_BACKEND_BYTES,
  RECOMMENDED_MAX_REQUEST_BYTES,
  type ServerConfig,
} from "../../server/config.js";
import { applyConfigFile } from "./config_file.js";
import { DEPRECATED_FLAGS, FLAG_BY_NAME, FLAGS, type FlagSpec, flagToEnv, helpText, USAGE } from "./flags.js";
import {
  compareStrings,
  formatGoDuration,
  goQuoteSlice,
  isIPAddress,
  parseEtcdURLs,
  parseGoDuration,
  parseGoInt,
  splitHostPort,
} from "./goparse.js";
import { defaultValue, setFromText, type Value, valueText } from "./values.js";

export interface ParseExit {
  /** The exit code etcd uses: 0 for --help/--version, 2 for a flag syntax error, 1 for bad configuration. */
  code: number;
  stdout?: string;
  stderr?: string;
  /** The bare error message (without the log-line framing of `stderr`). */
  error?: string;
}

export interface ParseResult {
  /** The validated configuration; absent when `exit` is set. */
  config?: ServerConfig;
  /** Set when etcd would exit instead of starting (help, version, or an error). */
  exit?: ParseExit;
  /** Warning lines, in the order etcd would log them. */
  warnings: string[];
}

export interface ParseOptions {
  /** Reads --config-file (default: fs.readFileSync as UTF-8). Throwing = etcd's "open <path>: ..." error. */
  readFile?: (path: string) => string;
  /**
   * Whether the member already has data (etcd: a WAL exists). etcd checks --initial-cluster against
   * --name and --initial-advertise-peer-urls only for a member without data; on a restart these flags are
   * ignored. Default: not initialized, so the checks run.
   */
  isMemberInitialized?: (dataDir: string, walDir: string) => boolean;
  /**
   * The host etcd would detect as this machine's default (its address on the default route). When given,
   * a default advertise URL with a 0.0.0.0 listener is replaced by http://<host>:<port>, as etcd does.
   */
  defaultHost?: string;
  /**
   * A flag set both on the command line and as ETCD_* variable: "warn" (default, the issue's rule: the
   * command line wins, with a warning) or "error" (etcd 3.4 and 3.5: exit 1, "conflicting environment
   * variable ... is shadowed by corresponding command-line flag").
   */
  envConflict?: "warn" | "error";
  /** Clock for the timestamps of the log lines in `exit.stderr` (default: now). */
  now?: () => Date;
  /** For --version (defaults: this process's). */
  nodeVersion?: string;
  platform?: string;
  arch?: string;
}

type Values = Map<string, Value>;

const DEFAULT_INITIAL_CLUSTER = `${DEFAULT_NAME}=${DEFAULT_INITIAL_ADVERTISE_PEER_URL}`;
const LOG_LEVELS: Record<string, LogLevel> = {
  debug: "debug",
  DEBUG: "debug",
  info: "info",
  INFO: "info",
  "": "info",
  warn: "warn",
  WARN: "warn",
  error: "error",
  ERROR: "error",
  dpanic: "panic",
  DPANIC: "panic",
  panic: "panic",
  PANIC: "panic",
  fatal: "fatal",
  FATAL: "fatal",
};

class ConfigError extends Error {}

function defaults(): Values {
  return new Map(FLAGS.map((s) => [s.name, defaultValue(s)]));
}

const str = (v: Values, name: string) => v.get(name) as string;
const bool = (v: Values, name: string) => v.get(name) as boolean;
const num = (v: Values, name: string) => v.get(name) as number;
const urls = (v: Values, name: string) => v.get(name) as EtcdURL[];
const strs = (v: Values, name: string) => v.get(name) as string[];

// ---------------------------------------------------------------------------------------------------
// Command line: Go's flag package (flag.ContinueOnError), as etcd's FlagSet parses it.

type ArgsResult =
  | { kind: "ok"; positional: string[] }
  | { kind: "help" }
  | { kind: "error"; message: string };

function parseArgs(argv: string[], values: Values, setOnCmdline: Set<string>): ArgsResult {
  let i = 0;
  while (i < argv.length) {
    const s = argv[i]!;
    if (s.length < 2 || s[0] !== "-") break;
    let minuses = 1;
    if (s[1] === "-") {
      minuses = 2;
      if (s.length === 2) {
        i++;
        break;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") {
      return { kind: "error", message: `bad flag syntax: ${s}` };
    }
    i++;
    let value: string | undefined;
    const eq = name.indexOf("=", 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = FLAG_BY_NAME.get(name);
    if (!spec) {
      if (name === "help" || name === "h") return { kind: "help" };
      return { kind: "error", message: `flag provided but not defined: -${name}` };
    }
    if (spec.kind === "bool" || spec.kind === "ignored") {
      const r = setFromText(spec, value ?? "true", values.get(name));
      if ("error" in r) {
        return value === undefined
          ? { kind: "error", message: `invalid boolean flag ${name}: ${r.error}` }
          : {
              kind: "error",
              message: `invalid boolean value ${JSON.stringify(value)} for -${name}: ${r.error}`,
            };
      }
      values.set(name, r.value);
    } else {
      if (value === undefined) {
        if (i >= argv.length) return { kind: "error", message: `flag needs an argument: -${name}` };
        value = argv[i++]!;
      }
      const r = setFromText(spec, value, values.get(name));
      if ("error" in r) {
        return {
          kind: "error",
          message: `invalid value ${JSON.stringify(value)} for flag -${name}: ${r.error}`,
        };
      }
      values.set(name, r.value);
    }
    setOnCmdline.add(name);
  }
  return { kind: "ok", positional: argv.slice(i) };
}

// ---------------------------------------------------------------------------------------------------
// Validation (etcd's embed.Config.Validate and etcdmain's checks).

function checkBindURLs(list: EtcdURL[]): void {
  for (const u of list) {
    const scheme = u.protocol.slice(0, -1);
    if (scheme === "unix" || scheme === "unixs") continue;
    const hp = splitHostPort(hostOf(u));
    if ("error" in hp) throw new ConfigError(hp.error);
    if (hp.host === "localhost") continue;
    if (!isIPAddress(hp.host)) throw new ConfigError(`expected IP in URL for binding (${u.canonical})`);
  }
}

/** The URL's authority host as Go keeps it ("host:port", IPv6 in brackets, port as written). */
function hostOf(u: EtcdURL): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(u.canonical);
  return m ? m[1]! : "";
}

function checkHostURLs(list: EtcdURL[], flag: string): void {
  for (const u of list) {
    const hp = splitHostPort(hostOf(u));
    const why =
      "error" in hp ? hp.error : hp.host === "" ? `unexpected empty host (${u.canonical})` : undefined;
    if (why !== undefined) {
      const joined = list.map((x) => x.canonical).join(",");
      throw new ConfigError(`--${flag} ${JSON.stringify(joined)} must be "host:port" (${why})`);
    }
  }
}

function tlsVersion(v: string): number {
  if (v === "") return 0;
  if (v === "TLS1.2") return 0x0303;
  if (v === "TLS1.3") return 0x0304;
  throw new ConfigError(`unexpected TLS version ${JSON.stringify(v)} (must be one of: TLS1.2, TLS1.3)`);
}

interface ValidateCtx {
  advertiseClientUnset: boolean;
  mayBeProxy: boolean;
  warnings: string[];
}

/** etcd 3.6's checks of the v2 and v3 discovery flags together. */
function checkV3Discovery(v: Values): void {
  const endpoints = v3Endpoints(v);
  const v3Set = ["discovery-token", "discovery-cert", "discovery-key", "discovery-cacert", "discovery-user"]
    .concat(["discovery-password"])
    .some((n) => str(v, n) !== "");
  if ((str(v, "discovery") !== "" || str(v, "discovery-proxy") !== "") && (v3Set || endpoints.length > 0)) {
    throw new ConfigError(
      "both v2 discovery settings (discovery, discovery-proxy) and v3 discovery settings (discovery-token, discovery-endpoints, discovery-cert, discovery-key, discovery-cacert, discovery-user, discovery-password) are set",
    );
  }
  if ((str(v, "discovery-token") !== "") !== endpoints.length > 0) {
    throw new ConfigError("both --discovery-token and --discovery-endpoints must be set");
  }
}

/** --discovery-endpoints without empty entries ("--discovery-endpoints=" sets none). */
function v3Endpoints(v: Values): string[] {
  return strs(v, "discovery-endpoints").filter((e) => e.trim() !== "");
}

function validate(v: Values, ctx: ValidateCtx): void {
  // setupLogging
  const logger = str(v, "logger");
  if (logger === "capnslog") throw new ConfigError("--logger=capnslog is removed in v3.5");
  if (logger !== "zap") throw new ConfigError(`unknown logger option ${JSON.stringify(logger)}`);
  const outputs = strs(v, "log-outputs");
  if (outputs.length > 1 && outputs.includes("default")) {
    throw new ConfigError(`multi logoutput for "default" is not supported yet`);
  }
  if (!(str(v, "log-level") in LOG_LEVELS)) {
    throw new ConfigError(`unrecognized level: ${JSON.stringify(str(v, "log-level"))}`);
  }

  checkBindURLs(urls(v, "listen-peer-urls"));
  checkBindURLs(urls(v, "listen-client-urls"));
  checkBindURLs(urls(v, "listen-client-http-urls"));
  checkBindURLs(urls(v, "listen-metrics-urls"));
  checkHostURLs(urls(v, "initial-advertise-peer-urls"), "initial-advertise-peer-urls");
  if (!ctx.advertiseClientUnset) checkHostURLs(urls(v, "advertise-client-urls"), "advertise-client-urls");

  const state = str(v, "initial-cluster-state");
  if (state !== "new" && state !== "existing") {
    throw new ConfigError(`unexpected clusterState ${JSON.stringify(state)}`);
  }
  const v3Discovery = v3Endpoints(v).length > 0;
  const bootstrapWays = [str(v, "discovery"), str(v, "initial-cluster"), str(v, "discovery-srv")];
  if ([...bootstrapWays, v3Discovery ? "v3" : ""].filter((s) => s !== "").length > 1) {
    throw new ConfigError(
      v3Discovery // etcd 3.6's text, which names the v3 flag
        ? 'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery", "discovery-endpoints" or "discovery-srv"'
        : 'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
    );
  }
  checkV3Discovery(v);
  const tick = num(v, "heartbeat-interval");
  const election = num(v, "election-timeout");
  if (tick === 0) throw new ConfigError(`--heartbeat-interval must be >0 (set to ${tick}ms)`);
  if (election === 0) throw new ConfigError(`--election-timeout must be >0 (set to ${election}ms)`);
  if (5 * tick > election) {
    throw new ConfigError(
      `--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`,
    );
  }
  if (election > MAX_ELECTION_MS) {
    throw new ConfigError(
      `--election-timeout[${election}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`,
    );
  }
  if (ctx.advertiseClientUnset && !ctx.mayBeProxy) {
    throw new ConfigError("--advertise-client-urls is required when --listen-client-urls is set explicitly");
  }
  const mode = str(v, "auto-compaction-mode");
  if (mode !== "" && mode !== "periodic" && mode !== "revision") {
    throw new ConfigError(`unknown auto-compaction-mode ${JSON.stringify(mode)}`);
  }
  const checkpoint = bool(v, "experimental-enable-lease-checkpoint");
  const persist = bool(v, "experimental-enable-lease-checkpoint-persist");
  if (checkpoint && !persist) {
    ctx.warnings.push(
      "Detected that checkpointing is enabled without persistence. Consider enabling experimental-enable-lease-checkpoint-persist",
    );
  }
  if (persist && !checkpoint) {
    throw new ConfigError(
      "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint",
    );
  }
  const hashCheck = num(v, "experimental-compact-hash-check-time");
  if (hashCheck <= 0) {
    throw new ConfigError(
      `--experimental-compact-hash-check-time must be >0 (set to ${formatGoDuration(hashCheck)})`,
    );
  }
  const minTls = tlsVersion(str(v, "tls-min-version"));
  const maxTls = tlsVersion(str(v, "tls-max-version"));
  if (maxTls !== 0 && minTls > maxTls) {
    throw new ConfigError(
      `min version (${str(v, "tls-min-version")}) is greater than max version (${str(v, "tls-max-version")})`,
    );
  }
  if (minTls === 0x0304 && strs(v, "cipher-suites").length > 0) {
    throw new ConfigError("cipher suites cannot be configured when only TLS1.3 is enabled");
  }
  if (bool(v, "experimental-enable-distributed-tracing")) {
    const rate = num(v, "experimental-distributed-tracing-sampling-rate");
    const why =
      rate < 0
        ? "tracing sampling rate must be positive"
        : rate > 1000000
          ? "tracing sampling rate must be less than 1000000"
          : undefined;
    if (why) throw new ConfigError(`distributed tracing configurition is not valid: (${why})`);
  }

  // Checks of embed.StartEtcd that need nothing but the configuration.
  parseCompactionRetention(str(v, "auto-compaction-retention"));
  const clientTls = str(v, "cert-file") !== "" || str(v, "key-file") !== "" || bool(v, "auto-tls");
  for (const u of [...urls(v, "listen-client-urls"), ...urls(v, "listen-client-http-urls")]) {
    if ((u.protocol === "https:" || u.protocol === "unixs:") && !clientTls) {
      throw new ConfigError(
        `TLS key/cert (--cert-file, --key-file) must be provided for client url ${u.canonical} with HTTPS scheme`,
      );
    }
  }
  const v2dep = str(v, "v2-deprecation") || "not-yet";
  if (bool(v, "enable-v2") && v2dep !== "not-yet") {
    throw new ConfigError(`--enable-v2 and --v2-deprecation=${v2dep} are mutually exclusive`);
  }
}

/** etcd's parseCompactionRetention: a non-negative integer (hours or revisions, by mode), else a Go duration. */
function parseCompactionRetention(retention: string): void {
  const r = retention === "" ? "0" : retention;
  const h = /^[+-]?\d+$/.test(r) ? parseGoInt(r.replace(/^\+/, ""), 64) : undefined;
  if (typeof h === "bigint" && h >= 0n) return;
  const d = parseGoDuration(r);
  if ("error" in d) throw new ConfigError(`error parsing CompactionRetention: ${d.error}`);
}

// ---------------------------------------------------------------------------------------------------
// --initial-cluster and the bootstrap checks (etcd's types.NewURLsMap, VerifyBootstrap, VerifyJoinExisting).

/** Parses "n1=http://a:2380,n1=http://b:2380,n2=..." as etcd's types.NewURLsMap (URLs sorted per name). */
export function parseInitialCluster(s: string): InitialClusterMember[] | { error: string } {
  const byName = new Map<string, string[]>();
  for (const entry of s.split(",")) {
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    const name = eq >= 0 ? entry.slice(0, eq) : entry;
    const url = eq >= 0 ? entry.slice(eq + 1) : "";
    const list = byName.get(name) ?? [];
    list.push(url);
    byName.set(name, list);
  }
  const out: InitialClusterMember[] = [];
  for (const [name, raw] of byName) {
    const parsed = parseEtcdURLs(raw);
    if (!Array.isArray(parsed)) return parsed;
    out.push({ name, peerUrls: parsed.map((u) => u.canonical) });
  }
  return out;
}

/** etcd's URLsMap.String(): "name=url" pairs sorted, comma-joined. */
function urlsMapString(members: InitialClusterMember[]): string {
  return members
    .flatMap((m) => m.peerUrls.map((u) => `${m.name}=${u}`))
    .sort(compareStrings)
    .join(",");
}

export interface BootstrapInput {
  name: string;
  initialCluster: InitialClusterMember[];
  initialAdvertisePeerUrls: string[];
  initialClusterState: "new" | "existing";
  discovery?: string;
}

/**
 * etcd's checks of a member that starts without data: it must be in --initial-cluster, with exactly its
 * --initial-advertise-peer-urls, and no peer URL may appear twice. Returns etcd's error text, or undefined.
 * (etcd also accepts URLs that differ as text but resolve to the same addresses through DNS; this check
 * compares the URLs as written.)
 */
export function verifyBootstrap(c: BootstrapInput): string | undefined {
  const local = c.initialCluster.find((m) => m.name === c.name);
  if (!local)
    return `couldn't find local name ${JSON.stringify(c.name)} in the initial cluster configuration`;
  const dupCheck = () => {
    const seen = new Set<string>();
    for (const m of c.initialCluster) {
      for (const u of m.peerUrls) {
        if (seen.has(u)) return `initial cluster ${urlsMapString(c.initialCluster)} has duplicate url`;
        seen.add(u);
      }
    }
    return undefined;
  };
  if (c.initialClusterState === "existing") {
    const dup = dupCheck();
    if (dup) return dup;
    if (c.discovery) return "discovery URL should not be set when joining existing initial cluster";
    return undefined;
  }
  const urlsInCluster = [...local.peerUrls].sort(compareStrings);
  const advertised = [...c.initialAdvertisePeerUrls].sort(compareStrings);
  let mismatch: string | undefined;
  if (urlsInCluster.length !== advertised.length) {
    mismatch = `len(${goQuoteSlice(advertised)}) != len(${goQuoteSlice(urlsInCluster)})`;
  } else {
    const i = advertised.findIndex((u, k) => u !== urlsInCluster[k]);
    if (i >= 0)
      mismatch = `resolved urls: ${JSON.stringify(advertised[i])} != ${JSON.stringify(urlsInCluster[i])}`;
  }
  if (mismatch !== undefined) {
    const ap = new Set(advertised);
    const inCluster = new Set(urlsInCluster);
    const missing = [...inCluster].filter((u) => !ap.has(u));
    if (missing.length > 0) {
      return `--initial-cluster has ${missing.map((u) => `${c.name}=${u}`).join(",")} but missing from --initial-advertise-peer-urls=${advertised.join(",")} (${mismatch})`;
    }
    const extra = [...ap].filter((u) => !inCluster.has(u));
    const self = urlsMapString([{ name: c.name, peerUrls: advertised }]);
    if (extra.length > 0) {
      return `--initial-advertise-peer-urls has ${extra.join(",")} but missing from --initial-cluster=${self}`;
    }
    return `failed to resolve ${advertised.join(",")} to match --initial-cluster=${self} (${mismatch})`;
  }
  const dup = dupCheck();
  if (dup) return dup;
  if (c.initialCluster.length === 0 && !c.discovery)
    return "initial cluster unset and no discovery URL found";
  return undefined;
}

// ---------------------------------------------------------------------------------------------------

/** What `etcd --version` prints. */
export function versionText(opts: ParseOptions = {}): string {
  const node = opts.nodeVersion ?? process.version;
  const os = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  return [
    `etcd Version: ${ETCD_SERVER_VERSION}`,
    "Git SHA: Not provided (etcd-ts)",
    `etcd-ts Version: ${ETCD_TS_VERSION}`,
    `Node Version: ${node}`,
    `Node OS/Arch: ${os}/${arch}`,
    "",
  ].join("\n");
}

function logLine(now: Date, level: string, msg: string, error: string): string {
  return `${JSON.stringify({ level, ts: now.toISOString(), msg, error })}\n`;
}

function withWarnings(warnings: string[], r: Omit<ParseResult, "warnings">): ParseResult {
  return { ...r, warnings };
}

/**
 * Parses etcd's command line (`argv` without the program name) and environment into a validated
 * ServerConfig, or the exit etcd would take (help, version, or an error with its message and code).
 */
export function parseEtcdConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  opts: ParseOptions = {},
): ParseResult {
  const warnings: string[] = [];
  const now = opts.now ?? (() => new Date());
  const fail = (message: string, msg = "failed to verify flags"): ParseResult =>
    withWarnings(warnings, {
      exit: { code: 1, stderr: logLine(now(), "warn", msg, message), error: message },
    });

  if (argv[0] === "gateway" || argv[0] === "grpc-proxy") {
    return fail(`etcd ${argv[0]} is not implemented in etcd-ts`, "unsupported command");
  }

  // 1. Command line.
  let values = defaults();
  const onCmdline = new Set<string>();
  const args = parseArgs(argv, values, onCmdline);
  if (args.kind === "help") {
    return withWarnings(warnings, { exit: { code: 0, stdout: `${helpText()}\n`, stderr: `${USAGE}\n` } });
  }
  if (args.kind === "error") {
    return withWarnings(warnings, {
      exit: { code: 2, stderr: `${args.message}\n${USAGE}\n`, error: args.message },
    });
  }
  if (args.positional.length > 0) return fail(`'${args.positional[0]}' is not a valid flag`);
  if (bool(values, "version"))
    return withWarnings(warnings, { exit: { code: 0, stdout: versionText(opts) } });

  // 2. The configuration file, or the environment.
  const configFile = str(values, "config-file") || (env.ETCD_CONFIG_FILE ?? "");
  const visited = new Set(onCmdline); // Go's flagSet.Visit: set on the command line or from the environment
  let fromFile = new Set<string>();
  let advertiseClientUnset = false;
  try {
    if (configFile !== "") {
      const ignoredFlags = [...onCmdline].filter((n) => n !== "config-file" && n !== "version");
      if (ignoredFlags.length > 0) {
        warnings.push(
          `ignoring command-line flags ${ignoredFlags.map((n) => `--${n}`).join(", ")}: a configuration file is used (--config-file=${configFile}), and etcd then reads only the file`,
        );
      }
      const ignoredEnv = Object.keys(env).filter(
        (k) => k !== "ETCD_CONFIG_FILE" && env[k] && FLAGS.some((s) => flagToEnv(s.name) === k),
      );
      if (ignoredEnv.length > 0) {
        warnings.push(
          `ignoring environment variables ${ignoredEnv.join(", ")}: a configuration file is used (--config-file=${configFile}), and etcd then reads only the file`,
        );
      }
      let text: string;
      try {
        text = (opts.readFile ?? ((p: string) => readFileSync(p, "utf8")))(configFile);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why =
          e.code === "ENOENT"
            ? "no such file or directory"
            : e.code === "EACCES"
              ? "permission denied"
              : e.message;
        throw new ConfigError(`open ${configFile}: ${why}`);
      }
      values = defaults();
      const applied = applyConfigFile(text, values);
      for (const key of applied.unknownKeys) {
        warnings.push(
          `unknown key ${JSON.stringify(key)} in configuration file ${configFile}; ignored (as etcd does)`,
        );
      }
      if (applied.error?.direct) {
        return withWarnings(warnings, {
          exit: { code: 1, stderr: `${applied.error.message}\n`, error: applied.error.message },
        });
      }
      if (applied.error) throw new ConfigError(applied.error.message);
      fromFile = applied.set;
      if (
        (str(values, "discovery") !== "" || str(values, "discovery-srv") !== "") &&
        str(values, "initial-cluster") === DEFAULT_INITIAL_CLUSTER
      ) {
        values.set("initial-cluster", "");
      }
      if (str(values, "initial-cluster-state") === "") values.set("initial-cluster-state", "new");
      if (num(values, "self-signed-cert-validity") === 0) values.set("self-signed-cert-validity", 1);
    } else {
      applyEnv(values, env, onCmdline, visited, warnings, opts.envConflict ?? "warn");
      for (const name of ["raft-read-timeout", "raft-write-timeout"]) {
        if (num(values, name) < 5e9) values.set(name, 5e9); // etcd raises these to their minimum, 5s
      }
      advertiseClientUnset = visited.has("listen-client-urls") && !visited.has("advertise-client-urls");
      const discoveryish =
        str(values, "discovery") !== "" ||
        str(values, "discovery-srv") !== "" ||
        str(values, "discovery-srv-name") !== "" ||
        v3Endpoints(values).length > 0;
      if (discoveryish && !visited.has("initial-cluster")) values.set("initial-cluster", "");
    }

    // etcd warns for deprecated flags given on the command line or in the environment; for the file, etcd-ts
    // warns when the value differs from the default (the sample configuration lists the proxy keys).
    for (const spec of FLAGS) {
      if (!DEPRECATED_FLAGS.has(spec.name)) continue;
      const changed = valueText(spec, values.get(spec.name)!) !== valueText(spec, defaultValue(spec));
      if (visited.has(spec.name) || (fromFile.has(spec.name) && changed)) {
        warnings.push(`--${spec.name} is deprecated in 3.5 and will be decommissioned in 3.6.`);
      }
    }

    const mayBeProxy =
      str(values, "proxy") !== "off" ||
      (str(values, "discovery") !== "" && str(values, "discovery-fallback") === "proxy");
    validate(values, { advertiseClientUnset, mayBeProxy, warnings });
    if (advertiseClientUnset) values.set("advertise-client-urls", []);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }

  // 3. Name-derived defaults (etcd's UpdateDefaultClusterFromName and the data-dir default).
  updateDefaultClusterFromName(values, opts.defaultHost);
  if (str(values, "data-dir") === "") {
    values.set("data-dir", `${str(values, "name")}.etcd`);
    warnings.push(`'data-dir' was empty; using default: ${str(values, "data-dir")}`);
  }

  // 4. Bootstrap checks, for a member without data.
  const discovery = str(values, "discovery");
  const dnsDiscovery = str(values, "discovery-srv");
  const v3Discovery = v3Endpoints(values).length > 0;
  let initialCluster: InitialClusterMember[] = [];
  const initialized = opts.isMemberInitialized?.(str(values, "data-dir"), str(values, "wal-dir")) ?? false;
  const state = str(values, "initial-cluster-state") as "new" | "existing";
  if (discovery === "" && dnsDiscovery === "" && !v3Discovery) {
    const parsed = parseInitialCluster(str(values, "initial-cluster"));
    if (!Array.isArray(parsed)) {
      if (!initialized)
        return fail(`error setting up initial cluster: ${parsed.error}`, "failed to start etcd");
    } else initialCluster = parsed;
    if (!initialized) {
      const err = verifyBootstrap({
        name: str(values, "name"),
        initialCluster,
        initialAdvertisePeerUrls: urls(values, "initial-advertise-peer-urls").map((u) => u.canonical),
        initialClusterState: state,
      });
      if (err) return fail(err, "failed to start etcd");
    }
  } else if (!initialized && state === "existing" && (discovery !== "" || v3Discovery)) {
    return fail(
      "discovery URL should not be set when joining existing initial cluster",
      "failed to start etcd",
    );
  }

  // 5. Warnings for what etcd-ts does not do (yet), and etcd's own advisories.
  const unimplementedFlags: Record<string, string> = {};
  for (const spec of FLAGS) {
    const value = values.get(spec.name)!;
    if (spec.kind === "ignored") {
      if (visited.has(spec.name) || fromFile.has(spec.name)) {
        warnings.push(`flag --${spec.name} is no longer supported - ignoring`);
      }
      continue;
    }
    if (spec.implemented) continue;
    const text = valueText(spec, value);
    if (text === valueText(spec, defaultValue(spec))) continue;
    unimplementedFlags[spec.name] = text;
    warnings.push(
      `--${spec.name}=${text} is accepted but not implemented yet in etcd-ts; ignoring it${spec.note ? ` (${spec.note})` : ""}`,
    );
  }
  const outputs = strs(values, "log-outputs");
  if (outputs.includes("systemd/journal")) {
    warnings.push(
      "--log-outputs=systemd/journal is not implemented yet in etcd-ts; logging to stderr instead",
    );
  }
  if (num(values, "max-request-bytes") > RECOMMENDED_MAX_REQUEST_BYTES) {
    warnings.push(
      `exceeded recommended request limit: --max-request-bytes=${num(values, "max-request-bytes")} (recommended at most ${RECOMMENDED_MAX_REQUEST_BYTES})`,
    );
  }
  if (num(values, "quota-backend-bytes") > MAX_QUOTA_BACKEND_BYTES) {
    warnings.push(
      `quota exceeds the maximum value: --quota-backend-bytes=${num(values, "quota-backend-bytes")} (suggested maximum ${MAX_QUOTA_BACKEND_BYTES})`,
    );
  }

  return { config: buildConfig(values, initialCluster, unimplementedFlags), warnings };
}

/** etcd's flags.SetFlagsFromEnv and verifyEnv, for the command-line mode. */
function applyEnv(
  values: Values,
  env: Record<string, string | undefined>,
  onCmdline: Set<string>,
  visited: Set<string>,
  warnings: string[],
  conflict: "warn" | "error",
): void {
  const used = new Set<string>(["ETCD_VERSION"]);
  const version = env.ETCD_VERSION;
  if (version !== undefined && version !== "") {
    warnings.push(`cannot set special environment variable ETCD_VERSION=${version}`);
  }
  const alreadySet = new Set([...onCmdline].map(flagToEnv));
  let lastError: string | undefined;
  const specs = [...FLAGS].sort((a, b) => compareStrings(a.name, b.name)); // Go's VisitAll order
  for (const spec of specs) {
    const key = flagToEnv(spec.name);
    if (key === "ETCD_VERSION" || alreadySet.has(key)) continue;
    const raw = env[key];
    if (raw === undefined || raw === "") continue;
    used.add(key);
    const r = setFromText(spec, raw, values.get(spec.name));
    if ("error" in r) {
      lastError = `invalid value ${JSON.stringify(raw)} for ${key}: ${r.error}`;
      continue;
    }
    values.set(spec.name, r.value);
    visited.add(spec.name);
  }
  for (const [key, raw] of Object.entries(env)) {
    if (raw === undefined || used.has(key)) continue;
    if (alreadySet.has(key)) {
      if (conflict === "error") {
        throw new ConfigError(
          `conflicting environment variable ${JSON.stringify(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
        );
      }
      warnings.push(`recognized environment variable ${key}, but unused: shadowed by corresponding flag`);
      continue;
    }
    if (key.startsWith("ETCD_")) warnings.push(`unrecognized environment variable ${key}=${raw}`);
  }
  if (lastError !== undefined) throw new ConfigError(lastError);
}

function initialClusterFromName(values: Values, name: string): string {
  const n = name === "" ? DEFAULT_NAME : name;
  return urls(values, "initial-advertise-peer-urls")
    .map((u) => `${n}=${u.canonical}`)
    .join(",");
}

function updateDefaultClusterFromName(values: Values, defaultHost: string | undefined): void {
  const name = str(values, "name");
  const fromName = () => {
    if (name !== DEFAULT_NAME && str(values, "initial-cluster") === DEFAULT_INITIAL_CLUSTER) {
      values.set("initial-cluster", initialClusterFromName(values, name));
    }
  };
  if (defaultHost === undefined || defaultHost === "") {
    fromName();
    return;
  }
  const replace = (listenFlag: string, advertiseFlag: string, defaultUrl: string) => {
    const listen = urls(values, listenFlag)[0];
    const advertise = urls(values, advertiseFlag);
    if (!listen || advertise.length !== 1 || advertise[0]!.canonical !== defaultUrl) return;
    const hp = splitHostPort(hostOf(listen));
    if ("error" in hp || hp.host !== "0.0.0.0") return;
    const host = defaultHost.includes(":") ? `[${defaultHost}]` : defaultHost;
    values.set(advertiseFlag, [new EtcdURL(`${advertise[0]!.protocol}//${host}:${hp.port}`)]);
  };
  replace("listen-peer-urls", "initial-advertise-peer-urls", DEFAULT_INITIAL_ADVERTISE_PEER_URL);
  fromName();
  replace("listen-client-urls", "advertise-client-urls", DEFAULT_ADVERTISE_CLIENT_URL);
}

function buildConfig(
  v: Values,
  initialCluster: InitialClusterMember[],
  unimplementedFlags: Record<string, string>,
): ServerConfig {
  const orDefault = (n: number, d: number) => (n === 0 ? d : n);
  const mode = str(v, "auto-compaction-mode");
  return {
    name: str(v, "name"),
    dataDir: str(v, "data-dir"),
    walDir: str(v, "wal-dir"),
    listenPeerUrls: urls(v, "listen-peer-urls"),
    listenClientUrls: urls(v, "listen-client-urls"),
    metrics: str(v, "metrics") === "extensive" ? "extensive" : "basic",
    listenMetricsUrls: urls(v, "listen-metrics-urls"),
    advertiseClientUrls: urls(v, "advertise-client-urls"),
    initialAdvertisePeerUrls: urls(v, "initial-advertise-peer-urls"),
    initialCluster,
    initialClusterToken: str(v, "initial-cluster-token"),
    discovery: discoveryConfig(v),
    initialClusterState: str(v, "initial-cluster-state") as "new" | "existing",
    heartbeatMs: num(v, "heartbeat-interval"),
    electionMs: num(v, "election-timeout"),
    snapshotCount: orDefault(num(v, "snapshot-count"), DEFAULT_SNAPSHOT_COUNT),
    snapshotCatchUpEntries: orDefault(
      num(v, "experimental-snapshot-catchup-entries"),
      DEFAULT_SNAPSHOT_CATCH_UP_ENTRIES,
    ),
    maxSnapshots: num(v, "max-snapshots"),
    maxWals: num(v, "max-wals"),
    quotaBackendBytes: orDefault(num(v, "quota-backend-bytes"), DEFAULT_QUOTA_BACKEND_BYTES),
    maxRequestBytes: num(v, "max-request-bytes"),
    maxTxnOps: num(v, "max-txn-ops"),
    preVote: bool(v, "pre-vote"),
    strictReconfigCheck: bool(v, "strict-reconfig-check"),
    // Either name raises the limit above etcd's default of 1.
    maxLearners: Math.max(num(v, "experimental-max-learners"), num(v, "max-learners")),
    addVotersAsLearners: bool(v, "add-voters-as-learners"),
    initialCorruptCheck: bool(v, "experimental-initial-corrupt-check"),
    corruptCheckTimeMs: Math.max(0, num(v, "experimental-corrupt-check-time") / 1e6),
    backupIntervalMs: Math.max(0, num(v, "backup-interval") / 1e6),
    backupDir: str(v, "backup-dir"),
    backupRetention: num(v, "backup-retention"),
    backendBatchIntervalMs: orDefault(
      num(v, "backend-batch-interval") / 1e6,
      DEFAULT_BACKEND_BATCH_INTERVAL_MS,
    ),
    backendBatchLimit: orDefault(num(v, "backend-batch-limit"), DEFAULT_BACKEND_BATCH_LIMIT),
    logger: "zap",
    logLevel: LOG_LEVELS[str(v, "log-level")]!,
    logOutputs: strs(v, "log-outputs").length > 0 ? strs(v, "log-outputs") : ["default"],
    enableV2: bool(v, "enable-v2"),
    forceNewCluster: bool(v, "force-new-cluster"),
    autoCompactionMode: mode === "revision" ? "revision" : "periodic",
    autoCompactionRetention: str(v, "auto-compaction-retention") || "0",
    authToken: str(v, "auth-token"),
    authTokenTtl: num(v, "auth-token-ttl"),
    bcryptCost: num(v, "bcrypt-cost"),
    tls: tlsConfig(v),
    unimplementedFlags,
  };
}

/** The TLS flags (etcd's ClientTLSInfo, PeerTLSInfo, CipherSuites, TlsMinVersion/TlsMaxVersion). */
function tlsConfig(v: Values): TlsConfig {
  const common = {
    cipherSuites: strs(v, "cipher-suites"),
    minVersion: str(v, "tls-min-version"),
    maxVersion: str(v, "tls-max-version"),
    insecureSkipVerify: false,
    selfCert: false,
  };
  return {
    client: {
      ...common,
      certFile: str(v, "cert-file"),
      keyFile: str(v, "key-file"),
      clientCertFile: str(v, "client-cert-file"),
      clientKeyFile: str(v, "client-key-file"),
      trustedCaFile: str(v, "trusted-ca-file"),
      clientCertAuth: bool(v, "client-cert-auth"),
      crlFile: str(v, "client-crl-file"),
      allowedCns: [],
      allowedHostnames: strs(v, "client-cert-allowed-hostname"),
      skipClientSanVerify: false,
    },
    peer: {
      ...common,
      certFile: str(v, "peer-cert-file"),
      keyFile: str(v, "peer-key-file"),
      clientCertFile: str(v, "peer-client-cert-file"),
      clientKeyFile: str(v, "peer-client-key-file"),
      trustedCaFile: str(v, "peer-trusted-ca-file"),
      clientCertAuth: bool(v, "peer-client-cert-auth"),
      crlFile: str(v, "peer-crl-file"),
      allowedCns: strs(v, "peer-cert-allowed-cn"),
      allowedHostnames: strs(v, "peer-cert-allowed-hostname"),
      skipClientSanVerify: bool(v, "experimental-peer-skip-client-san-verification"),
    },
    clientAutoTls: bool(v, "auto-tls"),
    peerAutoTls: bool(v, "peer-auto-tls"),
    selfSignedCertValidity: num(v, "self-signed-cert-validity"),
  };
}

/** The --discovery* flags; undefined when the member bootstraps from --initial-cluster. */
function discoveryConfig(v: Values): DiscoveryConfig | undefined {
  const endpoints = v3Endpoints(v);
  if (str(v, "discovery") === "" && str(v, "discovery-srv") === "" && endpoints.length === 0)
    return undefined;
  const ms = (name: string) => num(v, name) / 1e6;
  return {
    url: str(v, "discovery"),
    proxy: str(v, "discovery-proxy"),
    fallback: str(v, "discovery-fallback") === "exit" ? "exit" : "proxy",
    v3:
      endpoints.length === 0
        ? undefined
        : {
            token: str(v, "discovery-token"),
            endpoints,
            dialTimeoutMs: ms("discovery-dial-timeout"),
            requestTimeoutMs: ms("discovery-request-timeout"),
            keepaliveTimeMs: ms("discovery-keepalive-time"),
            keepaliveTimeoutMs: ms("discovery-keepalive-timeout"),
            insecureTransport: bool(v, "discovery-insecure-transport"),
            insecureSkipTlsVerify: bool(v, "discovery-insecure-skip-tls-verify"),
            cert: str(v, "discovery-cert"),
            key: str(v, "discovery-key"),
            cacert: str(v, "discovery-cacert"),
            user: str(v, "discovery-user"),
            password: str(v, "discovery-password"),
          },
    srv: str(v, "discovery-srv"),
    srvName: str(v, "discovery-srv-name"),
    dnsServer: str(v, "discovery-srv-dns-server"),
    maxRetries: num(v, "discovery-max-retries"),
  };
}

/** The spec of a flag by name (for callers that print flag information). */
export function flagSpec(name: string): FlagSpec | undefined {
  return FLAG_BY_NAME.get(name);
}
