// The classic static bootstrap of the clustering guide, end to end: three `bin/etcd` processes configured
// with exactly the guide's flag set (member 0 listening on two peer URLs, every member on two client URLs),
// then the same through ETCD_* variables only, then with --wal-dir, then a whole-cluster stop and start.
// Checked with the real etcdctl 3.4, plain HTTP GETs of /v2/members, and the IDs etcd derives (and a real
// etcd 3.4 run on the same flags).

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { computeClusterId, computeMemberId } from "../../src/server/ids.js";
import {
  Cluster,
  ctlOk,
  type ExitStatus,
  haveRealEtcd,
  httpGet,
  parseJsonBig,
  skipWithoutEtcdctl,
  until,
} from "./cluster.js";

const skip = skipWithoutEtcdctl;
const clusters: Cluster[] = [];
after(async () => {
  await Promise.all(clusters.map((c) => c.destroy()));
});

async function start(opts: Parameters<typeof Cluster.start>[0]): Promise<Cluster> {
  const c = await Cluster.start(opts);
  clusters.push(c);
  return c;
}

interface Expected {
  id: bigint;
  name: string;
  peerUrl: string;
  clientUrl: string;
}

function expectedMembers(c: Cluster): { members: Expected[]; clusterId: bigint } {
  const members = c.layout.members.map((m) => ({
    id: computeMemberId([m.peerUrl], c.layout.token),
    name: m.name,
    peerUrl: m.peerUrl,
    clientUrl: m.clientUrl,
  }));
  return { members, clusterId: computeClusterId(members.map((m) => m.id)) };
}

/** `etcdctl member list` (simple and JSON), /v2/members on every client URL, and the IDs in headers. */
async function checkMembership(c: Cluster): Promise<string> {
  const { members, clusterId } = expectedMembers(c);
  const simple = await ctlOk(["member", "list"], { endpoints: c.endpoints() });
  assert.deepEqual(
    simple.trimEnd().split("\n").sort(),
    members
      .map((m) => `${m.id.toString(16)}, started, ${m.name}, ${m.peerUrl}, ${m.clientUrl}, false`)
      .sort(),
    `etcdctl member list:\n${simple}`,
  );

  const j = parseJsonBig(await ctlOk(["member", "list", "-w", "json"], { endpoints: c.endpoints() }));
  assert.equal(BigInt(j.header.cluster_id), clusterId, "cluster_id in the member list header");
  const got = (j.members as { ID: string; name: string; peerURLs: string[]; clientURLs: string[] }[])
    .map((m) => ({ id: BigInt(m.ID), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }))
    .sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(
    got,
    members.map((m) => ({ id: m.id, name: m.name, peerURLs: [m.peerUrl], clientURLs: [m.clientUrl] })),
  );

  // curl http://<client-url>/v2/members on every listen client URL of every member.
  const wantV2 = {
    members: [...members]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((m) => ({
        id: m.id.toString(16),
        name: m.name,
        peerURLs: [m.peerUrl],
        clientURLs: [m.clientUrl],
      })),
  };
  for (const m of c.layout.members) {
    for (const url of [m.clientUrl, m.clientUrl2].filter((u): u is string => u !== undefined)) {
      const r = await httpGet(`${url}/v2/members`);
      assert.equal(r.status, 200, `GET ${url}/v2/members: ${r.body}`);
      assert.match(String(r.headers["content-type"]), /^application\/json/);
      assert.equal(r.headers["x-etcd-cluster-id"], clusterId.toString(16));
      const body = JSON.parse(r.body) as typeof wantV2;
      body.members.sort((a, b) => (BigInt(`0x${a.id}`) < BigInt(`0x${b.id}`) ? -1 : 1));
      assert.deepEqual(body, wantV2, `GET ${url}/v2/members`);
    }
  }

  // Every member answers with its own member_id and the common cluster_id.
  for (const [i, m] of members.entries()) {
    const h = parseJsonBig(
      await ctlOk(["get", "nothing", "-w", "json"], { endpoints: c.endpoints([i]) }),
    ).header;
    assert.equal(BigInt(h.member_id), m.id, `member_id from ${m.name}`);
    assert.equal(BigInt(h.cluster_id), clusterId, `cluster_id from ${m.name}`);
    assert.ok(Number(h.raft_term) >= 1);
  }
  return simple;
}

/** A write through one member's URL is read back through every member's URL. */
async function checkReplication(c: Cluster, urls: string[][]): Promise<void> {
  const key = `boot-${Date.now()}`;
  assert.equal(await ctlOk(["put", key, "v1"], { endpoints: urls[0]! }), "OK\n");
  for (const eps of urls) {
    assert.equal(await ctlOk(["get", key], { endpoints: eps }), `${key}\nv1\n`, `get through ${eps}`);
  }
  void c;
}

const host = (u: string): string => new URL(u).host;

/** After SIGTERM: exit code 0 (etcd-ts stops cleanly and exits) or death by the signal (etcd re-raises it). */
const cleanExit = (st: ExitStatus): boolean => st.code === 0 || st.signal === "SIGTERM";

describe("static bootstrap", { skip, concurrency: 1 }, () => {
  test("guide flags: three members, member 0 on two peer URLs, two client URLs each", {
    timeout: 60_000,
  }, async () => {
    const c = await start({ extraPeerListener: true, secondClientUrl: true });
    try {
      // The process got exactly the guide's flag set.
      const flags = c.members[0]!.spec.args.filter((a) => a.startsWith("--"));
      assert.deepEqual(flags, [
        "--name",
        "--initial-advertise-peer-urls",
        "--listen-peer-urls",
        "--listen-client-urls",
        "--advertise-client-urls",
        "--initial-cluster-token",
        "--initial-cluster",
        "--initial-cluster-state",
      ]);
      assert.equal(c.members[0]!.spec.args[5]!.split(",").length, 2, "member 0 listens on two peer URLs");
      const ours = await checkMembership(c);

      // Both client URLs of every member serve gRPC and /health.
      const L = c.layout.members;
      await checkReplication(c, [
        [host(L[0]!.clientUrl2!)],
        [host(L[1]!.clientUrl)],
        [host(L[2]!.clientUrl2!)],
      ]);
      for (const m of L) {
        const r = await httpGet(`${m.clientUrl2}/health`);
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.body).health, "true");
      }

      // Member 0's second (unadvertised) peer URL is a working peer listener.
      const extra = L[0]!.extraPeerUrl!;
      const v = await httpGet(`${extra}/version`);
      assert.equal(v.status, 200, `GET ${extra}/version`);
      assert.match(JSON.parse(v.body).etcdserver, /^3\.\d+\.\d+/);
      const pm = await httpGet(`${extra}/members`);
      assert.equal(pm.status, 200, `GET ${extra}/members`);
      assert.deepEqual((JSON.parse(pm.body) as { name: string }[]).map((m) => m.name).sort(), [
        "m0",
        "m1",
        "m2",
      ]);

      // The real etcd 3.4 on exactly the same flags derives the same member and cluster IDs.
      if (haveRealEtcd) {
        await c.destroy();
        const real = await start({
          real: true,
          layout: c.layout,
          extraPeerListener: true,
          secondClientUrl: true,
        });
        const theirs = await ctlOk(["member", "list"], { endpoints: real.endpoints() });
        assert.deepEqual(theirs.trimEnd().split("\n").sort(), ours.trimEnd().split("\n").sort());
        const h = parseJsonBig(
          await ctlOk(["get", "x", "-w", "json"], { endpoints: real.endpoints([0]) }),
        ).header;
        assert.equal(BigInt(h.cluster_id), expectedMembers(c).clusterId, "real etcd's cluster_id");
        await real.destroy();
      }
    } catch (e) {
      throw new Error(`${String(e instanceof Error ? e.stack : e)}\n${c.logs()}`);
    } finally {
      await c.destroy();
    }
  });

  test("the same configuration through ETCD_* variables only", { timeout: 60_000 }, async () => {
    const c = await start({ via: "env", extraPeerListener: true, secondClientUrl: true });
    try {
      for (const m of c.members) {
        assert.deepEqual(m.spec.args, [], "no command-line flags");
        assert.deepEqual(Object.keys(m.spec.env ?? {}).sort(), [
          "ETCD_ADVERTISE_CLIENT_URLS",
          "ETCD_INITIAL_ADVERTISE_PEER_URLS",
          "ETCD_INITIAL_CLUSTER",
          "ETCD_INITIAL_CLUSTER_STATE",
          "ETCD_INITIAL_CLUSTER_TOKEN",
          "ETCD_LISTEN_CLIENT_URLS",
          "ETCD_LISTEN_PEER_URLS",
          "ETCD_NAME",
        ]);
      }
      await checkMembership(c);
      const L = c.layout.members;
      await checkReplication(c, [
        [host(L[2]!.clientUrl)],
        [host(L[0]!.clientUrl2!)],
        [host(L[1]!.clientUrl)],
      ]);
      const v = await httpGet(`${L[0]!.extraPeerUrl}/version`);
      assert.equal(v.status, 200);
      // The default data dir <name>.etcd in the working directory.
      for (const [i] of c.members.entries()) assert.ok(existsSync(join(c.dataDir(i), "member")));
    } catch (e) {
      throw new Error(`${String(e instanceof Error ? e.stack : e)}\n${c.logs()}`);
    } finally {
      await c.destroy();
    }
  });

  test("--wal-dir: the WAL lives there, and members restart from it (SIGKILL and SIGTERM)", {
    timeout: 60_000,
  }, async () => {
    const c = await start({ walDir: true });
    try {
      await checkMembership(c);
      for (const [i, m] of c.members.entries()) {
        const walDir = join(c.dir, `${m.name}.wal`);
        const wals = readdirSync(walDir).filter((f) => f.endsWith(".wal"));
        assert.ok(wals.length >= 1, `WAL files in ${walDir}: ${readdirSync(walDir).join(" ")}`);
        assert.ok(!existsSync(join(c.dataDir(i), "member", "wal")), "no WAL in the data dir");
        assert.ok(existsSync(join(c.dataDir(i), "member", "snap")), "the backend stays in the data dir");
      }

      const all = c.endpoints();
      assert.equal(await ctlOk(["put", "before", "1"], { endpoints: all }), "OK\n");
      // The two followers (killing the leader would add an election, which is not the point here).
      const li = await c.leaderIndex();
      const [fi, fj] = [(li + 1) % 3, (li + 2) % 3];
      // kill -9 one follower, write while it is down, restart it from the same data and WAL dirs.
      const st = await c.members[fi]!.kill("SIGKILL");
      assert.equal(st.signal, "SIGKILL");
      assert.equal(await ctlOk(["put", "while-down", "2"], { endpoints: c.endpoints([li, fj]) }), "OK\n");
      await c.members[fi]!.restart();
      await until(
        async () => {
          const out = await ctlOk(["get", "--prefix", "", "--keys-only", "--consistency=s"], {
            endpoints: c.endpoints([fi]),
          });
          return out.includes("while-down") ? out : undefined;
        },
        "the restarted member to catch up",
        15_000,
      );
      // SIGTERM stops the other follower cleanly (exit code 0); it restarts with its data.
      const term = await c.members[fj]!.kill("SIGTERM");
      assert.ok(
        cleanExit(term),
        `exit status after SIGTERM: ${JSON.stringify(term)}\n${c.members[fj]!.logTail()}`,
      );
      await c.members[fj]!.restart();
      const out = await ctlOk(["get", "--prefix", "", "--consistency=s"], { endpoints: c.endpoints([fj]) });
      assert.equal(out, "before\n1\nwhile-down\n2\n");
      await checkMembership(c);
      assert.ok(
        [fi, fj].every((i) =>
          readdirSync(join(c.dir, `${c.members[i]!.name}.wal`)).some((f) => f.endsWith(".wal")),
        ),
        "the restarted members still use --wal-dir",
      );
    } catch (e) {
      throw new Error(`${String(e instanceof Error ? e.stack : e)}\n${c.logs()}`);
    } finally {
      await c.destroy();
    }
  });

  test("a whole cluster stopped (SIGTERM) and started again elects a leader (one member, then three)", {
    timeout: 60_000,
  }, async () => {
    for (const size of [1, 3]) {
      const c = await start({ size });
      try {
        assert.equal(await ctlOk(["put", "k", `v${size}`], { endpoints: c.endpoints() }), "OK\n");
        for (const m of c.members) {
          const st = await m.kill("SIGTERM");
          assert.ok(cleanExit(st), `${m.name} after SIGTERM: ${JSON.stringify(st)}\n${m.logTail()}`);
        }
        for (const m of c.members) m.start();
        // The data is there at once (serializable read, no leader needed) ...
        await until(
          async () =>
            (await ctlOk(["get", "k", "--consistency=s", "--print-value-only"], {
              endpoints: c.endpoints([0]),
            })) === `v${size}\n`
              ? true
              : undefined,
          "the restarted member to serve its data",
          10_000,
        );
        // ... and a leader is elected (etcd 3.4 takes about one election timeout).
        await c.waitHealthy(10_000);
        assert.equal(await ctlOk(["put", "k", "after"], { endpoints: c.endpoints() }), "OK\n");
      } catch (e) {
        throw new Error(`${size}-member cluster: ${String(e instanceof Error ? e.stack : e)}\n${c.logs(10)}`);
      } finally {
        await c.destroy();
      }
    }
  });
});
