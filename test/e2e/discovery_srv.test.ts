// DNS SRV discovery with real processes: a DNS server run by the test on 127.0.0.1 serves
// _etcd-server._tcp.example.test and _etcd-client._tcp.example.test with targets that resolve to
// 127.0.0.1 (distinct ports); bin/etcd members started with --discovery-srv example.test (and etcd-ts's
// --discovery-srv-dns-server pointing at that server) form a cluster; a member whose peer URL is not in
// the records exits with etcd's message; the client records give etcdctl its endpoints.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { resolveClientEndpoints } from "../../src/discovery/index.js";
import { TestDnsServer } from "../discovery/dns_server.js";
import {
  ctlOk,
  etcdctl,
  freePorts,
  Member,
  makeTempDir,
  parseJsonBig,
  ROOT,
  removeTempDir,
  skipWithoutEtcdctl,
} from "./cluster.js";

const BIN_ETCDCTL = join(ROOT, "bin", "etcdctl");

describe("DNS SRV discovery", { skip: skipWithoutEtcdctl }, () => {
  let dir = "";
  let dns: TestDnsServer;
  let dnsAddr = "";
  const members: Member[] = [];
  // Per member: peer port, client port.
  let ports: [number, number][] = [];

  const start = (name: string, peer: number, client: number, extra: string[] = []) => {
    const m = new Member({
      name,
      args: [
        `--name=${name}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        "--discovery-srv=example.test",
        `--discovery-srv-dns-server=${dnsAddr}`,
        ...extra,
      ],
      cwd: dir,
      clientUrl: `http://127.0.0.1:${client}`,
      logPath: join(dir, `${name}.log`),
    });
    members.push(m);
    m.start();
    return m;
  };

  before(async () => {
    dir = makeTempDir("etcd-e2e-srv-");
    const p = await freePorts(8);
    ports = [0, 1, 2, 3].map((i) => [p[2 * i]!, p[2 * i + 1]!]);
    dns = new TestDnsServer({
      srv: {
        "_etcd-server._tcp.example.test": ports
          .slice(0, 3)
          .map(([peer]) => ({ target: "localhost.", port: peer })),
        "_etcd-client._tcp.example.test": ports
          .slice(0, 3)
          .map(([, client]) => ({ target: "localhost.", port: client })),
      },
      hosts: { localhost: ["127.0.0.1"] },
    });
    dnsAddr = await dns.start();
  });

  after(async () => {
    await Promise.all(members.filter((m) => m.running()).map((m) => m.kill("SIGKILL")));
    await dns?.stop();
    removeTempDir(dir);
  });

  test("three members started with --discovery-srv form a cluster", async () => {
    const ms = [0, 1, 2].map((i) => start(`s${i + 1}`, ports[i]![0], ports[i]![1]));
    await Promise.all(ms.map((m) => m.waitHealthy(30_000)));
    const list = parseJsonBig(
      await ctlOk(["member", "list", "-w", "json"], { endpoints: [ms[0]!.endpoint] }),
    );
    const got = (list.members as { name: string; peerURLs: string[] }[])
      .map((m) => `${m.name}=${m.peerURLs.join(",")}`)
      .sort();
    // Peer URLs are the SRV targets (so every member derives the same IDs); names as the members publish.
    assert.deepEqual(
      got,
      [0, 1, 2].map((i) => `s${i + 1}=http://localhost:${ports[i]![0]}`),
    );
    assert.ok(
      dns.queries.includes("SRV _etcd-server._tcp.example.test"),
      "lookups went to the test's server",
    );
    await ctlOk(["put", "srv", "ok"], { endpoints: [ms[2]!.endpoint] });
    assert.match(await ctlOk(["get", "srv"], { endpoints: [ms[0]!.endpoint] }), /^srv\nok\n/);
  });

  test("a member whose own peer URL is not in the records exits with etcd's message", async () => {
    const m = start("stranger", ports[3]![0], ports[3]![1]);
    const st = await m.exited();
    assert.equal(st.code, 1, m.logTail());
    assert.ok(m.log().includes('cannot find local etcd member \\"stranger\\" in SRV records'), m.logTail());
    assert.equal(existsSync(join(dir, "stranger.etcd")), false);
  });

  test("client endpoints from _etcd-client._tcp: etcdctl endpoint health finds every member", async () => {
    const { endpoints } = await resolveClientEndpoints("example.test", { dnsServer: dnsAddr });
    assert.deepEqual(
      [...endpoints].sort(),
      ports
        .slice(0, 3)
        .map(([, c]) => `http://localhost:${c}`)
        .sort(),
    );
    const r = await etcdctl(["endpoint", "health"], { endpoints });
    assert.equal(r.code, 0, r.stderr);
    for (const e of endpoints) assert.match(r.stdout + r.stderr, new RegExp(`${e} is healthy`));
    // Our etcdctl does the lookup itself (etcd-ts's --discovery-srv-dns-server points it at the test's
    // DNS server). As in etcd, `endpoint health` checks --endpoints unless --cluster is given, which asks
    // the discovered endpoints for the member list; other commands use the discovered endpoints.
    // (Asynchronously: the DNS server answers from this process.)
    const ours = (args: string[]) =>
      promisify(execFile)(
        process.execPath,
        [BIN_ETCDCTL, "--discovery-srv", "example.test", `--discovery-srv-dns-server=${dnsAddr}`, ...args],
        { encoding: "utf8", timeout: 30_000 },
      );
    const health = await ours(["endpoint", "health", "--cluster"]);
    assert.equal(
      health.stdout.match(/ is healthy: successfully committed proposal/g)?.length,
      3,
      health.stdout,
    );
    assert.equal((await ours(["put", "srv/k", "v"])).stdout, "OK\n");
    assert.equal((await ours(["get", "srv/k", "--print-value-only"])).stdout, "v\n");
  });
});
