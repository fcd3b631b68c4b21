// Auth on a 3-member bin/etcd cluster, driven by the real etcdctl 3.4 and by raw gRPC calls: root and
// `auth enable`, anonymous requests refused, a user whose only role reads a prefix, the gateway's
// Authorization header, then a token kept through a leader's death, a member's restart and a member's
// replacement (the new member gets the database as a snapshot, so it never saw the token issued),
// and `auth disable`.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EtcdGrpc } from "../auth/grpc_helpers.js";
import {
  Cluster,
  CtlProcess,
  ctlOk,
  etcdctl,
  freePorts,
  type Member,
  parseJsonBig,
  skipWithoutEtcdctl,
  until,
} from "./cluster.js";

const ROOT = "root:rootpw";
const ALICE = "alice:alicepw";

let c: Cluster | undefined;
const clients: EtcdGrpc[] = [];
const live = () => c!.liveEndpoints();

/** etcdctl as `user` ("name:password"; none: anonymous) against the live members. */
function ctl(args: string[], user?: string, endpoints: string[] = live()) {
  return etcdctl(user === undefined ? args : [`--user=${user}`, ...args], { endpoints });
}

async function ctlAs(
  user: string | undefined,
  args: string[],
  endpoints: string[] = live(),
): Promise<string> {
  return ctlOk(user === undefined ? args : [`--user=${user}`, ...args], { endpoints });
}

/**
 * etcdctl must fail with exactly this etcd error (exit 1; a failed authentication is 2, etcdctl's "bad
 * connection", as with the real etcd).
 */
async function refused(
  args: string[],
  user: string | undefined,
  message: string,
  endpoints = live(),
  code = message.includes("authentication failed") ? 2 : 1,
) {
  const r = await ctl(args, user, endpoints);
  assert.equal(r.code, code, `etcdctl ${args.join(" ")} should fail: ${r.stdout}${r.stderr}`);
  // etcdctl prints "Error: <message>", for some commands "Error: <what failed> (<message>)".
  const m = message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.match(r.stderr, new RegExp(`Error: (?:${m}|[^\n]*\\(${m}\\))`), r.stderr);
}

function grpcTo(m: Member): EtcdGrpc {
  const g = new EtcdGrpc(m.endpoint);
  clients.push(g);
  return g;
}

/** The index of the leader among the running members (endpoint status needs a user with auth on). */
function leaderIndex(): Promise<number> {
  return until(async () => {
    const r = await ctl(["endpoint", "status", "-w", "json"], ROOT);
    if (r.code !== 0) return undefined;
    const st = parseJsonBig(r.stdout) as {
      Endpoint: string;
      Status: { header: { member_id: string }; leader: string };
    }[];
    const l = st.find((s) => s.Status.leader !== "0" && s.Status.leader === s.Status.header.member_id);
    const i = l === undefined ? -1 : c!.members.findIndex((m) => m.endpoint === l.Endpoint);
    return i >= 0 ? i : undefined;
  }, "a leader among the live members");
}

/** Runs `f`; a failure carries the members' log tails. */
async function withLogs(f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.stack : String(e)}\n${c!.logs(20)}`);
  }
}

/** Reads /app/a with `token` at member `m` and expects `want`. */
async function readsWith(m: Member, token: string, want: string): Promise<void> {
  const r = await grpcTo(m).get("/app/a", token);
  assert.deepEqual(r, { ok: true, value: want }, `read at ${m.name}`);
}

describe("auth on a 3-member cluster", { skip: skipWithoutEtcdctl, timeout: 120_000 }, () => {
  before(async () => {
    // Small snapshots so that a member added later receives the database, not the log; cheap bcrypt.
    c = await Cluster.start({
      size: 3,
      extraArgs: ["--snapshot-count=20", "--experimental-snapshot-catchup-entries=5", "--bcrypt-cost=4"],
    });
  });

  after(async () => {
    for (const g of clients) g.close();
    await c?.destroy();
  });

  test("root, auth enable; anonymous and wrong passwords refused; a read-only role on a prefix", async () => {
    assert.equal(await ctlAs(undefined, ["user", "add", ROOT]), "User root created\n");
    // etcdctl 3.4 adds the root role and grants it when the server answers "root user does not have root role".
    assert.equal(await ctlAs(undefined, ["auth", "enable"]), "Authentication Enabled\n");
    await refused(["put", "k", "v"], undefined, "etcdserver: user name is empty");
    await refused(["get", "k"], undefined, "etcdserver: user name is empty");
    await refused(
      ["get", "k"],
      "root:wrong",
      "etcdserver: authentication failed, invalid user ID or password",
    );
    await refused(
      ["get", "k"],
      "nobody:pw",
      "etcdserver: authentication failed, invalid user ID or password",
    );

    await ctlAs(ROOT, ["role", "add", "reader"]);
    await ctlAs(ROOT, ["role", "grant-permission", "reader", "read", "--prefix", "/app/"]);
    await ctlAs(ROOT, ["user", "add", ALICE]);
    await ctlAs(ROOT, ["user", "grant-role", "alice", "reader"]);
    assert.equal(await ctlAs(ROOT, ["put", "/app/a", "1"]), "OK\n");
    assert.equal(await ctlAs(ROOT, ["put", "/other", "x"]), "OK\n");

    // Alice reads under /app/ and nowhere else, and writes nowhere.
    assert.equal(await ctlAs(ALICE, ["get", "/app/a", "--print-value-only"]), "1\n");
    assert.equal(await ctlAs(ALICE, ["get", "--prefix", "/app/", "--keys-only"]), "/app/a\n\n");
    await refused(["get", "/other"], ALICE, "etcdserver: permission denied");
    await refused(["get", "--prefix", "/"], ALICE, "etcdserver: permission denied");
    await refused(["get", "--from-key", "/app/"], ALICE, "etcdserver: permission denied");
    await refused(["put", "/app/a", "2"], ALICE, "etcdserver: permission denied");
    await refused(["del", "/app/a"], ALICE, "etcdserver: permission denied");
    await refused(["user", "list"], ALICE, "etcdserver: permission denied");
    const snap = await ctl(["snapshot", "save", `${c!.dir}/snap.db`], ALICE, [c!.members[0]!.endpoint]);
    assert.notEqual(snap.code, 0);
    assert.match(snap.stderr, /Error: etcdserver: permission denied/);
    // A txn that only compares a key alice cannot read is refused too.
    const t = await etcdctl([`--user=${ALICE}`, "txn"], {
      endpoints: live(),
      stdin: 'value("/other") = "x"\n\nget /app/a\n\n\n',
    });
    assert.equal(t.code, 1);
    assert.match(t.stderr, /etcdserver: permission denied/);
    // Watching outside the prefix is refused as the watch is created.
    const w = new CtlProcess([`--user=${ALICE}`, "watch", "/other"], { endpoints: live() });
    await w.exited();
    assert.match(w.stdout + w.stderr, /watch was canceled \(etcdserver: permission denied\)/);
    // Anyone authenticated may list members; alice may read herself.
    assert.match(await ctlAs(ALICE, ["member", "list"]), /started/);
    assert.equal(await ctlAs(ALICE, ["user", "get", "alice"]), "User: alice\nRoles: reader\n");
    assert.equal(await ctlAs(ROOT, ["get", "/other", "--print-value-only"]), "x\n");

    // The JSON gateway takes the token in the Authorization header.
    const url = `http://${c!.members[1]!.endpoint}`;
    const auth = (await (
      await fetch(`${url}/v3/auth/authenticate`, {
        method: "POST",
        body: JSON.stringify({ name: "alice", password: "alicepw" }),
      })
    ).json()) as { token: string };
    assert.match(auth.token, /^[A-Za-z]{16}\.\d+$/, "a simple token: 16 letters, '.', the raft index");
    const key = Buffer.from("/app/a").toString("base64");
    const ok = await fetch(`${url}/v3/kv/range`, {
      method: "POST",
      headers: { Authorization: auth.token },
      body: JSON.stringify({ key }),
    });
    assert.equal(ok.status, 200);
    assert.equal(
      ((await ok.json()) as { kvs: { value: string }[] }).kvs[0]!.value,
      Buffer.from("1").toString("base64"),
    );
    const anon = await fetch(`${url}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key }) });
    assert.equal(anon.status, 400);
    assert.deepEqual(await anon.json(), {
      error: "etcdserver: user name is empty",
      code: 3,
      message: "etcdserver: user name is empty",
    });
    const bad = await fetch(`${url}/v3/kv/range`, {
      method: "POST",
      headers: { Authorization: "nope.1" },
      body: JSON.stringify({ key }),
    });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { error: string }).error, "etcdserver: invalid auth token");
  });

  test("leases: the member revokes expired ones (as root); users renew and revoke only leases on keys they may write", async () => {
    const lease = /lease ([0-9a-f]+) granted/.exec(await ctlAs(ROOT, ["lease", "grant", "2"]))![1]!;
    assert.equal(await ctlAs(ROOT, ["put", "--lease", lease, "/other/leased", "v"]), "OK\n");
    // (etcdctl's keep-alive and timetolive exit 2 on errors.)
    await refused(
      ["lease", "keep-alive", "--once", lease],
      ALICE,
      "etcdserver: permission denied",
      live(),
      2,
    );
    await refused(["lease", "revoke", lease], ALICE, "etcdserver: permission denied");
    await refused(
      ["lease", "timetolive", lease, "--keys"],
      ALICE,
      "etcdserver: permission denied",
      live(),
      2,
    );
    await refused(["lease", "grant", "10"], undefined, "etcdserver: user name is empty");
    // Expiry is the member's own doing: it must not be held back by auth.
    await until(async () => {
      const out = await ctlAs(ROOT, ["get", "/other/leased", "--keys-only"]);
      return out === "" ? true : undefined;
    }, "the expired lease's key deleted");
  });

  test("failed authentications are rate-limited per user name and logged", async () => {
    const m = c!.members[0]!;
    const g = grpcTo(m);
    const failed = {
      ok: false,
      code: 3,
      message: "etcdserver: authentication failed, invalid user ID or password",
    };
    for (let i = 0; i < 5; i++) assert.deepEqual(await g.authenticate("mallory", `guess${i}`), failed);
    assert.deepEqual(await g.authenticate("mallory", "guess5"), {
      ok: false,
      code: 8,
      message: "etcdserver: too many requests",
    });
    // Other names are not held back.
    assert.equal((await g.authenticate("alice", "alicepw")).ok, true);
    // One more attempt per second comes back.
    const again = await until(async () => {
      const r = await g.authenticate("mallory", "guess6");
      return !r.ok && r.code === 3 ? r : undefined;
    }, "an attempt allowed again");
    assert.deepEqual(again, failed);
    const log = m.log();
    assert.match(log, /"user":"mallory".*"msg":"invalid authentication was requested"/);
    assert.match(log, /"user":"mallory".*"msg":"too many failed authentications for this user; refused"/);
  });

  test("a token keeps working across a leader change and a member restart", async () => {
    const lead = await leaderIndex();
    const follower = c!.members[(lead + 1) % 3]!;
    const token = await grpcTo(follower).token("alice", "alicepw");
    // Issued through Raft: every member knows it.
    for (const m of c!.members) await readsWith(m, token, "1");
    // Later writes, so that the backends commit past the token's entry: a restarted member will not apply
    // that entry again from its WAL.
    for (let i = 0; i < 3; i++) assert.equal(await ctlAs(ROOT, ["put", "/later", `${i}`]), "OK\n");

    await c!.members[lead]!.kill("SIGKILL");
    const newLead = await leaderIndex();
    assert.notEqual(newLead, lead);
    for (const m of c!.members.filter((x) => x.running())) await readsWith(m, token, "1");

    // The old leader comes back knowing nothing of the token in memory: it reads it from its backend.
    await c!.members[lead]!.restart();
    await readsWith(c!.members[lead]!, token, "1");
    // Credentials still checked there: the token's user cannot write.
    const w = await grpcTo(c!.members[lead]!).put("/app/a", "2", token);
    assert.deepEqual(w, { ok: false, code: 7, message: "etcdserver: permission denied" });
  });

  test("a token keeps working on a member that replaced another (database received as a snapshot)", async () => {
    await withLogs(replaceMember);
  });

  async function replaceMember(): Promise<void> {
    const g = grpcTo(c!.members[0]!);
    const token = await g.token("alice", "alicepw");
    // Enough entries after the token's that the log holding it is compacted away.
    const rootToken = await g.token("root", "rootpw");
    for (let i = 0; i < 40; i++) assert.equal((await g.put(`/fill/${i % 4}`, `${i}`, rootToken)).ok, true);

    const lead = await leaderIndex();
    const gone = c!.members.findIndex((m, i) => i !== lead && m.running());
    const status = parseJsonBig(
      await ctlAs(ROOT, ["endpoint", "status", "-w", "json"], [c!.members[gone]!.endpoint]),
    );
    const goneId = BigInt(status[0].Status.header.member_id).toString(16);
    // Strict reconfiguration waits until every voter has been connected for a while (one just restarted).
    // Asked of the others: the removed member stops as it applies its removal, maybe before answering.
    const others = c!.members.filter((m, i) => i !== gone && m.running()).map((m) => m.endpoint);
    await until(async () => {
      const r = await ctl(["member", "remove", goneId], ROOT, others);
      if (r.code === 0) return r.stdout;
      assert.match(r.stderr, /unhealthy cluster/);
      return undefined;
    }, "member remove accepted");
    await c!.members[gone]!.exited();

    const [port] = await freePorts(1);
    const peer = `http://127.0.0.1:${port}`;
    const added = await until(async () => {
      const r = await ctl(["member", "add", "m3", `--peer-urls=${peer}`], ROOT);
      if (r.code === 0) return r.stdout;
      assert.match(r.stderr, /unhealthy cluster/);
      return undefined;
    }, "member add accepted");
    const m3 = await c!.join(added);
    await m3.waitHealthy();
    await until(
      () => (/applied database snapshot from the leader/.test(m3.log()) ? true : undefined),
      "m3 installs a snapshot",
    );
    await readsWith(m3, token, "1");
    await refused(["get", "/other"], ALICE, "etcdserver: permission denied", [m3.endpoint]);
  }

  test("auth disable: anonymous requests work again", async () => {
    await refused(["auth", "disable"], ALICE, "etcdserver: permission denied");
    assert.equal(await ctlAs(ROOT, ["auth", "disable"]), "Authentication Disabled\n");
    assert.equal(await ctlAs(undefined, ["get", "/other", "--print-value-only"]), "x\n");
    assert.equal(await ctlAs(undefined, ["put", "/app/a", "3"]), "OK\n");
  });
});
