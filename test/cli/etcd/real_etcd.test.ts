// Compares the parser with the real etcd (Debian's etcd-server 3.4 at /usr/bin/etcd) on inputs that make
// etcd exit before it opens anything: same exit code, and etcd's message contains ours. Skipped when the
// binary is absent. etcd 3.4 differs from 3.5 in places (flags added or removed, defaults): only cases
// where the two agree are compared.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { FLAG_BY_NAME, USAGE } from "../../../src/cli/etcd/flags.js";
import type { ParseOptions } from "../../../src/cli/etcd/index.js";
import { parse } from "./helpers.js";

const ETCD = "/usr/bin/etcd";
const skip = existsSync(ETCD) ? false : "no /usr/bin/etcd";
let dir = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "etcd-real-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function realEtcd(argv: string[], env: Record<string, string> = {}) {
  const r = spawnSync(ETCD, ["--data-dir", join(dir, "data"), ...argv], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 10_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Loopback URLs on port 0, so that nothing could collide even if etcd got as far as binding.
const LOOPBACK = [
  "--listen-client-urls=http://127.0.0.1:0",
  "--advertise-client-urls=http://127.0.0.1:0",
  "--listen-peer-urls=http://127.0.0.1:0",
];

const CASES: { argv: string[]; env?: Record<string, string>; opts?: ParseOptions }[] = [
  { argv: ["--foo"] },
  { argv: ["--name"] },
  { argv: ["---foo"] },
  { argv: ["--heartbeat-interval", "abc"] },
  { argv: ["--heartbeat-interval", "-1"] },
  { argv: ["--heartbeat-interval", "99999999999999999999999"] },
  { argv: ["--pre-vote=maybe"] },
  { argv: ["--initial-cluster-state", "bogus"] },
  { argv: ["--backend-batch-interval", "100"] },
  { argv: ["--max-concurrent-streams", "99999999999"] },
  { argv: ["--listen-peer-urls", "localhost:2380"] },
  { argv: ["--listen-peer-urls", "127.0.0.1:2380"] },
  { argv: ["--listen-peer-urls", "http://127.0.0.1"] },
  { argv: ["--listen-peer-urls", "http://127.0.0.1:abc"] },
  { argv: ["--listen-peer-urls", "http://127.0.0.1:2380/x"] },
  { argv: ["--listen-peer-urls", "ftp://127.0.0.1:2380"] },
  { argv: ["extra-arg"] },
  { argv: ["--pre-vote", "false"] },
  { argv: [...LOOPBACK, "--heartbeat-interval", "300"] },
  { argv: [...LOOPBACK, "--heartbeat-interval", "0"] },
  { argv: [...LOOPBACK, "--election-timeout", "0"] },
  { argv: [...LOOPBACK, "--election-timeout", "60000", "--heartbeat-interval", "1000"] },
  { argv: ["--listen-client-urls=http://127.0.0.1:0", "--listen-peer-urls=http://127.0.0.1:0"] },
  {
    argv: [
      "--listen-client-urls=http://example.com:0",
      "--advertise-client-urls=http://127.0.0.1:0",
      "--listen-peer-urls=http://127.0.0.1:0",
    ],
  },
  { argv: [...LOOPBACK, "--advertise-client-urls=http://:0"] },
  { argv: [...LOOPBACK, "--initial-advertise-peer-urls=http://:0"] },
  {
    argv: [
      ...LOOPBACK,
      "--discovery=http://127.0.0.1:1/x",
      "--initial-cluster=default=http://localhost:2380",
    ],
  },
  { argv: [...LOOPBACK, "--auto-compaction-mode=foo"] },
  { argv: [...LOOPBACK, "--logger=foo"] },
  { argv: LOOPBACK, env: { ETCD_HEARTBEAT_INTERVAL: "abc" } },
  { argv: LOOPBACK, env: { ETCD_PRE_VOTE: "maybe", ETCD_HEARTBEAT_INTERVAL: "abc" } },
  // etcd 3.4/3.5 refuse a flag given both ways; etcd-ts warns by default and refuses with this option.
  { argv: LOOPBACK, env: { ETCD_LISTEN_PEER_URLS: "http://127.0.0.1:0" }, opts: { envConflict: "error" } },
];

test("real etcd: same exit code, and etcd's output contains our message", { skip }, () => {
  for (const { argv, env, opts } of CASES) {
    const ours = parse(argv, env ?? {}, opts);
    assert.ok(ours.exit, `we accepted ${argv.join(" ")}`);
    const real = realEtcd(argv, env);
    const label = `${JSON.stringify(env ?? {})} ${argv.join(" ")}`;
    assert.equal(ours.exit.code, real.code, `exit code of ${label}: ${real.stderr}`);
    assert.ok(
      real.stderr.includes(ours.exit.error!),
      `${label}\n  ours: ${ours.exit.error}\n  etcd: ${real.stderr}`,
    );
  }
});

test("real etcd: a bad configuration file fails the same way", { skip }, () => {
  const cases: [string, string][] = [
    ["c1.yml", 'name: x\nheartbeat-interval: "100"\n'],
    ["c2.yml", "name: x\nauto-compaction-retention: 1\n"],
    ["c3.yml", "name: x\nelection-timeout: 60000\nheartbeat-interval: 1000\n"],
    ["c4.yml", "name: x\nlisten-peer-urls: 127.0.0.1:2380\n"],
  ];
  for (const [name, yaml] of cases) {
    const path = join(dir, name);
    writeFileSync(path, yaml);
    const ours = parse(["--config-file", path]);
    const real = realEtcd(["--config-file", path]);
    assert.equal(ours.exit?.code, real.code, `${name}: ${real.stderr}`);
    assert.ok(
      real.stderr.includes(ours.exit!.error!),
      `${name}\n  ours: ${ours.exit?.error}\n  etcd: ${real.stderr}`,
    );
  }
});

test("real etcd: --help prints the same usage; every 3.4 flag still in 3.5 is accepted", { skip }, () => {
  const real = realEtcd(["--help"]);
  assert.equal(real.code, 0);
  assert.equal(real.stderr, `${USAGE}\n`);
  const ours = parse(["--help"]);
  assert.equal(ours.exit?.stderr, real.stderr);
  const groups34 = [...real.stdout.matchAll(/^(\S.*):$/gm)].map((m) => m[1]);
  const ourGroups = new Set([...ours.exit!.stdout!.matchAll(/^(\S.*):$/gm)].map((m) => m[1]));
  for (const g of groups34) {
    if (g === "TO BE DEPRECATED" || g.startsWith("v2 Proxy") || g === "Experimental feature") continue;
    assert.ok(ourGroups.has(g), `group ${g}`);
  }
  // Removed or renamed in 3.5 (etcd 3.5 rejects them too).
  const removedIn35 = new Set(["debug", "log-package-levels", "experimental-backend-bbolt-freelist-type"]);
  const flags34 = [...real.stdout.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1]!);
  assert.ok(flags34.length > 70);
  for (const name of flags34) {
    if (removedIn35.has(name)) assert.equal(FLAG_BY_NAME.get(name), undefined, name);
    else assert.ok(FLAG_BY_NAME.get(name), `--${name} of etcd 3.4 is not accepted`);
  }
});

test("real etcd: --version has the same first line layout and exit code", { skip }, () => {
  const real = realEtcd(["--version"]);
  const ours = parse(["--version"]);
  assert.equal(real.code, 0);
  assert.equal(ours.exit?.code, 0);
  assert.match(real.stdout, /^etcd Version: \d+\.\d+\.\d+\nGit SHA: /);
  assert.match(ours.exit?.stdout ?? "", /^etcd Version: \d+\.\d+\.\d+\nGit SHA: /);
});
