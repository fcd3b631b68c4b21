// Day-two membership operations on bin/etcd processes, driven by the real etcdctl 3.4 and curl-style
// HTTP: list, add and join (from a snapshot), remove (a follower, the leader), learners and promotion,
// peer URL update, replacing a failed member, the /v2/members API.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Etcd3 } from "etcd3";
import {
  Cluster,
  CtlProcess,
  ctlOk,
  etcdctl,
  freePorts,
  httpGet,
  type Member,
  parseJsonBig,
  skipWithoutEtcdctl,
  until,
} from "./cluster.js";

const REMOVED_LINE = "the member has been permanently removed from the cluster";
const DATA_DIR_LINE = "the data-dir used by this member must be removed";

let c: Cluster | undefined;

/** Endpoints of the running members. */
const live = () => c!.liveEndpoints();

/** `member list -w json` as {id (hex), name, peerURLs, clientURLs, isLearner}. */
async function memberList(): Promise<
  { id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }[]
> {
  const out = parseJsonBig(await ctlOk(["member", "list", "-w", "json"], { endpoints: live() })) as {
    members: { ID: string; name?: string; peerURLs: string[]; clientURLs?: string[]; isLearner?: boolean }[];
  };
  return out.members.map((m) => ({
    id: BigInt(m.ID).toString(16),
    name: m.name ?? "",
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs ?? [],
    isLearner: m.isLearner ?? false,
  }));
}

/**
 * `etcdctl member add ...`, retried while the answer is "unhealthy cluster": strict reconfiguration
 * adds a voter only once every voter has been connected for 5 s (so right after a start or restart).
 */
function addMember(args: string[]): Promise<string> {
  return until(
    async () => {
      const r = await etcdctl(["member", "add", ...args], { endpoints: live() });
      if (r.code === 0) return r.stdout;
      assert.match(r.stderr, /etcdserver: unhealthy cluster/);
      return undefined;
    },
    `member add ${args.join(" ")} accepted`,
  );
}

function addedId(out: string): string {
  const m = /^Member +([0-9a-f]+) added to cluster +([0-9a-f]+)$/m.exec(out);
  assert.ok(m, `member add output: ${out}`);
  return m[1]!;
}

async function newPeerUrl(): Promise<string> {
  const [p] = await freePorts(1);
  return `http://127.0.0.1:${p}`;
}

/** The hex member ID of a process, from `endpoint status`. */
async function idOf(m: Member): Promise<string> {
  const st = parseJsonBig(await ctlOk(["endpoint", "status", "-w", "json"], { endpoints: [m.endpoint] }));
  return BigInt(st[0].Status.header.member_id).toString(16);
}

async function putGet(key: string, value: string, endpoints: string[]): Promise<void> {
  assert.equal(await ctlOk(["put", key, value], { endpoints }), "OK\n");
  assert.equal(await ctlOk(["get", key, "--print-value-only"], { endpoints }), `${value}\n`);
}

describe("membership with bin/etcd processes", { skip: skipWithoutEtcdctl, concurrency: 1 }, () => {
  before(async () => {
    // Snapshots every 50 entries, keeping 10: a member that joins later catches up from a snapshot.
    c = await Cluster.start({
      extraArgs: ["--snapshot-count=50", "--experimental-snapshot-catchup-entries=10"],
    });
  });
  after(async () => {
    await c?.destroy();
  });

  test("member list (simple, table, json) and GET /v2/members, /v2/members/leader", async () => {
    const simple = await ctlOk(["member", "list"], { endpoints: live() });
    const lines = simple.trim().split("\n");
    assert.equal(lines.length, 3);
    for (const l of lines)
      assert.match(
        l,
        /^[0-9a-f]+, started, m\d, http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+, false$/,
      );
    const table = await ctlOk(["member", "list", "-w", "table"], { endpoints: live() });
    assert.match(table, /\| +ID +\| +STATUS +\| +NAME +\| +PEER ADDRS +\| +CLIENT ADDRS +\| +IS LEARNER +\|/);
    const json = await memberList();
    assert.deepEqual(json.map((m) => m.name).sort(), ["m0", "m1", "m2"]);

    const r = await httpGet(`${c!.members[0]!.spec.clientUrl}/v2/members`);
    assert.equal(r.status, 200);
    const v2 = JSON.parse(r.body) as { members: { id: string; name: string; peerURLs: string[] }[] };
    assert.deepEqual(v2.members.map((m) => m.id).sort(), json.map((m) => m.id).sort());
    const l = await httpGet(`${c!.members[1]!.spec.clientUrl}/v2/members/leader`);
    assert.equal(l.status, 200);
    assert.ok(json.some((m) => m.id === (JSON.parse(l.body) as { id: string }).id));
  });

  test("a watch on a member that falls behind and installs the leader's snapshot loses no event", async () => {
    const li = await c!.leaderIndex();
    const follower = c!.members.find((_, i) => i !== li)!;
    const others = c!.members.filter((m) => m !== follower).map((m) => m.endpoint);
    const watch = new CtlProcess(["watch", "--prefix", "sw/"], { endpoints: [follower.endpoint] });
    const N = 1000;
    try {
      await ctlOk(["put", "sw/first", "0"], { endpoints: others });
      await watch.waitFor((o) => o.includes("sw/first"), "the first event");
      follower.proc!.kill("SIGSTOP");
      // More entries than the leader pipelines to a silent follower (its in-flight window), with
      // snapshots every 50 (10 kept): the follower's next entry is compacted away by the time it wakes.
      const client = new Etcd3({ hosts: others.map((e) => `http://${e}`) });
      try {
        for (let i = 0; i < N; i += 50) {
          await Promise.all(
            Array.from({ length: 50 }, (_, j) =>
              client.put(`sw/k${String(i + j).padStart(4, "0")}`).value("v"),
            ),
          );
        }
      } finally {
        client.close();
      }
      follower.proc!.kill("SIGCONT");
      await until(
        () => (follower.log().includes("applied database snapshot from the leader") ? true : undefined),
        "the follower to install a snapshot",
      );
      // Every write once (puts of one batch of 50 commit in any order), none missing, none repeated.
      const want = Array.from({ length: N }, (_, i) => `sw/k${String(i).padStart(4, "0")}`);
      const count = (o: string) => o.split("\n").filter((l) => l.startsWith("sw/")).length;
      const out = await watch.waitFor((o) => count(o) >= N + 1, "every event", 20_000);
      const keys = out.split("\n").filter((l) => l.startsWith("sw/"));
      assert.equal(keys[0], "sw/first");
      assert.equal(keys.length, N + 1, "no event repeated");
      assert.deepEqual([...keys.slice(1)].sort(), want);
    } finally {
      await watch.stop();
    }
  });

  test("member add, then the new member joins with the printed ETCD_* lines and gets data only a snapshot has", async () => {
    for (let i = 0; i < 150; i++) await ctlOk(["put", `snap/k${i}`, `v${i}`], { endpoints: live() });
    const peer = await newPeerUrl();
    const out = await addMember(["m3", `--peer-urls=${peer}`]);
    const id = addedId(out);
    assert.match(out, /^ETCD_NAME="m3"$/m);
    assert.match(out, new RegExp(`^ETCD_INITIAL_CLUSTER=".*m3=${peer}.*"$`, "m"));
    assert.match(out, new RegExp(`^ETCD_INITIAL_ADVERTISE_PEER_URLS="${peer}"$`, "m"));
    assert.match(out, /^ETCD_INITIAL_CLUSTER_STATE="existing"$/m);
    // Listed as unstarted until it runs.
    assert.match(
      await ctlOk(["member", "list"], { endpoints: live() }),
      new RegExp(`^${id}, unstarted, , ${peer}, , false$`, "m"),
    );

    const m3 = await c!.join(out);
    await m3.waitHealthy();
    assert.match(m3.log(), /received and saved database snapshot/);
    const keys = await until(async () => {
      const got = await ctlOk(["get", "snap/", "--prefix", "--keys-only", "--consistency=s"], {
        endpoints: [m3.endpoint],
      });
      const n = got.split("\n").filter((x) => x !== "").length;
      return n === 150 ? n : undefined;
    }, "all 150 keys on the new member");
    assert.equal(keys, 150);
    const listed = (await memberList()).find((m) => m.id === id);
    assert.equal(listed?.name, "m3");
    assert.deepEqual(listed?.clientURLs, [m3.spec.clientUrl]);
    await putGet("after/join", "1", [m3.endpoint]);
  });

  test("member remove of a follower: it exits by itself with status 0 and logs why", async () => {
    const m3 = c!.members.find((m) => m.name === "m3")!;
    const id = await idOf(m3);
    const others = c!.members.filter((m) => m !== m3).map((m) => m.endpoint);
    const out = await ctlOk(["member", "remove", id], { endpoints: others });
    assert.match(out, new RegExp(`^Member ${id.padStart(16)} removed from cluster [ 0-9a-f]{16}$`, "m"));
    const st = await m3.exited();
    assert.equal(st.code, 0, m3.logTail());
    assert.ok(m3.log().includes(REMOVED_LINE));
    assert.ok(m3.log().includes(DATA_DIR_LINE));
    assert.equal((await memberList()).length, 3);
    // Removing it again: not found.
    const again = await etcdctl(["member", "remove", id], { endpoints: live() });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /etcdserver: member not found/);
    // Started again from its data dir, the removed member is turned away by its former peers.
    const before = m3.log().split(REMOVED_LINE).length;
    m3.start();
    assert.equal((await m3.exited()).code, 0, m3.logTail());
    assert.ok(m3.log().split(REMOVED_LINE).length > before, "logged its removal again");
  });

  test("learner: add --learner, writes refused on it, promote refused while behind and accepted once caught up", async () => {
    const peer = await newPeerUrl();
    const out = await ctlOk(["member", "add", "m4", `--peer-urls=${peer}`, "--learner"], {
      endpoints: live(),
    });
    const id = addedId(out);
    assert.equal((await memberList()).find((m) => m.id === id)?.isLearner, true);
    // Not started: nothing replicated to it yet.
    const early = await etcdctl(["member", "promote", id], { endpoints: live() });
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /can only promote a learner member which is in sync with leader/);
    // A second learner is one too many (--experimental-max-learners 1).
    const second = await etcdctl(["member", "add", "m5", `--peer-urls=${await newPeerUrl()}`, "--learner"], {
      endpoints: live(),
    });
    assert.match(second.stderr, /etcdserver: too many learner members in cluster/);

    const m4 = await c!.join(out);
    await m4.waitHealthy();
    const put = await etcdctl(["put", "x", "y"], { endpoints: [m4.endpoint] });
    assert.match(put.stderr, /etcdserver: rpc not supported for learner/);
    await until(
      async () =>
        (await etcdctl(["member", "promote", id], { endpoints: live() })).code === 0 ? true : undefined,
      "the caught-up learner promoted",
    );
    assert.equal((await memberList()).find((m) => m.id === id)?.isLearner, false);
    await putGet("after/promote", "1", [m4.endpoint]);
  });

  test("member update to a new peer URL; the member restarted on it keeps working", async () => {
    const m4 = c!.members.find((m) => m.name === "m4")!;
    const id = await idOf(m4);
    const peer = await newPeerUrl();
    const out = await ctlOk(["member", "update", id, `--peer-urls=${peer}`], { endpoints: live() });
    assert.match(out, new RegExp(`^Member ${id.padStart(16)} updated in cluster [ 0-9a-f]{16}$`, "m"));
    assert.deepEqual((await memberList()).find((m) => m.id === id)?.peerURLs, [peer]);
    await m4.kill("SIGTERM");
    m4.spec.args = m4.spec.args.map((a) =>
      a.startsWith("--listen-peer-urls=") ? `--listen-peer-urls=${peer}` : a,
    );
    await m4.restart();
    // It takes part again: a write through it commits, and it sees writes made elsewhere.
    await putGet("after/update", "1", [m4.endpoint]);
    await ctlOk(["put", "after/update2", "2"], { endpoints: [c!.members[0]!.endpoint] });
    await until(
      async () =>
        (await ctlOk(["get", "after/update2", "--print-value-only", "--consistency=s"], {
          endpoints: [m4.endpoint],
        })) === "2\n"
          ? true
          : undefined,
      "m4 to apply a write made elsewhere",
    );
  });

  test("member remove of the leader: a new leader is elected and writes go on", async () => {
    const li = await c!.leaderIndex();
    const leader = c!.members[li]!;
    const id = await idOf(leader);
    const others = c!.members.filter((m) => m !== leader && m.running()).map((m) => m.endpoint);
    await ctlOk(["member", "remove", id], { endpoints: others });
    const st = await leader.exited();
    assert.equal(st.code, 0, leader.logTail());
    assert.ok(leader.log().includes(REMOVED_LINE));
    const ni = await c!.leaderIndex();
    assert.notEqual(ni, li);
    await putGet("after/leader-removed", "1", others);
    assert.equal((await memberList()).length, 3);
  });

  test("replace a failed member: kill, remove, add with an empty data dir; full fault tolerance again", async () => {
    const li = await c!.leaderIndex();
    const victim = c!.members.find((m, i) => i !== li && m.running())!;
    const id = await idOf(victim);
    await victim.kill("SIGKILL");
    await ctlOk(["member", "remove", id], { endpoints: live() });
    const peer = await newPeerUrl();
    const out = await addMember(["m6", `--peer-urls=${peer}`]);
    const m6 = await c!.join(out);
    await m6.waitHealthy();
    await until(
      async () => ((await memberList()).find((m) => m.name === "m6") ? true : undefined),
      "m6 started",
    );
    // Three voters again: any one may fail.
    const other = c!.members.find((m) => m.running() && m !== m6 && c!.members.indexOf(m) !== li)!;
    await other.kill("SIGKILL");
    await putGet("after/replace", "1", live());
    await other.restart();
  });

  test("/v2/members: POST adds, PUT updates, DELETE removes, with etcd's status codes", async () => {
    const base = c!.members.find((m) => m.running())!.spec.clientUrl;
    const call = async (method: string, path: string, body?: object, type = "application/json") => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { "Content-Type": type },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, text: await res.text() };
    };
    const peer = await newPeerUrl();
    // A voter that never starts: the other three keep the quorum (3 of 4), and strict
    // reconfiguration lets a member that is down be removed.
    const add = await until(async () => {
      const r = await call("POST", "/v2/members", { peerURLs: [peer] });
      if (r.status === 201) return r;
      assert.match(r.text, /unhealthy cluster/); // members connected for under 5 s
      return undefined;
    }, "POST /v2/members accepted");
    const m = JSON.parse(add.text) as { id: string; peerURLs: string[] };
    assert.deepEqual(m.peerURLs, [peer]);
    assert.equal((await call("POST", "/v2/members", { peerURLs: [peer] })).status, 409);
    assert.equal((await call("POST", "/v2/members", { peerURLs: [peer] }, "text/plain")).status, 415);
    const peer2 = await newPeerUrl();
    assert.equal((await call("PUT", `/v2/members/${m.id}`, { peerURLs: [peer2] })).status, 204);
    assert.deepEqual((await memberList()).find((x) => x.id === m.id)?.peerURLs, [peer2]);
    assert.equal((await call("DELETE", `/v2/members/${m.id}`)).status, 204);
    assert.equal((await call("DELETE", `/v2/members/${m.id}`)).status, 404);
    assert.equal((await call("DELETE", "/v2/members/zz")).status, 404);
    assert.equal((await memberList()).length, 3);
  });
});

describe("--add-voters-as-learners", { skip: skipWithoutEtcdctl, concurrency: 1 }, () => {
  let one: Cluster | undefined;
  before(async () => {
    one = await Cluster.start({ size: 1, extraArgs: ["--add-voters-as-learners"] });
  });
  after(async () => {
    await one?.destroy();
  });

  test("a voter added and never started does not cost a one-member cluster its quorum; once started it is promoted", async () => {
    const ep = one!.endpoints();
    const out = await ctlOk(["member", "add", "late", `--peer-urls=${await newPeerUrl()}`], {
      endpoints: ep,
    });
    // Plain etcd would now need 2 of 2 voters and refuse every write until "late" runs.
    await putGet("still/writable", "1", ep);
    const late = await one!.join(out);
    await late.waitHealthy();
    await until(async () => {
      const list = parseJsonBig(await ctlOk(["member", "list", "-w", "json"], { endpoints: ep })) as {
        members: { name?: string; isLearner?: boolean }[];
      };
      const m = list.members.find((x) => x.name === "late");
      return m !== undefined && !m.isLearner ? true : undefined;
    }, "the new member promoted automatically");
    await putGet("after/auto-promote", "1", one!.liveEndpoints());
  });
});
