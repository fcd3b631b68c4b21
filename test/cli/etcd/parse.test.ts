import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  FLAGS,
  flagToEnv,
  helpText,
  USAGE,
  verifyBootstrap,
  versionText,
} from "../../../src/cli/etcd/index.js";
import { defaultServerConfig, ETCD_TS_VERSION } from "../../../src/server/config.js";
import { config, configError, flagError, NOW, parse, urlStrings } from "./helpers.js";

// etcd's clustering guide, static bootstrap of three members (infra0 as seen by itself).
const INITIAL_CLUSTER =
  "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380";
const GUIDE_INFRA0 = [
  "--name",
  "infra0",
  "--initial-advertise-peer-urls",
  "http://10.0.1.10:2380",
  "--listen-peer-urls",
  "http://10.0.1.10:2380",
  "--listen-client-urls",
  "http://10.0.1.10:2379,http://127.0.0.1:2379",
  "--advertise-client-urls",
  "http://10.0.1.10:2379",
  "--initial-cluster-token",
  "etcd-cluster-1",
  "--initial-cluster",
  INITIAL_CLUSTER,
  "--initial-cluster-state",
  "new",
];

test("defaults: no flags and no environment give etcd 3.5's defaults", () => {
  const r = parse([]);
  assert.equal(r.exit, undefined);
  const c = r.config!;
  assert.deepEqual(JSON.parse(JSON.stringify(c)), JSON.parse(JSON.stringify(defaultServerConfig())));
  assert.equal(c.name, "default");
  assert.equal(c.dataDir, "default.etcd");
  assert.equal(c.walDir, "");
  assert.deepEqual(urlStrings(c.listenClientUrls), ["http://localhost:2379"]);
  assert.deepEqual(urlStrings(c.advertiseClientUrls), ["http://localhost:2379"]);
  assert.deepEqual(urlStrings(c.listenPeerUrls), ["http://localhost:2380"]);
  assert.deepEqual(urlStrings(c.initialAdvertisePeerUrls), ["http://localhost:2380"]);
  assert.deepEqual(c.initialCluster, [{ name: "default", peerUrls: ["http://localhost:2380"] }]);
  assert.equal(c.initialClusterToken, "etcd-cluster");
  assert.equal(c.initialClusterState, "new");
  assert.equal(c.heartbeatMs, 100);
  assert.equal(c.electionMs, 1000);
  assert.equal(c.snapshotCount, 100000);
  assert.equal(c.snapshotCatchUpEntries, 5000);
  assert.equal(c.maxSnapshots, 5);
  assert.equal(c.maxWals, 5);
  assert.equal(c.quotaBackendBytes, 2 * 1024 ** 3);
  assert.equal(c.maxRequestBytes, 1.5 * 1024 * 1024);
  assert.equal(c.maxTxnOps, 128);
  assert.equal(c.preVote, true);
  assert.equal(c.strictReconfigCheck, true);
  assert.equal(c.backendBatchIntervalMs, 100);
  assert.equal(c.backendBatchLimit, 10000);
  assert.equal(c.logger, "zap");
  assert.equal(c.logLevel, "info");
  assert.deepEqual(c.logOutputs, ["default"]);
  assert.equal(c.enableV2, false);
  assert.equal(c.forceNewCluster, false);
  assert.equal(c.autoCompactionMode, "periodic");
  assert.equal(c.autoCompactionRetention, "0");
  assert.deepEqual(c.unimplementedFlags, {});
  assert.deepEqual(r.warnings, ["'data-dir' was empty; using default: default.etcd"]);
});

test("defaults: --name alone moves the data dir and the one-member initial cluster to that name", () => {
  const c = config(["--name", "solo"]);
  assert.equal(c.dataDir, "solo.etcd");
  assert.deepEqual(c.initialCluster, [{ name: "solo", peerUrls: ["http://localhost:2380"] }]);
  const c2 = config([
    "--name",
    "solo",
    "--initial-advertise-peer-urls",
    "http://127.0.0.1:2380,http://127.0.0.1:3380",
  ]);
  assert.deepEqual(c2.initialCluster, [
    { name: "solo", peerUrls: ["http://127.0.0.1:2380", "http://127.0.0.1:3380"] },
  ]);
});

test("flag syntax: --flag value, --flag=value, -flag value, -flag=value; the last one given wins", () => {
  for (const argv of [
    ["--name", "a"],
    ["--name=a"],
    ["-name", "a"],
    ["-name=a"],
    ["--name", "x", "--name=a"],
  ]) {
    assert.equal(config(argv).name, "a", argv.join(" "));
  }
  assert.equal(config(["--name", "-dash-"]).name, "-dash-"); // a value may start with a dash
  assert.equal(config(["--data-dir="]).dataDir, "default.etcd"); // empty = default
  assert.equal(config(["--data-dir", "/var/lib/etcd", "--wal-dir", "/wal"]).walDir, "/wal");
});

test("flag syntax: booleans take no value, or =value; numbers as Go reads them", () => {
  assert.equal(config(["--pre-vote=false"]).preVote, false);
  assert.equal(config(["--pre-vote=0"]).preVote, false);
  assert.equal(config(["--strict-reconfig-check=F"]).strictReconfigCheck, false);
  assert.equal(config(["--force-new-cluster"]).forceNewCluster, true);
  assert.equal(config(["--enable-v2"]).enableV2, true);
  const c = config(["--heartbeat-interval", "0x64", "--election-timeout=1_500", "--snapshot-count", "010"]);
  assert.equal(c.heartbeatMs, 100);
  assert.equal(c.electionMs, 1500);
  assert.equal(c.snapshotCount, 8); // Go reads a leading 0 as octal
  // `--pre-vote false`: "false" is not the flag's value but the first non-flag argument
  configError(["--pre-vote", "false"], "'false' is not a valid flag");
  // everything after `--` is an argument
  configError(["--name", "a", "--", "--name", "b"], "'--name' is not a valid flag");
});

test("flags that take effect reach the ServerConfig", () => {
  const c = config([
    "--name=m1",
    "--data-dir=/d",
    "--wal-dir=/w",
    "--listen-peer-urls=http://127.0.0.1:2380,http://127.0.0.1:2480",
    "--initial-advertise-peer-urls=http://127.0.0.1:2380,http://127.0.0.1:2480",
    "--initial-cluster=m1=http://127.0.0.1:2380,m1=http://127.0.0.1:2480",
    "--initial-cluster-token=tok",
    "--initial-cluster-state=existing",
    "--heartbeat-interval=50",
    "--election-timeout=500",
    "--snapshot-count=1000",
    "--experimental-snapshot-catchup-entries=100",
    "--max-snapshots=2",
    "--max-wals=0",
    "--quota-backend-bytes=1073741824",
    "--max-request-bytes=10000",
    "--max-txn-ops=64",
    "--pre-vote=false",
    "--strict-reconfig-check=false",
    "--backend-batch-interval=10ms",
    "--backend-batch-limit=100",
    "--log-level=debug",
    "--log-outputs=stdout",
    "--logger=zap",
    "--enable-v2=true",
    "--force-new-cluster",
    "--auto-compaction-mode=revision",
    "--auto-compaction-retention=1000",
  ]);
  assert.equal(c.name, "m1");
  assert.equal(c.dataDir, "/d");
  assert.equal(c.walDir, "/w");
  assert.deepEqual(urlStrings(c.listenPeerUrls), ["http://127.0.0.1:2380", "http://127.0.0.1:2480"]);
  assert.deepEqual(c.initialCluster, [
    { name: "m1", peerUrls: ["http://127.0.0.1:2380", "http://127.0.0.1:2480"] },
  ]);
  assert.equal(c.initialClusterToken, "tok");
  assert.equal(c.initialClusterState, "existing");
  assert.equal(c.heartbeatMs, 50);
  assert.equal(c.electionMs, 500);
  assert.equal(c.snapshotCount, 1000);
  assert.equal(c.snapshotCatchUpEntries, 100);
  assert.equal(c.maxSnapshots, 2);
  assert.equal(c.maxWals, 0);
  assert.equal(c.quotaBackendBytes, 1073741824);
  assert.equal(c.maxRequestBytes, 10000);
  assert.equal(c.maxTxnOps, 64);
  assert.equal(c.preVote, false);
  assert.equal(c.strictReconfigCheck, false);
  assert.equal(c.backendBatchIntervalMs, 10);
  assert.equal(c.backendBatchLimit, 100);
  assert.equal(c.logLevel, "debug");
  assert.deepEqual(c.logOutputs, ["stdout"]);
  assert.equal(c.enableV2, true);
  assert.equal(c.forceNewCluster, true);
  assert.equal(c.autoCompactionMode, "revision");
  assert.equal(c.autoCompactionRetention, "1000");
  assert.equal(config(["--quota-backend-bytes=-1"]).quotaBackendBytes, -1); // negative disables, as etcd
  assert.equal(config(["--snapshot-count=0"]).snapshotCount, 100000); // 0 = default, as etcd
});

test("several URLs: sorted and without duplicates, as etcd keeps them; an empty value keeps the default", () => {
  const c = config([
    "--listen-client-urls",
    "http://127.0.0.1:2379,http://10.0.0.1:2379,http://127.0.0.1:2379",
    "--advertise-client-urls",
    "http://10.0.0.1:2379, http://localhost:2379",
    "--listen-peer-urls",
    "",
  ]);
  assert.deepEqual(urlStrings(c.listenClientUrls), ["http://10.0.0.1:2379", "http://127.0.0.1:2379"]);
  assert.deepEqual(urlStrings(c.advertiseClientUrls), ["http://10.0.0.1:2379", "http://localhost:2379"]);
  assert.deepEqual(urlStrings(c.listenPeerUrls), ["http://localhost:2380"]);
  const v6 = config(["--listen-client-urls=http://[::1]:2379", "--advertise-client-urls=http://[::1]:2379"]);
  assert.deepEqual(urlStrings(v6.listenClientUrls), ["http://[::1]:2379"]);
});

test("the clustering guide's three-member static bootstrap parses to the right ServerConfig", () => {
  const c = config(GUIDE_INFRA0);
  assert.equal(c.name, "infra0");
  assert.equal(c.dataDir, "infra0.etcd");
  assert.deepEqual(urlStrings(c.initialAdvertisePeerUrls), ["http://10.0.1.10:2380"]);
  assert.deepEqual(urlStrings(c.listenPeerUrls), ["http://10.0.1.10:2380"]);
  assert.deepEqual(urlStrings(c.listenClientUrls), ["http://10.0.1.10:2379", "http://127.0.0.1:2379"]);
  assert.deepEqual(urlStrings(c.advertiseClientUrls), ["http://10.0.1.10:2379"]);
  assert.equal(c.initialClusterToken, "etcd-cluster-1");
  assert.equal(c.initialClusterState, "new");
  assert.deepEqual(c.initialCluster, [
    { name: "infra0", peerUrls: ["http://10.0.1.10:2380"] },
    { name: "infra1", peerUrls: ["http://10.0.1.11:2380"] },
    { name: "infra2", peerUrls: ["http://10.0.1.12:2380"] },
  ]);
  // The same through the environment, as the guide's systemd units do.
  const env: Record<string, string> = {};
  for (let i = 0; i < GUIDE_INFRA0.length; i += 2) {
    env[flagToEnv(GUIDE_INFRA0[i]!.slice(2))] = GUIDE_INFRA0[i + 1]!;
  }
  assert.equal(env.ETCD_INITIAL_CLUSTER, INITIAL_CLUSTER);
  const r = parse([], env);
  assert.deepEqual(r.warnings, ["'data-dir' was empty; using default: infra0.etcd"]);
  assert.deepEqual(JSON.parse(JSON.stringify(r.config)), JSON.parse(JSON.stringify(c)));
});

test("environment: every flag as ETCD_*; the command line wins with a warning; unknown ETCD_* warned", () => {
  assert.equal(flagToEnv("initial-cluster-token"), "ETCD_INITIAL_CLUSTER_TOKEN");
  const c = config([], {
    ETCD_NAME: "envname",
    ETCD_HEARTBEAT_INTERVAL: "200",
    ETCD_ELECTION_TIMEOUT: "2000",
  });
  assert.equal(c.name, "envname");
  assert.equal(c.heartbeatMs, 200);
  assert.equal(c.electionMs, 2000);
  assert.equal(config([], { ETCD_PRE_VOTE: "false", ETCD_FORCE_NEW_CLUSTER: "true" }).preVote, false);
  assert.equal(config([], { ETCD_NAME: "" }).name, "default"); // empty variables are not used

  const r = parse(["--name", "flagname"], { ETCD_NAME: "envname", ETCD_FOO: "1", HOME: "/root" });
  assert.equal(r.config?.name, "flagname");
  assert.deepEqual(r.warnings, [
    "recognized environment variable ETCD_NAME, but unused: shadowed by corresponding flag",
    "unrecognized environment variable ETCD_FOO=1",
    "'data-dir' was empty; using default: flagname.etcd",
  ]);
  // etcd 3.4 and 3.5 refuse the conflict instead; that behaviour is one option away.
  configError(
    ["--name", "flagname"],
    'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)',
    { ETCD_NAME: "envname" },
    { envConflict: "error" },
  );
  // ETCD_VERSION is not a way to ask for the version.
  const v = parse([], { ETCD_VERSION: "true" });
  assert.ok(v.config);
  assert.ok(v.warnings.includes("cannot set special environment variable ETCD_VERSION=true"));
  // A bad value in the environment is a configuration error (exit 1), not a flag error.
  configError([], 'invalid value "abc" for ETCD_HEARTBEAT_INTERVAL: parse error', {
    ETCD_HEARTBEAT_INTERVAL: "abc",
  });
  configError([], 'invalid value "maybe" for ETCD_PRE_VOTE: parse error', {
    ETCD_PRE_VOTE: "maybe",
    ETCD_LISTEN_PEER_URLS: "bad", // etcd reports the last failing variable in flag-name order
  });
});

test("every flag etcd 3.5 defines is accepted, on the command line and in the environment", () => {
  const sample: Record<string, string> = {
    bool: "true",
    uint: "7",
    uint64: "7",
    int: "7",
    int64: "7",
    uint32: "7",
    duration: "3s",
    urls: "http://127.0.0.1:9999",
    cors: "http://127.0.0.1:9999",
    strings: "a,b",
    uniqueStrings: "a,b",
    ignored: "true",
    string: "x",
  };
  const special: Record<string, string> = {
    "initial-cluster-state": "new",
    "discovery-fallback": "exit",
    proxy: "off",
    "v2-deprecation": "not-yet",
    "auto-compaction-mode": "periodic",
    "auto-compaction-retention": "1h",
    "initial-cluster": INITIAL_CLUSTER,
    "initial-advertise-peer-urls": "http://10.0.1.10:2380",
    "advertise-client-urls": "http://127.0.0.1:2379",
    name: "infra0",
    "log-level": "info",
    "log-outputs": "stderr",
    logger: "zap",
    "tls-min-version": "TLS1.2",
    "tls-max-version": "TLS1.3",
    "heartbeat-interval": "100",
    "election-timeout": "1000",
    discovery: "",
    "discovery-srv": "",
    "discovery-srv-name": "",
    // (etcd 3.6's v3 discovery flags need each other and conflict with --initial-cluster: test/discovery)
    "discovery-token": "",
    "discovery-endpoints": "",
    "experimental-enable-lease-checkpoint-persist": "false",
    "experimental-compact-hash-check-time": "1m",
    "cipher-suites": "",
    version: "false",
    "config-file": "",
  };
  for (const spec of FLAGS) {
    const value = special[spec.name] ?? sample[spec.kind]!;
    const argv = [...(spec.name === "name" ? [] : GUIDE_INFRA0), `--${spec.name}=${value}`];
    const r = parse(argv);
    assert.equal(r.exit, undefined, `--${spec.name}=${value}: ${JSON.stringify(r.exit)}`);
    const e = parse(spec.name === "name" ? [] : GUIDE_INFRA0, { [flagToEnv(spec.name)]: value });
    assert.equal(e.exit, undefined, `${flagToEnv(spec.name)}=${value}: ${JSON.stringify(e.exit)}`);
    if (value !== "") {
      // (an empty variable is not used, and etcd then calls it unrecognized)
      assert.ok(!e.warnings.some((w) => w.startsWith("unrecognized")), flagToEnv(spec.name));
    }
  }
});

test("flags etcd accepts but etcd-ts does not implement: one warning each, values kept for later", () => {
  const r = parse([
    "--experimental-enable-distributed-tracing",
    "--experimental-distributed-tracing-address=collector:4317",
    "--metrics=extensive",
    "--snapshot",
    "--enable-v2",
  ]);
  assert.ok(r.config);
  assert.deepEqual(r.config.unimplementedFlags, {
    "experimental-enable-distributed-tracing": "true",
    "experimental-distributed-tracing-address": "collector:4317",
  });
  assert.equal(r.config.metrics, "extensive");
  assert.deepEqual(r.warnings, [
    "--enable-v2 is deprecated in 3.5 and will be decommissioned in 3.6.",
    "'data-dir' was empty; using default: default.etcd",
    "--experimental-enable-distributed-tracing=true is accepted but not implemented yet in etcd-ts; ignoring it",
    "--experimental-distributed-tracing-address=collector:4317 is accepted but not implemented yet in etcd-ts; ignoring it",
    "flag --snapshot is no longer supported - ignoring",
  ]);
  // Set to their defaults, they are not worth a warning.
  const quiet = parse([
    "--experimental-enable-distributed-tracing=false",
    "--metrics=basic",
    "--initial-election-tick-advance=true",
  ]);
  assert.deepEqual(quiet.warnings, ["'data-dir' was empty; using default: default.etcd"]);
  assert.deepEqual(quiet.config?.unimplementedFlags, {});
});

test("unknown flags are rejected as Go's flag package rejects them: exit 2, message, then the usage", () => {
  const r = flagError(["--foo"], "flag provided but not defined: -foo");
  assert.equal(r.exit?.stderr, `flag provided but not defined: -foo\n${USAGE}\n`);
  assert.equal(r.exit?.stdout, undefined);
  flagError(["-foo=1"], "flag provided but not defined: -foo");
  flagError(["--debug"], "flag provided but not defined: -debug"); // etcd 3.4's, removed in 3.5
  flagError(["--log-package-levels=x"], "flag provided but not defined: -log-package-levels");
  flagError(["--name"], "flag needs an argument: -name");
  flagError(["---foo"], "bad flag syntax: ---foo");
  flagError(["-=x"], "bad flag syntax: -=x");
  flagError(["--heartbeat-interval", "abc"], 'invalid value "abc" for flag -heartbeat-interval: parse error');
  flagError(["--heartbeat-interval", "-1"], 'invalid value "-1" for flag -heartbeat-interval: parse error');
  flagError(
    ["--heartbeat-interval", "99999999999999999999999"],
    'invalid value "99999999999999999999999" for flag -heartbeat-interval: value out of range',
  );
  flagError(["--pre-vote=maybe"], 'invalid boolean value "maybe" for -pre-vote: parse error');
  flagError(
    ["--initial-cluster-state", "bogus"],
    'invalid value "bogus" for flag -initial-cluster-state: invalid value',
  );
  flagError(
    ["--backend-batch-interval", "100"],
    'invalid value "100" for flag -backend-batch-interval: parse error',
  );
  flagError(
    ["--max-concurrent-streams", "99999999999"],
    'invalid value "99999999999" for flag -max-concurrent-streams: strconv.ParseUint: parsing "99999999999": value out of range',
  );
  flagError(
    ["--v2-deprecation", "soon"],
    'invalid value "soon" for flag -v2-deprecation: invalid value "soon"',
  );
  flagError(
    ["--listen-peer-urls", "localhost:2380"],
    'invalid value "localhost:2380" for flag -listen-peer-urls: URL scheme must be http, https, unix, or unixs: localhost:2380',
  );
  flagError(
    ["--listen-client-urls", "http://127.0.0.1:2379/v3"],
    'invalid value "http://127.0.0.1:2379/v3" for flag -listen-client-urls: URL must not contain a path: http://127.0.0.1:2379/v3',
  );
  flagError(
    ["--advertise-client-urls", "http://127.0.0.1"],
    'invalid value "http://127.0.0.1" for flag -advertise-client-urls: URL address does not have the form "host:port": http://127.0.0.1',
  );
  flagError(
    ["--cors", "*,http://a:1"],
    'invalid value "*,http://a:1" for flag -cors: URL scheme must be http, https, unix, or unixs: *',
  );
});

test("--help and -h: the usage on stderr, the grouped flags on stdout, exit 0", () => {
  for (const argv of [["--help"], ["-h"], ["-help"], ["--name", "x", "--help=1"]]) {
    const r = parse(argv);
    assert.equal(r.exit?.code, 0);
    assert.equal(r.exit?.stderr, `${USAGE}\n`);
    assert.equal(r.exit?.stdout, `${helpText()}\n`);
  }
  const help = helpText();
  const groups = [...help.matchAll(/^(\S.*):$/gm)].map((m) => m[1]);
  assert.deepEqual(groups, [
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
  ]);
  assert.ok(help.includes("  --backup-interval '0s'\n"));
  assert.ok(help.startsWith("\nMember:\n  --name 'default'\n    Human-readable name for this member.\n"));
  assert.ok(help.includes(`  --data-dir '$\{name}.etcd'\n`));
  assert.ok(help.includes("  --max-request-bytes '1572864'\n"));
  assert.ok(help.includes("  --pre-vote 'true'\n"));
  assert.ok(help.includes("  --auto-tls 'false'\n"));
  assert.ok(
    help.includes("  --enable-pprof 'false'  [not implemented yet in etcd-ts: accepted and ignored]\n"),
  );
  assert.ok(
    help.endsWith(
      "CAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n",
    ),
  );
  // A flag error comes first: Go stops at it.
  assert.equal(parse(["--foo", "--help"]).exit?.code, 2);
});

test("--version: etcd's layout with our values, exit 0; it needs no valid configuration", () => {
  const r = parse(
    ["--version", "--heartbeat-interval=0"],
    {},
    { nodeVersion: "v20.1.2", platform: "linux", arch: "x64" },
  );
  assert.deepEqual(r.exit, {
    code: 0,
    stdout:
      "etcd Version: 3.5.17\nGit SHA: Not provided (etcd-ts)\netcd-ts Version: 0.1.0\nNode Version: v20.1.2\nNode OS/Arch: linux/x64\n",
  });
  assert.equal(versionText().split("\n")[0], "etcd Version: 3.5.17");
  assert.equal(parse(["--version=false"]).exit, undefined);
  const pkg = JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8"));
  assert.equal(ETCD_TS_VERSION, pkg.version);
});

test("validation errors carry etcd's messages (exit 1, logged as etcd 3.5 logs them)", () => {
  const r = configError(
    ["--heartbeat-interval", "300"],
    "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]",
  );
  assert.equal(
    r.exit?.stderr,
    `${JSON.stringify({ level: "warn", ts: NOW.toISOString(), msg: "failed to verify flags", error: "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]" })}\n`,
  );
  config(["--heartbeat-interval", "200"]); // exactly 5 x is fine
  configError(["--heartbeat-interval", "0"], "--heartbeat-interval must be >0 (set to 0ms)");
  configError(["--election-timeout", "0"], "--election-timeout must be >0 (set to 0ms)");
  configError(
    ["--election-timeout", "60000", "--heartbeat-interval", "1000"],
    "--election-timeout[60000ms] is too long, and should be set less than 50000ms",
  );
  config(["--election-timeout", "50000", "--heartbeat-interval", "1000"]);
  configError(["extra-arg"], "'extra-arg' is not a valid flag");
  configError(
    ["--listen-client-urls", "http://127.0.0.1:2379"],
    "--advertise-client-urls is required when --listen-client-urls is set explicitly",
  );
  configError(
    ["--listen-client-urls", "http://example.com:2379", "--advertise-client-urls", "http://example.com:2379"],
    "expected IP in URL for binding (http://example.com:2379)",
  );
  configError(["--listen-peer-urls", "http://:2380"], "expected IP in URL for binding (http://:2380)");
  configError(
    ["--advertise-client-urls", "http://:2379"],
    '--advertise-client-urls "http://:2379" must be "host:port" (unexpected empty host (http://:2379))',
  );
  configError(
    ["--initial-advertise-peer-urls", "http://:2380"],
    '--initial-advertise-peer-urls "http://:2380" must be "host:port" (unexpected empty host (http://:2380))',
  );
  configError(
    ["--discovery", "https://discovery.etcd.io/x", "--initial-cluster", "default=http://localhost:2380"],
    'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
  );
  configError(["--auto-compaction-mode", "foo"], 'unknown auto-compaction-mode "foo"');
  configError(
    ["--auto-compaction-retention", "abc"],
    'error parsing CompactionRetention: time: invalid duration "abc"',
  );
  config(["--auto-compaction-retention", "5m"]);
  configError(["--logger", "capnslog"], "--logger=capnslog is removed in v3.5");
  configError(["--logger", "foo"], 'unknown logger option "foo"');
  configError(["--log-level", "verbose"], 'unrecognized level: "verbose"');
  configError(["--log-outputs", "default,stderr"], 'multi logoutput for "default" is not supported yet');
  configError(
    ["--experimental-enable-lease-checkpoint-persist"],
    "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint",
  );
  configError(
    ["--experimental-compact-hash-check-time", "0s"],
    "--experimental-compact-hash-check-time must be >0 (set to 0s)",
  );
  configError(
    ["--tls-min-version", "TLS1.0"],
    'unexpected TLS version "TLS1.0" (must be one of: TLS1.2, TLS1.3)',
  );
  configError(
    ["--listen-client-urls", "https://127.0.0.1:2379", "--advertise-client-urls", "https://127.0.0.1:2379"],
    "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme",
  );
  configError(
    ["--enable-v2", "--v2-deprecation", "write-only"],
    "--enable-v2 and --v2-deprecation=write-only are mutually exclusive",
  );
  const gw = parse(["gateway", "start"]);
  assert.equal(gw.exit?.code, 1);
  assert.equal(gw.exit?.error, "etcd gateway is not implemented in etcd-ts");
});

test("bootstrap checks: name in --initial-cluster, advertised peer URLs match its entry, no duplicate URL", () => {
  const base = ["--listen-peer-urls", "http://127.0.0.1:2380", "--name", "x"];
  const r = configError(
    [...base, "--initial-cluster", "y=http://127.0.0.1:2380"],
    'couldn\'t find local name "x" in the initial cluster configuration',
  );
  assert.match(r.exit?.stderr ?? "", /"msg":"failed to start etcd"/);
  configError(
    [...base, "--initial-cluster", ""],
    'couldn\'t find local name "x" in the initial cluster configuration',
  );
  configError(
    [
      ...base,
      "--initial-advertise-peer-urls",
      "http://127.0.0.1:2380",
      "--initial-cluster",
      "x=http://127.0.0.1:2381",
    ],
    '--initial-cluster has x=http://127.0.0.1:2381 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2380 (resolved urls: "http://127.0.0.1:2380" != "http://127.0.0.1:2381")',
  );
  configError(
    [
      ...base,
      "--initial-advertise-peer-urls",
      "http://127.0.0.1:2380",
      "--initial-cluster",
      "x=http://127.0.0.1:2380,x=http://127.0.0.1:2381",
    ],
    '--initial-cluster has x=http://127.0.0.1:2381 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2380 (len(["http://127.0.0.1:2380"]) != len(["http://127.0.0.1:2380" "http://127.0.0.1:2381"]))',
  );
  configError(
    [
      ...base,
      "--initial-advertise-peer-urls",
      "http://127.0.0.1:2380,http://127.0.0.1:2382",
      "--initial-cluster",
      "x=http://127.0.0.1:2380",
    ],
    "--initial-advertise-peer-urls has http://127.0.0.1:2382 but missing from --initial-cluster=x=http://127.0.0.1:2380,x=http://127.0.0.1:2382",
  );
  configError(
    [
      ...base,
      "--initial-advertise-peer-urls",
      "http://127.0.0.1:2380",
      "--initial-cluster",
      "x=http://127.0.0.1:2380,y=http://127.0.0.1:2380",
    ],
    "initial cluster x=http://127.0.0.1:2380,y=http://127.0.0.1:2380 has duplicate url",
  );
  configError(
    [...base, "--initial-cluster", "x=127.0.0.1:2380"],
    'error setting up initial cluster: parse "127.0.0.1:2380": first path segment in URL cannot contain colon',
  );
  // Joining an existing cluster: only membership and duplicates are checked.
  const join = config([
    ...base,
    "--initial-advertise-peer-urls",
    "http://127.0.0.1:2380",
    "--initial-cluster",
    "x=http://127.0.0.1:2380,y=http://127.0.0.1:3380",
    "--initial-cluster-state",
    "existing",
  ]);
  assert.equal(join.initialClusterState, "existing");
  // A member with data ignores these flags, as etcd does on a restart.
  const restart = config(
    [...base, "--initial-cluster", "y=http://127.0.0.1:2380"],
    {},
    {
      isMemberInitialized: (dataDir, walDir) => dataDir === "x.etcd" && walDir === "",
    },
  );
  assert.deepEqual(restart.initialCluster, [{ name: "y", peerUrls: ["http://127.0.0.1:2380"] }]);
  assert.equal(
    verifyBootstrap({
      name: "a",
      initialCluster: [{ name: "a", peerUrls: ["http://h:1"] }],
      initialAdvertisePeerUrls: ["http://h:1"],
      initialClusterState: "new",
    }),
    undefined,
  );
});

test("discovery replaces the default --initial-cluster", () => {
  const r = parse(["--discovery", "https://discovery.etcd.io/abc"]);
  assert.ok(r.config);
  assert.deepEqual(r.config.initialCluster, []);
  assert.equal(r.config.discovery?.url, "https://discovery.etcd.io/abc");
  assert.equal(r.config.unimplementedFlags.discovery, undefined);
  configError(
    ["--discovery", "https://discovery.etcd.io/abc", "--initial-cluster-state", "existing"],
    "discovery URL should not be set when joining existing initial cluster",
  );
});

test("a detected default host replaces a default advertise URL when listening on 0.0.0.0, as etcd", () => {
  const c = config(
    [
      "--name",
      "n",
      "--listen-peer-urls",
      "http://0.0.0.0:2380",
      "--listen-client-urls",
      "http://0.0.0.0:2379",
      "--advertise-client-urls",
      "http://localhost:2379",
    ],
    {},
    { defaultHost: "10.1.2.3" },
  );
  assert.deepEqual(urlStrings(c.initialAdvertisePeerUrls), ["http://10.1.2.3:2380"]);
  assert.deepEqual(urlStrings(c.advertiseClientUrls), ["http://10.1.2.3:2379"]);
  assert.deepEqual(c.initialCluster, [{ name: "n", peerUrls: ["http://10.1.2.3:2380"] }]);
  // Without it, the defaults stay.
  const d = config(["--name", "n", "--listen-peer-urls", "http://0.0.0.0:2380"]);
  assert.deepEqual(urlStrings(d.initialAdvertisePeerUrls), ["http://localhost:2380"]);
});

test("advisory warnings as etcd's", () => {
  const r = parse([
    "--max-request-bytes",
    String(11 * 1024 * 1024),
    "--quota-backend-bytes",
    String(9 * 1024 ** 3),
  ]);
  assert.ok(r.config);
  assert.ok(r.warnings.some((w) => w.startsWith("exceeded recommended request limit")));
  assert.ok(r.warnings.some((w) => w.startsWith("quota exceeds the maximum value")));
  const cp = parse(["--experimental-enable-lease-checkpoint"]);
  assert.ok(
    cp.warnings.includes(
      "Detected that checkpointing is enabled without persistence. Consider enabling experimental-enable-lease-checkpoint-persist",
    ),
  );
});

test("scheduled backups (etcd-ts): --backup-interval, --backup-dir, --backup-retention from flags or ETCD_*", () => {
  const c = config([], {
    ETCD_BACKUP_INTERVAL: "1h30m",
    ETCD_BACKUP_DIR: "/backups/etcd",
    ETCD_BACKUP_RETENTION: "48",
  });
  assert.equal(c.backupIntervalMs, 5_400_000);
  assert.equal(c.backupDir, "/backups/etcd");
  assert.equal(c.backupRetention, 48);
  flagError(["--backup-interval", "daily"], 'invalid value "daily" for flag -backup-interval: parse error');
  const d = config(["--backup-interval", "10m"]);
  assert.equal(d.backupIntervalMs, 600_000);
  assert.equal(d.backupDir, "", "default: <data-dir>/backups");
  assert.equal(d.backupRetention, 24);
});
