// The member's configuration, as the `etcd` command line (src/cli/etcd/) builds it from flags, ETCD_*
// environment variables or --config-file. Defaults are etcd 3.5's (server/embed/config.go). Every value
// here is the effective one: zeros that etcd later replaces by a default ("0 = default") are already
// replaced, so the server reads fields as they are.

import { defaultTlsConfig, type TlsConfig } from "../pkg/tls/info.js";

/** The etcd version this member reports (`etcd --version`, GET /version `etcdserver`). */
export const ETCD_SERVER_VERSION = "3.5.17";
/** The cluster version a 3.5 member reports until the cluster decides otherwise (GET /version `etcdcluster`). */
export const ETCD_CLUSTER_VERSION = "3.5.0";
/** This implementation's own version (package.json `version`; a test keeps them equal). */
export const ETCD_TS_VERSION = "0.1.0";

export const DEFAULT_NAME = "default";
export const DEFAULT_LISTEN_PEER_URL = "http://localhost:2380";
export const DEFAULT_LISTEN_CLIENT_URL = "http://localhost:2379";
export const DEFAULT_INITIAL_ADVERTISE_PEER_URL = "http://localhost:2380";
export const DEFAULT_ADVERTISE_CLIENT_URL = "http://localhost:2379";
export const DEFAULT_INITIAL_CLUSTER_TOKEN = "etcd-cluster";
export const DEFAULT_HEARTBEAT_MS = 100;
export const DEFAULT_ELECTION_MS = 1000;
/** --election-timeout may not exceed this (etcd's maxElectionMs). */
export const MAX_ELECTION_MS = 50000;
export const DEFAULT_SNAPSHOT_COUNT = 100000;
export const DEFAULT_SNAPSHOT_CATCH_UP_ENTRIES = 5000;
export const DEFAULT_MAX_SNAPSHOTS = 5;
export const DEFAULT_MAX_WALS = 5;
/** 2 GiB: the backend quota when --quota-backend-bytes is 0. */
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;
/** 8 GiB: above this etcd warns that the quota exceeds the suggested maximum. */
export const MAX_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;
/** 1.5 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 1572864;
/** 10 MiB: above this etcd warns "exceeded recommended request limit". */
export const RECOMMENDED_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_TXN_OPS = 128;
export const DEFAULT_BACKEND_BATCH_INTERVAL_MS = 100;
export const DEFAULT_BACKEND_BATCH_LIMIT = 10000;

export type LogLevel = "debug" | "info" | "warn" | "error" | "panic" | "fatal";

/** One member of --initial-cluster: its name and peer URLs (etcd's canonical strings, sorted). */
export interface InitialClusterMember {
  name: string;
  peerUrls: string[];
}

/**
 * A URL as etcd prints it. WHATWG URL normalises ("http://a:2380" has href "http://a:2380/", an explicit
 * default port such as ":80" disappears), but etcd derives member IDs from, and shows, the URL string as
 * given (Go's url.URL.String()). `toString()` and `toJSON()` return that string; `hostname`, `port` and
 * the rest keep their WHATWG meaning (use `urlHostPort()` for what to bind).
 */
export class EtcdURL extends URL {
  /** etcd's form of this URL: scheme lower-cased, the rest as given, no trailing slash. */
  readonly canonical: string;

  /**
   * `parseAs` (optional) is what WHATWG URL parses when it cannot parse `canonical` itself: etcd's flag
   * parser accepts "http://:2380" (empty host), which WHATWG rejects, and reports it later in validation.
   */
  constructor(canonical: string, parseAs: string = canonical) {
    super(parseAs);
    this.canonical = canonical;
  }

  override toString(): string {
    return this.canonical;
  }

  override toJSON(): string {
    return this.canonical;
  }
}

/** etcd's string for a URL (without the trailing slash WHATWG adds). */
export function urlToString(u: URL): string {
  if (u instanceof EtcdURL) return u.canonical;
  const s = u.toString();
  return s.endsWith("/") && u.pathname === "/" ? s.slice(0, -1) : s;
}

/** Host (IPv6 without brackets) and numeric port to bind or dial for an http(s) URL. */
export function urlHostPort(u: URL): { host: string; port: number } {
  let host = u.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = u.port !== "" ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
  return { host, port };
}

/** etcd 3.6's v3 discovery client (--discovery-token, --discovery-endpoints and the other --discovery-* flags). */
export interface DiscoveryV3Config {
  token: string;
  endpoints: string[];
  dialTimeoutMs: number;
  requestTimeoutMs: number;
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  insecureTransport: boolean;
  insecureSkipTlsVerify: boolean;
  cert: string;
  key: string;
  cacert: string;
  /** "user" or "user:password". */
  user: string;
  password: string;
}

/** How a new member finds its initial cluster when --initial-cluster does not say (src/discovery). */
export interface DiscoveryConfig {
  /** --discovery: a v2 registry directory URL ("" = not v2 discovery). */
  url: string;
  /** --discovery-proxy ("" = none). */
  proxy: string;
  /** --discovery-fallback; etcd-ts has no v2 proxy, so a full registry ends the member either way. */
  fallback: "exit" | "proxy";
  /** v3 discovery; undefined unless --discovery-endpoints is set. */
  v3?: DiscoveryV3Config;
  /** --discovery-srv ("" = not DNS discovery). */
  srv: string;
  /** --discovery-srv-name. */
  srvName: string;
  /** etcd-ts: --discovery-srv-dns-server "ip[:port]" to query instead of the system's resolver ("" = system). */
  dnsServer: string;
  /** etcd-ts: --discovery-max-retries, failures to reach a registry before giving up (-1 = forever, as etcd). */
  maxRetries: number;
}

export interface ServerConfig {
  /** --name (default "default"). */
  name: string;
  /** --data-dir (default "<name>.etcd"). */
  dataDir: string;
  /** --wal-dir ("" = <data-dir>/member/wal). */
  walDir: string;
  /** --listen-peer-urls (default http://localhost:2380); sorted, without duplicates, as etcd keeps them. */
  listenPeerUrls: URL[];
  /** --listen-client-urls (default http://localhost:2379); sorted, without duplicates. */
  listenClientUrls: URL[];
  /** --metrics: "basic" (default) or "extensive" (adds the gRPC handling-time histogram). */
  metrics: "basic" | "extensive";
  /** --listen-metrics-urls: extra ports serving /metrics and the health checks only (default none). */
  listenMetricsUrls: URL[];
  /** --advertise-client-urls (default http://localhost:2379); sorted, without duplicates. */
  advertiseClientUrls: URL[];
  /** --initial-advertise-peer-urls (default http://localhost:2380); sorted, without duplicates. */
  initialAdvertisePeerUrls: URL[];
  /**
   * --initial-cluster "n1=http://a:2380,n1=http://b:2380,n2=...": members in order of first appearance.
   * Empty when bootstrapping through discovery. A member that is not named --name defaults to
   * "<name>=<each advertised peer URL>" (etcd's rule when --initial-cluster is left at its default).
   */
  initialCluster: InitialClusterMember[];
  /** --initial-cluster-token (default "etcd-cluster"). */
  initialClusterToken: string;
  /** Bootstrap through discovery instead of --initial-cluster (a new member only); undefined: static. */
  discovery?: DiscoveryConfig;
  /** --initial-cluster-state (default "new"). */
  initialClusterState: "new" | "existing";
  /** --heartbeat-interval in ms (default 100). */
  heartbeatMs: number;
  /** --election-timeout in ms (default 1000); at least 5 x heartbeatMs and at most 50000. */
  electionMs: number;
  /** --snapshot-count (default 100000; 0 means the default). */
  snapshotCount: number;
  /** --experimental-snapshot-catchup-entries (default 5000; 0 means the default). */
  snapshotCatchUpEntries: number;
  /** --max-snapshots (default 5, 0 = unlimited). */
  maxSnapshots: number;
  /** --max-wals (default 5, 0 = unlimited). */
  maxWals: number;
  /** --quota-backend-bytes: 2 GiB when given as 0; negative disables the quota (as etcd). */
  quotaBackendBytes: number;
  /** --max-request-bytes (default 1.5 MiB = 1572864). */
  maxRequestBytes: number;
  /** --max-txn-ops (default 128). */
  maxTxnOps: number;
  /** --pre-vote (default true in 3.5). */
  preVote: boolean;
  /** --strict-reconfig-check (default true). */
  strictReconfigCheck: boolean;
  /** --experimental-max-learners / --max-learners (default 1). */
  maxLearners: number;
  /**
   * --add-voters-as-learners (etcd-ts, default false): every MemberAdd of a voter adds a learner that
   * the leader promotes by itself once it has caught up, so a voter that never starts cannot cost the
   * cluster its quorum.
   */
  addVotersAsLearners: boolean;
  /** --experimental-initial-corrupt-check (etcd-ts default true; etcd's false). */
  initialCorruptCheck: boolean;
  /** --experimental-corrupt-check-time in ms (etcd-ts default 10 min; etcd's 0 = never). */
  corruptCheckTimeMs: number;
  /** --backup-interval in ms (etcd-ts; default 0 = no scheduled backups). */
  backupIntervalMs: number;
  /** --backup-dir (etcd-ts; "" = `<data-dir>/backups`). */
  backupDir: string;
  /** --backup-retention (etcd-ts; default 24; 0 keeps all). */
  backupRetention: number;
  /** --backend-batch-interval in ms (default 100; 0 means the default). May be fractional. */
  backendBatchIntervalMs: number;
  /** --backend-batch-limit (default 10000; 0 means the default). */
  backendBatchLimit: number;
  /** --logger: 3.5 supports only zap (structured JSON lines). */
  logger: "zap";
  /** --log-level (default info). */
  logLevel: LogLevel;
  /** --log-outputs: "default" and "stderr" = stderr, "stdout", "systemd/journal", or file paths. */
  logOutputs: string[];
  /** --enable-v2 (default false; deprecated in 3.5). */
  enableV2: boolean;
  /** --force-new-cluster (default false). */
  forceNewCluster: boolean;
  /** --auto-compaction-mode (default periodic). */
  autoCompactionMode: "periodic" | "revision";
  /**
   * --auto-compaction-retention as given (default "0" = off): for periodic a Go duration ("5m") or a
   * number of hours, for revision a number of revisions. Validated by the parser.
   */
  autoCompactionRetention: string;
  /**
   * --auth-token (default "simple"): "simple", or "jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>"
   * with an optional ",ttl=<duration>" (src/auth/options.ts).
   */
  authToken: string;
  /** --auth-token-ttl in seconds (default 300): how long a simple token lives unused. */
  authTokenTtl: number;
  /** --bcrypt-cost (default 10; outside 4..31 the default is used, as etcd). */
  bcryptCost: number;
  /**
   * TLS for the client and peer ports (--cert-file, --peer-cert-file, --auto-tls, ... see src/pkg/tls/info.ts).
   * Absent: no TLS. startEtcd resolves auto TLS into certificate files before the server sees it.
   */
  tls?: TlsConfig;
  /**
   * Flags etcd accepts that etcd-ts does not act on yet (TLS, auth, discovery, proxy, tracing, ...), each
   * with its value when it differs from etcd's default, as a string. Later issues read them from here.
   */
  unimplementedFlags: Record<string, string>;
}

/** A ServerConfig holding etcd's defaults (what `etcd` with no flags and no ETCD_* variables runs). */
export function defaultServerConfig(): ServerConfig {
  return {
    name: DEFAULT_NAME,
    dataDir: `${DEFAULT_NAME}.etcd`,
    walDir: "",
    listenPeerUrls: [new EtcdURL(DEFAULT_LISTEN_PEER_URL)],
    listenClientUrls: [new EtcdURL(DEFAULT_LISTEN_CLIENT_URL)],
    metrics: "basic",
    listenMetricsUrls: [],
    advertiseClientUrls: [new EtcdURL(DEFAULT_ADVERTISE_CLIENT_URL)],
    initialAdvertisePeerUrls: [new EtcdURL(DEFAULT_INITIAL_ADVERTISE_PEER_URL)],
    initialCluster: [{ name: DEFAULT_NAME, peerUrls: [DEFAULT_INITIAL_ADVERTISE_PEER_URL] }],
    initialClusterToken: DEFAULT_INITIAL_CLUSTER_TOKEN,
    initialClusterState: "new",
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    electionMs: DEFAULT_ELECTION_MS,
    snapshotCount: DEFAULT_SNAPSHOT_COUNT,
    snapshotCatchUpEntries: DEFAULT_SNAPSHOT_CATCH_UP_ENTRIES,
    maxSnapshots: DEFAULT_MAX_SNAPSHOTS,
    maxWals: DEFAULT_MAX_WALS,
    quotaBackendBytes: DEFAULT_QUOTA_BACKEND_BYTES,
    maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
    maxTxnOps: DEFAULT_MAX_TXN_OPS,
    preVote: true,
    strictReconfigCheck: true,
    maxLearners: 1,
    addVotersAsLearners: false,
    initialCorruptCheck: true,
    corruptCheckTimeMs: 600_000,
    backupIntervalMs: 0,
    backupDir: "",
    backupRetention: 24,
    backendBatchIntervalMs: DEFAULT_BACKEND_BATCH_INTERVAL_MS,
    backendBatchLimit: DEFAULT_BACKEND_BATCH_LIMIT,
    logger: "zap",
    logLevel: "info",
    logOutputs: ["default"],
    enableV2: false,
    forceNewCluster: false,
    autoCompactionMode: "periodic",
    autoCompactionRetention: "0",
    authToken: "simple",
    authTokenTtl: 300,
    bcryptCost: 10,
    tls: defaultTlsConfig(),
    unimplementedFlags: {},
  };
}
