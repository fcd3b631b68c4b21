// Bootstrap by etcd discovery with real processes on 127.0.0.1: three bin/etcd members started with only
// a discovery flag (no --initial-cluster) form one cluster; a fourth is refused as full.
//   v2: the registry is a one-member etcd-ts cluster with --enable-v2 (size set with curl), then the real
//       etcd 3.4 with --enable-v2.
//   v3: the registry is the v3 key space of the etcd-ts registry (size set with etcdctl).
// Errors: unreachable registry, missing size, bad size, malformed registrations: a clear message, exit 1,
// and no data dir left behind.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  Cluster,
  ctlOk,
  freePorts,
  haveRealEtcd,
  httpGet,
  Member,
  makeTempDir,
  parseJsonBig,
  removeTempDir,
  skipWithoutEtcdctl,
  startRealEtcd,
} from "./cluster.js";

/** curl, as an operator sets up a registry. */
function curl(args: string[]): string {
  const r = spawnSync("curl", ["-s", "-S", ...args], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`curl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

let dir = "";
const started: Member[] = [];

/** A bin/etcd member on fresh ports with only these bootstrap flags. */
async function member(name: string, bootstrap: string[]): Promise<Member> {
  const [pp, cp] = await freePorts(2);
  const m = new Member({
    name,
    args: [
      `--name=${name}`,
      `--listen-peer-urls=http://127.0.0.1:${pp}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${pp}`,
      `--listen-client-urls=http://127.0.0.1:${cp}`,
      `--advertise-client-urls=http://127.0.0.1:${cp}`,
      ...bootstrap,
    ],
    cwd: dir,
    clientUrl: `http://127.0.0.1:${cp}`,
    logPath: join(dir, `${name}.log`),
  });
  started.push(m);
  m.start();
  return m;
}

async function stopAll(ms: Member[]): Promise<void> {
  await Promise.all(ms.filter((m) => m.running()).map((m) => m.kill("SIGKILL")));
}

/** Three members started at once with `bootstrap` form one cluster with their own names. */
async function expectCluster(prefix: string, bootstrap: string[]): Promise<Member[]> {
  const ms = await Promise.all([1, 2, 3].map((i) => member(`${prefix}${i}`, bootstrap)));
  await Promise.all(ms.map((m) => m.waitHealthy(30_000)));
  const list = parseJsonBig(await ctlOk(["member", "list", "-w", "json"], { endpoints: [ms[0]!.endpoint] }));
  const names = (list.members as { name: string }[]).map((x) => x.name).sort();
  assert.deepEqual(names, [`${prefix}1`, `${prefix}2`, `${prefix}3`]);
  // One key space: a write through one member is read through another.
  await ctlOk(["put", "k", prefix], { endpoints: [ms[1]!.endpoint] });
  assert.match(await ctlOk(["get", "k"], { endpoints: [ms[2]!.endpoint] }), new RegExp(`^k\\n${prefix}\\n`));
  return ms;
}

/** A member that must fail: exit 1, `message` in its log, no data dir. */
async function expectRefused(name: string, bootstrap: string[], message: string): Promise<void> {
  const m = await member(name, bootstrap);
  const st = await m.exited();
  assert.equal(st.code, 1, `${name} exit status\n${m.logTail()}`);
  assert.ok(m.log().includes(message), `${name}: no ${JSON.stringify(message)} in\n${m.logTail()}`);
  assert.equal(existsSync(join(dir, `${name}.etcd`)), false, `${name} left a data dir`);
}

describe("etcd discovery", { skip: skipWithoutEtcdctl }, () => {
  let registry: Cluster;
  let reg = "";

  before(async () => {
    dir = makeTempDir("etcd-e2e-discovery-");
    registry = await Cluster.start({ size: 1, names: ["registry"], extraArgs: ["--enable-v2"] });
    reg = registry.layout.members[0]!.clientUrl;
  });

  after(async () => {
    await stopAll(started);
    await registry?.destroy();
    removeTempDir(dir);
  });

  test("v2: three members find each other through an etcd-ts registry; a fourth is refused as full", async () => {
    const url = `${reg}/v2/keys/_etcd/registry/e2e-v2`;
    assert.match(curl(["-X", "PUT", `${url}/_config/size`, "-d", "value=3"]), /"action":"set"/);
    const ms = await expectCluster("a", [`--discovery=${url}`]);
    // The registry holds the three registrations, each under its member ID.
    const listing = JSON.parse((await httpGet(url)).body) as {
      node: { nodes: { key: string; value: string }[] };
    };
    const ids = parseJsonBig(await ctlOk(["member", "list", "-w", "json"], { endpoints: [ms[0]!.endpoint] }))
      .members.map((x: { ID: string }) => BigInt(x.ID).toString(16))
      .sort();
    assert.deepEqual(listing.node.nodes.map((n) => n.key.split("/").pop()).sort(), ids);
    await expectRefused(
      "a4",
      [`--discovery=${url}`, "--discovery-fallback=exit"],
      "discovery: cluster is full",
    );
    // etcd 3.5 would fall back to a v2 proxy by default; etcd-ts has none and says so.
    await expectRefused("a5", [`--discovery=${url}`], "no v2 proxy to fall back to");
    await stopAll(ms);
  });

  test("v3: the same through --discovery-endpoints and --discovery-token", async () => {
    const ep = registry.endpoints();
    await ctlOk(["put", "/_etcd/registry/e2e-v3/_config/size", "3"], { endpoints: ep });
    const flags = ["--discovery-token=e2e-v3", `--discovery-endpoints=${ep[0]}`];
    const ms = await expectCluster("b", flags);
    const regs = await ctlOk(["get", "--prefix", "--keys-only", "/_etcd/registry/e2e-v3/members/"], {
      endpoints: ep,
    });
    assert.equal(regs.split("\n").filter((l) => l !== "").length, 3);
    await expectRefused("b4", flags, "discovery: cluster is full");
    await stopAll(ms);
  });

  test("errors: unreachable registry, missing or bad size, malformed registrations", async () => {
    const [closed] = await freePorts(1);
    await expectRefused(
      "e1",
      [`--discovery=http://127.0.0.1:${closed}/v2/keys/_etcd/registry/x`, "--discovery-max-retries=0"],
      "failed to join discovery cluster (discovery: too many retries)",
    );
    await expectRefused(
      "e2",
      [`--discovery=${reg}/v2/keys/_etcd/registry/no-size`],
      "failed to join discovery cluster (discovery: size key not found)",
    );
    const bad = `${reg}/v2/keys/_etcd/registry/bad-size`;
    curl(["-X", "PUT", `${bad}/_config/size`, "-d", "value=three"]);
    await expectRefused("e3", [`--discovery=${bad}`], "discovery: size key is bad");
    // A registration that is not "name=URL" among the winners: the cluster cannot be formed.
    const malformed = `${reg}/v2/keys/_etcd/registry/malformed`;
    curl(["-X", "PUT", `${malformed}/_config/size`, "-d", "value=2"]);
    curl(["-X", "PUT", `${malformed}/0123456789abcdef`, "-d", "value=not a member"]);
    await expectRefused("e4", [`--discovery=${malformed}`], "discovery: invalid URL");
    await expectRefused(
      "e5",
      ["--discovery-token=none", `--discovery-endpoints=${registry.endpoints()[0]}`],
      "failed to join discovery cluster (discovery: size key not found)",
    );
    await expectRefused(
      "e6",
      ["--discovery-token=x", `--discovery-endpoints=127.0.0.1:${closed}`, "--discovery-max-retries=0"],
      "discovery: too many retries",
    );
  });

  test("v2 against the real etcd 3.4 as the registry (--enable-v2)", { skip: !haveRealEtcd }, async () => {
    const real = await startRealEtcd({ extraArgs: ["--enable-v2"] });
    try {
      const url = `${real.layout.members[0]!.clientUrl}/v2/keys/_etcd/registry/e2e-real`;
      curl(["-X", "PUT", `${url}/_config/size`, "-d", "value=3"]);
      const ms = await expectCluster("c", [`--discovery=${url}`]);
      await expectRefused(
        "c4",
        [`--discovery=${url}`, "--discovery-fallback=exit"],
        "discovery: cluster is full",
      );
      // A member with a data dir restarts without its registry (etcd ignores the discovery flags then).
      await real.destroy();
      await ms[0]!.kill("SIGKILL");
      await ms[0]!.restart(30_000);
      assert.match(await ctlOk(["get", "k"], { endpoints: [ms[0]!.endpoint] }), /^k\nc\n/);
      await stopAll(ms);
    } finally {
      await real.destroy();
    }
  });
});
