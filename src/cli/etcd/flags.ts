// Every flag etcd 3.5 defines (server/etcdmain/config.go), with its type, default, help group and text
// (server/etcdmain/help.go), and whether etcd-ts acts on it yet. The parser, the ETCD_* environment
// mapping, the --config-file keys and `etcd --help` are all driven by this one table.

export type FlagKind =
  | "string"
  | "bool"
  | "uint" // Go uint (64-bit)
  | "uint64"
  | "int" // Go int (64-bit)
  | "int64"
  | "uint32" // etcd's own uint32 flag type (its errors carry strconv's full text)
  | "duration"
  | "urls" // etcd's UniqueURLs: comma-separated URLs, sorted, duplicates dropped; "" keeps the current value
  | "cors" // UniqueURLs with the "*" exception
  | "select" // one of `choices`
  | "selectMulti" // comma-separated, each one of `choices`
  | "strings" // comma-separated list
  | "uniqueStrings" // comma-separated set, sorted
  | "ignored"; // old flags etcd still accepts (as booleans) and ignores

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  /** The default, written as a flag value would be ("" for none / empty). */
  def: string;
  /** Help group title; undefined = not listed in --help (as in etcd). */
  group?: string;
  /** What --help shows after the flag name; default `'<def>'`; "" shows nothing. */
  shown?: string;
  /** Help lines under the flag. */
  help: string[];
  /** Whether etcd-ts acts on this flag (others are accepted with a warning when set). */
  implemented: boolean;
  choices?: string[];
  /** Key in --config-file when it differs from the flag name; null when the file cannot set it. */
  yaml?: string | null;
  /** Added to the "not implemented" warning. */
  note?: string;
}

export const GROUPS = [
  "Member",
  "Clustering",
  "Security",
  "Auth",
  "Profiling and Monitoring",
  "Logging",
  "Experimental distributed tracing",
  "v2 Proxy (Deprecated and to be decommissioned in v3.6)",
  "Experimental feature",
  "Unsafe feature",
  "Scheduled backups (etcd-ts)",
] as const;

const [
  MEMBER,
  CLUSTERING,
  SECURITY,
  AUTH,
  PROFILING,
  LOGGING,
  TRACING,
  PROXY,
  EXPERIMENTAL,
  UNSAFE,
  BACKUPS,
] = GROUPS;

// What etcd's help shows as the data-dir default (a literal "${name}", not a template).
const NAME_ETCD = ["'$", "{name}.etcd'"].join("");

const TLS_NOTE = "connections are not encrypted or authenticated";

/** Old flag names etcd 3.5 still accepts and ignores (etcdmain's `ignored`). */
export const IGNORED_FLAGS = [
  "cluster-active-size",
  "cluster-remove-delay",
  "cluster-sync-interval",
  "config",
  "force",
  "max-result-buffer",
  "max-retry-attempts",
  "peer-heartbeat-interval",
  "peer-election-timeout",
  "retry-interval",
  "snapshot",
  "v",
  "vv",
  "test.coverprofile",
  "test.outputdir",
];

/** Flags that print etcd 3.5's deprecation warning when set (`--%s is deprecated in 3.5 ...`). */
export const DEPRECATED_FLAGS = new Set([
  "enable-v2",
  "experimental-enable-v2v3",
  "proxy",
  "proxy-failure-wait",
  "proxy-refresh-interval",
  "proxy-dial-timeout",
  "proxy-write-timeout",
  "proxy-read-timeout",
]);

function f(
  group: string | undefined,
  name: string,
  kind: FlagKind,
  def: string,
  implemented: boolean,
  help: string[],
  extra: Partial<FlagSpec> = {},
): FlagSpec {
  return { name, kind, def, group, help, implemented, ...extra };
}

const T = true;
const F = false;

export const FLAGS: FlagSpec[] = [
  f(undefined, "config-file", "string", "", T, ["Path to the server configuration file."], { yaml: null }),
  f(undefined, "version", "bool", "false", T, ["Print the version and exit."], { yaml: null }),

  // Member
  f(MEMBER, "name", "string", "default", T, ["Human-readable name for this member."]),
  f(MEMBER, "data-dir", "string", "", T, ["Path to the data directory."], { shown: NAME_ETCD }),
  f(MEMBER, "wal-dir", "string", "", T, ["Path to the dedicated wal directory."]),
  f(MEMBER, "snapshot-count", "uint64", "100000", T, [
    "Number of committed transactions to trigger a snapshot to disk.",
  ]),
  f(MEMBER, "heartbeat-interval", "uint", "100", T, ["Time (in milliseconds) of a heartbeat interval."]),
  f(MEMBER, "election-timeout", "uint", "1000", T, [
    "Time (in milliseconds) for an election to timeout. See tuning documentation for details.",
  ]),
  f(MEMBER, "initial-election-tick-advance", "bool", "true", F, [
    "Whether to fast-forward initial election ticks on boot for faster election.",
  ]),
  f(MEMBER, "listen-peer-urls", "urls", "http://localhost:2380", T, [
    "List of URLs to listen on for peer traffic.",
  ]),
  f(MEMBER, "listen-client-urls", "urls", "http://localhost:2379", T, [
    "List of URLs to listen on for client grpc traffic and http as long as --listen-client-http-urls is not specified.",
  ]),
  f(MEMBER, "listen-client-http-urls", "urls", "", F, [
    "List of URLs to listen on for http only client traffic. Enabling this flag removes http services from --listen-client-urls.",
  ]),
  f(MEMBER, "max-snapshots", "uint", "5", T, [
    "Maximum number of snapshot files to retain (0 is unlimited).",
  ]),
  f(MEMBER, "max-wals", "uint", "5", T, ["Maximum number of wal files to retain (0 is unlimited)."]),
  f(MEMBER, "quota-backend-bytes", "int64", "0", T, [
    "Sets the maximum size (in bytes) that the etcd backend database may consume. Exceeding this triggers an alarm and puts etcd in read-only mode. Set to 0 to use the default 2GiB limit.",
  ]),
  f(
    MEMBER,
    "backend-bbolt-freelist-type",
    "string",
    "",
    F,
    [
      "BackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types).",
    ],
    { shown: "'map'", note: "etcd-ts stores data in LMDB, which has no such setting" },
  ),
  f(
    MEMBER,
    "backend-batch-interval",
    "duration",
    "0s",
    T,
    ["BackendBatchInterval is the maximum time before commit the backend transaction."],
    { shown: "''" },
  ),
  f(MEMBER, "backend-batch-limit", "int", "0", T, [
    "BackendBatchLimit is the maximum operations before commit the backend transaction.",
  ]),
  f(MEMBER, "max-txn-ops", "uint", "128", T, ["Maximum number of operations permitted in a transaction."]),
  f(MEMBER, "max-request-bytes", "uint", "1572864", T, [
    "Maximum client request size in bytes the server will accept.",
  ]),
  f(
    MEMBER,
    "max-concurrent-streams",
    "uint32",
    "4294967295",
    F,
    ["Maximum concurrent streams that each client can open at a time."],
    { shown: "'math.MaxUint32'" },
  ),
  f(MEMBER, "enable-grpc-gateway", "bool", "true", F, ["Enable GRPC gateway."], { shown: "" }),
  f(MEMBER, "grpc-keepalive-min-time", "duration", "5s", F, [
    "Minimum duration interval that a client should wait before pinging server.",
  ]),
  f(MEMBER, "grpc-keepalive-interval", "duration", "2h", F, [
    "Frequency duration of server-to-client ping to check if a connection is alive (0 to disable).",
  ]),
  f(MEMBER, "grpc-keepalive-timeout", "duration", "20s", F, [
    "Additional duration of wait before closing a non-responsive connection (0 to disable).",
  ]),
  f(
    MEMBER,
    "socket-reuse-port",
    "bool",
    "false",
    F,
    ["Enable to set socket option SO_REUSEPORT on listeners allowing rebinding of a port already in use."],
    { yaml: "socket-options.reuse-port" },
  ),
  f(
    MEMBER,
    "socket-reuse-address",
    "bool",
    "false",
    F,
    [
      "Enable to set socket option SO_REUSEADDR on listeners allowing binding to an address in TIME_WAIT state.",
    ],
    { yaml: "socket-options.reuse-address" },
  ),
  f(MEMBER, "raft-read-timeout", "duration", "5s", F, ["Read timeout set on each rafthttp connection"], {
    yaml: null,
  }),
  f(MEMBER, "raft-write-timeout", "duration", "5s", F, ["Write timeout set on each rafthttp connection"], {
    yaml: null,
  }),

  // Clustering
  f(CLUSTERING, "initial-advertise-peer-urls", "urls", "http://localhost:2380", T, [
    "List of this member's peer URLs to advertise to the rest of the cluster.",
  ]),
  f(CLUSTERING, "initial-cluster", "string", "default=http://localhost:2380", T, [
    "Initial cluster configuration for bootstrapping.",
  ]),
  f(
    CLUSTERING,
    "initial-cluster-state",
    "select",
    "new",
    T,
    [
      "Initial cluster state ('new' when bootstrapping a new cluster or 'existing' when adding new members to an existing cluster).",
      "After successful initialization (bootstrapping or adding), flag is ignored on restarts.",
    ],
    { choices: ["new", "existing"] },
  ),
  f(CLUSTERING, "initial-cluster-token", "string", "etcd-cluster", T, [
    "Initial cluster token for the etcd cluster during bootstrap.",
    "Specifying this can protect you from unintended cross-cluster interaction when running multiple clusters.",
  ]),
  f(CLUSTERING, "advertise-client-urls", "urls", "http://localhost:2379", T, [
    "List of this member's client URLs to advertise to the public.",
    "The client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster.",
  ]),
  f(CLUSTERING, "discovery", "string", "", T, ["Discovery URL used to bootstrap the cluster."]),
  // etcd 3.6's v3 discovery (the registry in another cluster's v3 key space); not in etcd's YAML top level.
  f(
    CLUSTERING,
    "discovery-token",
    "string",
    "",
    T,
    ["V3 discovery: discovery token for the etcd cluster to be bootstrapped."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-endpoints",
    "uniqueStrings",
    "",
    T,
    ["V3 discovery: List of gRPC endpoints of the discovery service."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-dial-timeout",
    "duration",
    "2s",
    T,
    ["V3 discovery: dial timeout for client connections."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-request-timeout",
    "duration",
    "5s",
    T,
    ["V3 discovery: timeout for discovery requests (excluding dial timeout)."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-keepalive-time",
    "duration",
    "2s",
    T,
    ["V3 discovery: keepalive time for client connections."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-keepalive-timeout",
    "duration",
    "6s",
    T,
    ["V3 discovery: keepalive timeout for client connections."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-insecure-transport",
    "bool",
    "true",
    T,
    ["V3 discovery: disable transport security for client connections."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-insecure-skip-tls-verify",
    "bool",
    "false",
    T,
    [
      "V3 discovery: skip server certificate verification (CAUTION: this option should be enabled only for testing purposes).",
    ],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-cert",
    "string",
    "",
    T,
    ["V3 discovery: identify secure client using this TLS certificate file."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-key",
    "string",
    "",
    T,
    ["V3 discovery: identify secure client using this TLS key file."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-cacert",
    "string",
    "",
    T,
    ["V3 discovery: verify certificates of TLS-enabled secure servers using this CA bundle."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-user",
    "string",
    "",
    T,
    ["V3 discovery: username[:password] for authentication (prompt if password is not supplied)."],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-password",
    "string",
    "",
    T,
    [
      "V3 discovery: password for authentication (if this option is used, --user option shouldn't include password).",
    ],
    { yaml: null },
  ),
  f(
    CLUSTERING,
    "discovery-fallback",
    "select",
    "proxy",
    T,
    ["Expected behavior ('exit' or 'proxy') when discovery services fails.", '"proxy" supports v2 API only.'],
    { choices: ["proxy", "exit"] },
  ),
  f(CLUSTERING, "discovery-proxy", "string", "", T, ["HTTP proxy to use for traffic to discovery service."]),
  f(CLUSTERING, "discovery-srv", "string", "", T, ["DNS srv domain used to bootstrap the cluster."]),
  f(CLUSTERING, "discovery-srv-name", "string", "", T, [
    "Suffix to the dns srv name queried when bootstrapping.",
  ]),
  f(CLUSTERING, "discovery-srv-dns-server", "string", "", T, [
    "etcd-ts: DNS server (ip[:port], default port 53) that --discovery-srv lookups query instead of the system's resolver.",
  ]),
  f(CLUSTERING, "discovery-max-retries", "int", "8", T, [
    "etcd-ts: failures to reach a discovery registry (retried after 2s, 4s, ... up to 256s) before giving up with 'discovery: too many retries'; -1 retries forever, as etcd.",
  ]),
  f(CLUSTERING, "strict-reconfig-check", "bool", "true", T, [
    "Reject reconfiguration requests that would cause quorum loss.",
  ]),
  f(CLUSTERING, "pre-vote", "bool", "true", T, ["Enable to run an additional Raft election phase."]),
  f(CLUSTERING, "max-learners", "int", "1", T, [
    "Sets the maximum number of learners that can be available in the cluster membership (etcd 3.6's name of --experimental-max-learners).",
  ]),
  f(CLUSTERING, "add-voters-as-learners", "bool", "false", T, [
    "etcd-ts: add every new voting member as a learner and promote it automatically once it has caught up with the leader.",
  ]),
  f(CLUSTERING, "auto-compaction-retention", "string", "0", T, [
    "Auto compaction retention length. 0 means disable auto compaction.",
  ]),
  f(CLUSTERING, "auto-compaction-mode", "string", "periodic", T, [
    "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention.",
  ]),
  f(CLUSTERING, "enable-v2", "bool", "false", T, [
    "Accept etcd V2 client requests. Deprecated and to be decommissioned in v3.6.",
  ]),
  f(
    CLUSTERING,
    "v2-deprecation",
    "selectMulti",
    "",
    F,
    [
      "Phase of v2store deprecation. Allows to opt-in for higher compatibility mode.",
      "Supported values:",
      "  'not-yet'                // Issues a warning if v2store have meaningful content (default in v3.5)",
      "  'write-only'             // Custom v2 state is not allowed (planned default in v3.6)",
      "  'write-only-skip-check'  // Custom v2 state is not allowed similar to 'write-only', but bypass the v2 content check. WARNING: Users should read the 3.5 -> 3.6 upgrade guide and use this option at their own risk.",
      "  'write-only-drop-data'   // Custom v2 state will get DELETED !",
      "  'gone'                   // v2store is not maintained any longer. (planned default in v3.7)",
    ],
    {
      shown: "'not-yet'",
      choices: ["not-yet", "write-only", "write-only-skip-check", "write-only-drop-data", "gone"],
    },
  ),

  // Security
  f(SECURITY, "cert-file", "string", "", T, ["Path to the client server TLS cert file."], {
    yaml: "client-transport-security.cert-file",
    note: TLS_NOTE,
  }),
  f(SECURITY, "key-file", "string", "", T, ["Path to the client server TLS key file."], {
    yaml: "client-transport-security.key-file",
    note: TLS_NOTE,
  }),
  f(SECURITY, "client-cert-auth", "bool", "false", T, ["Enable client cert authentication."], {
    yaml: "client-transport-security.client-cert-auth",
    note: TLS_NOTE,
  }),
  f(
    SECURITY,
    "client-cert-file",
    "string",
    "",
    T,
    [
      "Path to an explicit peer client TLS cert file otherwise cert file will be used when client auth is required.",
    ],
    { yaml: "client-transport-security.client-cert-file", note: TLS_NOTE },
  ),
  f(
    SECURITY,
    "client-key-file",
    "string",
    "",
    T,
    [
      "Path to an explicit peer client TLS key file otherwise key file will be used when client auth is required.",
    ],
    { yaml: "client-transport-security.client-key-file", note: TLS_NOTE },
  ),
  f(SECURITY, "client-crl-file", "string", "", T, ["Path to the client certificate revocation list file."], {
    yaml: null,
    note: TLS_NOTE,
  }),
  f(
    SECURITY,
    "client-cert-allowed-hostname",
    "strings",
    "",
    T,
    ["Comma-separated list of SAN hostnames for client cert authentication."],
    { yaml: "client-transport-security.allowed-hostname", note: TLS_NOTE },
  ),
  f(SECURITY, "trusted-ca-file", "string", "", T, ["Path to the client server TLS trusted CA cert file."], {
    yaml: "client-transport-security.trusted-ca-file",
    note: TLS_NOTE,
  }),
  f(SECURITY, "auto-tls", "bool", "false", T, ["Client TLS using generated certificates."], {
    yaml: "client-transport-security.auto-tls",
    note: TLS_NOTE,
  }),
  f(SECURITY, "peer-cert-file", "string", "", T, ["Path to the peer server TLS cert file."], {
    yaml: "peer-transport-security.cert-file",
    note: TLS_NOTE,
  }),
  f(SECURITY, "peer-key-file", "string", "", T, ["Path to the peer server TLS key file."], {
    yaml: "peer-transport-security.key-file",
    note: TLS_NOTE,
  }),
  f(SECURITY, "peer-client-cert-auth", "bool", "false", T, ["Enable peer client cert authentication."], {
    yaml: "peer-transport-security.client-cert-auth",
    note: TLS_NOTE,
  }),
  f(SECURITY, "peer-trusted-ca-file", "string", "", T, ["Path to the peer server TLS trusted CA file."], {
    yaml: "peer-transport-security.trusted-ca-file",
    note: TLS_NOTE,
  }),
  f(
    SECURITY,
    "peer-cert-allowed-cn",
    "strings",
    "",
    T,
    ["Comma-separated list of allowed CNs for inter-peer TLS authentication."],
    { yaml: "peer-transport-security.allowed-cn", note: TLS_NOTE },
  ),
  f(
    SECURITY,
    "peer-cert-allowed-hostname",
    "strings",
    "",
    T,
    ["Comma-separated list of allowed SAN hostnames for inter-peer TLS authentication."],
    { yaml: "peer-transport-security.allowed-hostname", note: TLS_NOTE },
  ),
  f(
    SECURITY,
    "peer-auto-tls",
    "bool",
    "false",
    T,
    ["Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided."],
    { yaml: "peer-transport-security.auto-tls", note: TLS_NOTE },
  ),
  f(
    SECURITY,
    "peer-client-cert-file",
    "string",
    "",
    T,
    [
      "Path to an explicit peer client TLS cert file otherwise peer cert file will be used when client auth is required.",
    ],
    { yaml: "peer-transport-security.client-cert-file", note: TLS_NOTE },
  ),
  f(
    SECURITY,
    "peer-client-key-file",
    "string",
    "",
    T,
    [
      "Path to an explicit peer client TLS key file otherwise peer key file will be used when client auth is required.",
    ],
    { yaml: "peer-transport-security.client-key-file", note: TLS_NOTE },
  ),
  f(SECURITY, "self-signed-cert-validity", "uint", "1", T, [
    "The validity period of the client and peer certificates that are automatically generated by etcd when you specify ClientAutoTLS and PeerAutoTLS, the unit is year, and the default is 1.",
  ]),
  f(SECURITY, "peer-crl-file", "string", "", T, ["Path to the peer certificate revocation list file."], {
    yaml: null,
    note: TLS_NOTE,
  }),
  f(SECURITY, "cipher-suites", "strings", "", T, [
    "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go).",
  ]),
  f(SECURITY, "cors", "cors", "*", F, [
    "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all).",
  ]),
  f(SECURITY, "host-whitelist", "uniqueStrings", "*", F, [
    "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all).",
  ]),
  f(SECURITY, "tls-min-version", "string", "TLS1.2", T, [
    "Minimum TLS version supported by etcd. Possible values: TLS1.2, TLS1.3.",
  ]),
  f(SECURITY, "tls-max-version", "string", "", T, [
    "Maximum TLS version supported by etcd. Possible values: TLS1.2, TLS1.3 (empty will be auto-populated by Go).",
  ]),
  // Auth
  f(AUTH, "auth-token", "string", "simple", T, [
    "Specify a v3 authentication token type and its options ('simple' or 'jwt').",
  ]),
  f(
    AUTH,
    "bcrypt-cost",
    "uint",
    "10",
    T,
    [
      "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31.",
    ],
    { shown: "10" },
  ),
  f(AUTH, "auth-token-ttl", "uint", "300", T, ["Time (in seconds) of the auth-token-ttl."], { shown: "300" }),

  // Profiling and Monitoring
  f(PROFILING, "enable-pprof", "bool", "false", F, [
    'Enable runtime profiling data via HTTP server. Address is at client URL + "/debug/pprof/"',
  ]),
  f(PROFILING, "metrics", "string", "basic", T, [
    "Set level of detail for exported metrics, specify 'extensive' to include server side grpc histogram metrics.",
  ]),
  f(PROFILING, "listen-metrics-urls", "urls", "", T, [
    "List of URLs to listen on for the /metrics and /health endpoints. For https, the client URL TLS info is used.",
  ]),

  // Logging
  f(LOGGING, "logger", "string", "zap", T, ["Currently only supports 'zap' for structured logging."]),
  f(LOGGING, "log-outputs", "uniqueStrings", "default", T, [
    "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets.",
  ]),
  f(LOGGING, "log-level", "string", "info", T, [
    "Configures log level. Only supports debug, info, warn, error, panic, or fatal.",
  ]),
  f(LOGGING, "enable-log-rotation", "bool", "false", F, [
    "Enable log rotation of a single log-outputs file target.",
  ]),
  f(
    LOGGING,
    "log-rotation-config-json",
    "string",
    '{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}',
    F,
    [
      "Configures log rotation if enabled with a JSON logger config. MaxSize(MB), MaxAge(days,0=no limit), MaxBackups(0=no limit), LocalTime(use computers local time), Compress(gzip)",
    ],
  ),

  // Experimental distributed tracing
  f(TRACING, "experimental-enable-distributed-tracing", "bool", "false", F, [
    "Enable experimental distributed tracing.",
  ]),
  f(TRACING, "experimental-distributed-tracing-address", "string", "localhost:4317", F, [
    "Distributed tracing collector address.",
  ]),
  f(TRACING, "experimental-distributed-tracing-service-name", "string", "etcd", F, [
    "Distributed tracing service name, must be same across all etcd instances.",
  ]),
  f(TRACING, "experimental-distributed-tracing-instance-id", "string", "", F, [
    "Distributed tracing instance ID, must be unique per each etcd instance.",
  ]),
  f(TRACING, "experimental-distributed-tracing-sampling-rate", "int", "0", F, [
    "Number of samples to collect per million spans for distributed tracing. Disabled by default.",
  ]),

  // v2 Proxy
  f(PROXY, "proxy", "select", "off", F, ["Proxy mode setting ('off', 'readonly' or 'on')."], {
    choices: ["off", "readonly", "on"],
  }),
  f(
    PROXY,
    "proxy-failure-wait",
    "uint",
    "5000",
    F,
    ["Time (in milliseconds) an endpoint will be held in a failed state."],
    { shown: "5000" },
  ),
  f(
    PROXY,
    "proxy-refresh-interval",
    "uint",
    "30000",
    F,
    ["Time (in milliseconds) of the endpoints refresh interval."],
    { shown: "30000" },
  ),
  f(PROXY, "proxy-dial-timeout", "uint", "1000", F, ["Time (in milliseconds) for a dial to timeout."], {
    shown: "1000",
  }),
  f(PROXY, "proxy-write-timeout", "uint", "5000", F, ["Time (in milliseconds) for a write to timeout."], {
    shown: "5000",
  }),
  f(PROXY, "proxy-read-timeout", "uint", "0", F, ["Time (in milliseconds) for a read to timeout."], {
    shown: "0",
  }),

  // Experimental feature
  f(EXPERIMENTAL, "experimental-max-learners", "int", "1", T, [
    "Sets the maximum number of learners that can be available in the cluster membership.",
  ]),
  f(EXPERIMENTAL, "experimental-initial-corrupt-check", "bool", "true", T, [
    "Enable to check data corruption before serving any client/peer traffic.",
    "etcd-ts: on by default (etcd: false).",
  ]),
  f(EXPERIMENTAL, "experimental-corrupt-check-time", "duration", "10m", T, [
    "Duration of time between cluster corruption check passes.",
    "etcd-ts: every 10m by default (etcd: 0s, never); 0s disables.",
  ]),
  f(EXPERIMENTAL, "experimental-compact-hash-check-enabled", "bool", "false", F, [
    "Enable leader to periodically check followers compaction hashes.",
  ]),
  f(EXPERIMENTAL, "experimental-compact-hash-check-time", "duration", "1m", F, [
    "Duration of time between leader checks followers compaction hashes.",
  ]),
  f(EXPERIMENTAL, "experimental-enable-v2v3", "string", "", F, [
    "Serve v2 requests through the v3 backend under a given prefix. Deprecated and to be decommissioned in v3.6.",
  ]),
  f(EXPERIMENTAL, "experimental-enable-lease-checkpoint", "bool", "false", F, [
    "ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases.",
  ]),
  f(EXPERIMENTAL, "experimental-enable-lease-checkpoint-persist", "bool", "false", F, [
    "Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases. Always enabled in v3.6. Should be used to ensure smooth upgrade from v3.5 clusters with this feature enabled. Requires experimental-enable-lease-checkpoint to be enabled.",
  ]),
  f(
    EXPERIMENTAL,
    "experimental-compaction-batch-limit",
    "int",
    "0",
    F,
    ["ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch."],
    { shown: "1000" },
  ),
  f(
    EXPERIMENTAL,
    "experimental-compaction-sleep-interval",
    "duration",
    "0s",
    F,
    ["ExperimentalCompactionSleepInterval sets the sleep interval between each compaction batch."],
    { shown: "'10ms'" },
  ),
  f(
    EXPERIMENTAL,
    "experimental-peer-skip-client-san-verification",
    "bool",
    "false",
    T,
    ["Skip verification of SAN field in client certificate for peer connections."],
    { yaml: null },
  ),
  f(
    EXPERIMENTAL,
    "experimental-watch-progress-notify-interval",
    "duration",
    "0s",
    F,
    ["Duration of periodical watch progress notification."],
    { shown: "'10m'" },
  ),
  f(
    EXPERIMENTAL,
    "experimental-downgrade-check-time",
    "duration",
    "5s",
    F,
    ["Duration of time between two downgrade status checks."],
    { shown: "" },
  ),
  f(
    EXPERIMENTAL,
    "experimental-memory-mlock",
    "bool",
    "false",
    F,
    ["Enable to enforce etcd pages (in particular bbolt) to stay in RAM."],
    { shown: "" },
  ),
  f(EXPERIMENTAL, "experimental-warning-apply-duration", "duration", "100ms", F, [
    "Warning is generated if requests take more than this duration.",
  ]),
  f(EXPERIMENTAL, "experimental-txn-mode-write-with-shared-buffer", "bool", "true", F, [
    "Enable the write transaction to use a shared buffer in its readonly check operations.",
  ]),
  f(
    EXPERIMENTAL,
    "experimental-bootstrap-defrag-threshold-megabytes",
    "uint",
    "0",
    F,
    [
      "Enable the defrag during etcd server bootstrap on condition that it will free at least the provided threshold of disk space. Needs to be set to non-zero value to take effect.",
    ],
    { shown: "" },
  ),
  f(
    EXPERIMENTAL,
    "experimental-stop-grpc-service-on-defrag",
    "bool",
    "false",
    F,
    ["Enable etcd gRPC service to stop serving client requests on defragmentation."],
    { shown: "" },
  ),
  f(
    EXPERIMENTAL,
    "experimental-snapshot-catchup-entries",
    "uint64",
    "5000",
    T,
    [
      "(WARNING: Use this flag with caution!) Number of entries for a slow follower to catch up after compacting the raft storage entries.",
    ],
    { yaml: "experimental-snapshot-catch-up-entries" },
  ),

  // Unsafe feature
  f(UNSAFE, "force-new-cluster", "bool", "false", T, ["Force to create a new one-member cluster."]),
  f(UNSAFE, "unsafe-no-fsync", "bool", "false", F, ["Disables fsync, unsafe, will cause data loss."]),

  // etcd-ts's own
  f(BACKUPS, "backup-interval", "duration", "0s", T, [
    "etcd-ts: save a snapshot of this member's data (as 'etcdctl snapshot save' does) every interval. 0 disables.",
  ]),
  f(BACKUPS, "backup-dir", "string", "", T, [
    "etcd-ts: directory for scheduled backups (default '<data-dir>/backups'); best on another disk.",
  ]),
  f(BACKUPS, "backup-retention", "uint", "24", T, [
    "etcd-ts: number of newest scheduled backups to keep (0 keeps all).",
  ]),

  ...IGNORED_FLAGS.map((name) => f(undefined, name, "ignored", "", T, [], { yaml: null })),
];

export const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((s) => [s.name, s]));

/** etcd's flags.FlagToEnv: ETCD_ + upper-cased name with dashes as underscores. */
export function flagToEnv(name: string): string {
  return `ETCD_${name.replaceAll("-", "_").toUpperCase()}`;
}

/** etcd's usage text (written to stderr with --help and after a flag error). */
export const USAGE = `Usage:

  etcd [flags]
    Start an etcd server.

  etcd --version
    Show the version of etcd.

  etcd -h | --help
    Show the help information about etcd.

  etcd --config-file
    Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.

  etcd gateway
    Run the stateless pass-through etcd TCP connection forwarding proxy.

  etcd grpc-proxy
    Run the stateless etcd v3 gRPC L7 reverse proxy.
`;

const NOT_IMPLEMENTED_MARK = "  [not implemented yet in etcd-ts: accepted and ignored]";

/** The grouped flag list `etcd --help` prints to stdout, laid out as etcd's. */
export function helpText(): string {
  const sections = GROUPS.map((group) => {
    const lines = [`${group}:`];
    for (const spec of FLAGS) {
      if (spec.group !== group) continue;
      const shown = spec.shown ?? `'${spec.def}'`;
      lines.push(
        `  --${spec.name}${shown === "" ? "" : ` ${shown}`}${spec.implemented ? "" : NOT_IMPLEMENTED_MARK}`,
      );
      for (const h of spec.help) lines.push(`    ${h}`);
    }
    return `${lines.join("\n")}\n`;
  });
  return `\n${sections.join("\n")}\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n`;
}
