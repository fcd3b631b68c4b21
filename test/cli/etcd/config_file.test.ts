import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { config, configError, parse, urlStrings } from "./helpers.js";

/** Options that serve `files` as the configuration files. */
function files(map: Record<string, string>) {
  return {
    readFile: (path: string) => {
      const text = map[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return text;
    },
  };
}

// etcd's etcd.conf.yml.sample (release-3.5), abridged comments.
const SAMPLE = `
name: 'default'
data-dir:
wal-dir:
snapshot-count: 10000
heartbeat-interval: 100
election-timeout: 1000
quota-backend-bytes: 0
listen-peer-urls: http://localhost:2380
listen-client-urls: http://localhost:2379
max-snapshots: 5
max-wals: 5
cors:
initial-advertise-peer-urls: http://localhost:2380
advertise-client-urls: http://localhost:2379
discovery:
discovery-fallback: 'proxy'
discovery-proxy:
discovery-srv:
initial-cluster:
initial-cluster-token: 'etcd-cluster'
initial-cluster-state: 'new'
strict-reconfig-check: false
enable-v2: true
enable-pprof: true
proxy: 'off'
proxy-failure-wait: 5000
proxy-refresh-interval: 30000
proxy-dial-timeout: 1000
proxy-write-timeout: 5000
proxy-read-timeout: 0
client-transport-security:
  cert-file:
  key-file:
  client-cert-auth: false
  trusted-ca-file:
  auto-tls: false
peer-transport-security:
  cert-file:
  key-file:
  client-cert-auth: false
  trusted-ca-file:
  auto-tls: false
  allowed-cn:
  allowed-hostname:
self-signed-cert-validity: 1
log-level: debug
logger: zap
log-outputs: [stderr]
force-new-cluster: false
auto-compaction-mode: periodic
auto-compaction-retention: "1"
`;

const MEMBER = `
name: infra1
data-dir: /var/lib/etcd/infra1
wal-dir: /wal/infra1
listen-peer-urls: http://10.0.1.11:2380
listen-client-urls: http://10.0.1.11:2379,http://127.0.0.1:2379
advertise-client-urls: http://10.0.1.11:2379
initial-advertise-peer-urls: http://10.0.1.11:2380
initial-cluster: infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380
initial-cluster-token: etcd-cluster-1
initial-cluster-state: new
heartbeat-interval: 50
election-timeout: 500
snapshot-count: 5000
experimental-snapshot-catch-up-entries: 100
max-snapshots: 3
max-wals: 4
quota-backend-bytes: 4294967296
max-request-bytes: 2097152
max-txn-ops: 256
pre-vote: false
strict-reconfig-check: false
backend-batch-interval: 10000000
backend-batch-limit: 500
log-level: warn
log-outputs: [stdout]
enable-v2: false
force-new-cluster: false
auto-compaction-mode: revision
auto-compaction-retention: "1000"
`;

test("config file: etcd's keys reach the ServerConfig (durations in ns, URL lists as comma strings)", () => {
  const r = parse(["--config-file", "/etc/etcd.yml"], {}, files({ "/etc/etcd.yml": MEMBER }));
  assert.equal(r.exit, undefined, JSON.stringify(r.exit));
  const c = r.config!;
  assert.equal(c.name, "infra1");
  assert.equal(c.dataDir, "/var/lib/etcd/infra1");
  assert.equal(c.walDir, "/wal/infra1");
  assert.deepEqual(urlStrings(c.listenPeerUrls), ["http://10.0.1.11:2380"]);
  assert.deepEqual(urlStrings(c.listenClientUrls), ["http://10.0.1.11:2379", "http://127.0.0.1:2379"]);
  assert.deepEqual(urlStrings(c.advertiseClientUrls), ["http://10.0.1.11:2379"]);
  assert.deepEqual(urlStrings(c.initialAdvertisePeerUrls), ["http://10.0.1.11:2380"]);
  assert.deepEqual(
    c.initialCluster.map((m) => m.name),
    ["infra0", "infra1", "infra2"],
  );
  assert.equal(c.initialClusterToken, "etcd-cluster-1");
  assert.equal(c.heartbeatMs, 50);
  assert.equal(c.electionMs, 500);
  assert.equal(c.snapshotCount, 5000);
  assert.equal(c.snapshotCatchUpEntries, 100);
  assert.equal(c.maxSnapshots, 3);
  assert.equal(c.maxWals, 4);
  assert.equal(c.quotaBackendBytes, 4294967296);
  assert.equal(c.maxRequestBytes, 2097152);
  assert.equal(c.maxTxnOps, 256);
  assert.equal(c.preVote, false);
  assert.equal(c.strictReconfigCheck, false);
  assert.equal(c.backendBatchIntervalMs, 10);
  assert.equal(c.backendBatchLimit, 500);
  assert.equal(c.logLevel, "warn");
  assert.deepEqual(c.logOutputs, ["stdout"]);
  assert.equal(c.autoCompactionMode, "revision");
  assert.equal(c.autoCompactionRetention, "1000");
  assert.deepEqual(r.warnings, []);
});

test("config file: etcd's sample file loads; null keys keep their defaults", () => {
  const r = parse(["--config-file=/s.yml"], {}, files({ "/s.yml": SAMPLE }));
  assert.equal(r.exit, undefined, JSON.stringify(r.exit));
  const c = r.config!;
  assert.equal(c.name, "default");
  assert.equal(c.dataDir, "default.etcd");
  assert.deepEqual(c.initialCluster, [{ name: "default", peerUrls: ["http://localhost:2380"] }]);
  assert.equal(c.snapshotCount, 10000);
  assert.equal(c.strictReconfigCheck, false);
  assert.equal(c.enableV2, true);
  assert.equal(c.logLevel, "debug");
  assert.deepEqual(c.logOutputs, ["stderr"]);
  assert.equal(c.autoCompactionRetention, "1");
  assert.deepEqual(c.unimplementedFlags, { "enable-pprof": "true" });
  assert.deepEqual(r.warnings, [
    "--enable-v2 is deprecated in 3.5 and will be decommissioned in 3.6.",
    "'data-dir' was empty; using default: default.etcd",
    "--enable-pprof=true is accepted but not implemented yet in etcd-ts; ignoring it",
  ]);
});

test("config file: other flags and ETCD_* variables are ignored (with a warning); ETCD_CONFIG_FILE works", () => {
  const opts = files({ "/m.yml": "name: fromfile\n" });
  const r = parse(
    ["--config-file", "/m.yml", "--name", "fromflag", "--data-dir", "/x"],
    { ETCD_NAME: "fromenv" },
    opts,
  );
  assert.equal(r.config?.name, "fromfile");
  assert.equal(r.config?.dataDir, "fromfile.etcd");
  assert.deepEqual(r.config?.initialCluster, [{ name: "fromfile", peerUrls: ["http://localhost:2380"] }]);
  assert.deepEqual(r.warnings, [
    "ignoring command-line flags --name, --data-dir: a configuration file is used (--config-file=/m.yml), and etcd then reads only the file",
    "ignoring environment variables ETCD_NAME: a configuration file is used (--config-file=/m.yml), and etcd then reads only the file",
    "'data-dir' was empty; using default: fromfile.etcd",
  ]);
  assert.equal(parse([], { ETCD_CONFIG_FILE: "/m.yml" }, opts).config?.name, "fromfile");
  // --version still answers, and flag errors still come first.
  assert.equal(parse(["--config-file", "/m.yml", "--version"], {}, opts).exit?.code, 0);
  assert.equal(parse(["--config-file", "/m.yml", "--nope"], {}, opts).exit?.code, 2);
});

test("config file: keys match case-insensitively; unknown keys are ignored with a warning", () => {
  const r = parse(
    ["--config-file=/c.yml"],
    {},
    files({ "/c.yml": "Name: upper\nbogus-key: 1\nsocket-options:\n  reuse-port: true\n" }),
  );
  assert.equal(r.config?.name, "upper");
  assert.equal(r.config?.unimplementedFlags["socket-reuse-port"], "true");
  assert.ok(
    r.warnings.includes('unknown key "bogus-key" in configuration file /c.yml; ignored (as etcd does)'),
  );
});

test("config file: YAML 1.1 scalars as go-yaml reads them", () => {
  const c = config(
    ["--config-file=/c.yml"],
    {},
    files({ "/c.yml": "pre-vote: no\nenable-v2: yes\nmax-wals: 010\n" }),
  );
  assert.equal(c.preVote, false);
  assert.equal(c.enableV2, true);
  assert.equal(c.maxWals, 8);
});

test("config file: wrong types, bad URLs and bad YAML fail with etcd's messages", () => {
  const cases: [string, string][] = [
    [
      'heartbeat-interval: "100"\n',
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.heartbeat-interval of type uint",
    ],
    [
      "auto-compaction-retention: 1\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field configYAML.auto-compaction-retention of type string",
    ],
    [
      "max-wals: -1\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct field configYAML.max-wals of type uint",
    ],
    [
      "backend-batch-interval: 100ms\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.backend-batch-interval of type time.Duration",
    ],
    [
      "log-outputs: stderr\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.log-outputs of type []string",
    ],
    [
      "client-transport-security: yes\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal bool into Go struct field configYAML.client-transport-security of type embed.securityConfig",
    ],
    [
      "- a\n- b\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type embed.configYAML",
    ],
    [
      "election-timeout: 60000\nheartbeat-interval: 1000\n",
      "--election-timeout[60000ms] is too long, and should be set less than 50000ms",
    ],
    ["initial-cluster-state: maybe\n", 'unexpected clusterState "maybe"'],
  ];
  for (const [yaml, message] of cases) {
    configError(["--config-file=/c.yml"], message, {}, files({ "/c.yml": yaml }));
  }
  const bad = parse(["--config-file=/c.yml"], {}, files({ "/c.yml": "name: [a\n" }));
  assert.equal(bad.exit?.code, 1);
  assert.match(bad.exit?.error ?? "", /^error converting YAML to JSON: yaml: /);
  const dup = parse(["--config-file=/c.yml"], {}, files({ "/c.yml": "name: a\nname: b\n" }));
  assert.equal(dup.exit?.code, 1);
  // The URL lists fail as etcd's file loader does: printed as they are, exit 1.
  const url = parse(["--config-file=/c.yml"], {}, files({ "/c.yml": "listen-peer-urls: 127.0.0.1:2380\n" }));
  assert.deepEqual(url.exit, {
    code: 1,
    stderr:
      'unexpected error setting up listen-peer-urls: parse "127.0.0.1:2380": first path segment in URL cannot contain colon\n',
    error:
      'unexpected error setting up listen-peer-urls: parse "127.0.0.1:2380": first path segment in URL cannot contain colon',
  });
  const proxy = parse(["--config-file=/c.yml"], {}, files({ "/c.yml": "proxy: sometimes\n" }));
  assert.equal(proxy.exit?.error, "unexpected error setting up proxyFlag: invalid value");
  configError(
    ["--config-file", "/missing.yml"],
    "open /missing.yml: no such file or directory",
    {},
    files({}),
  );
});

test("config file: read from disk by default; an empty file means all defaults", () => {
  const dir = mkdtempSync(join(tmpdir(), "etcd-config-"));
  try {
    const path = join(dir, "etcd.yml");
    writeFileSync(path, "name: disk\n");
    assert.equal(config(["--config-file", path]).name, "disk");
    writeFileSync(path, "");
    assert.equal(config(["--config-file", path]).name, "default");
    configError(
      ["--config-file", join(dir, "nope.yml")],
      `open ${join(dir, "nope.yml")}: no such file or directory`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
