// The backend quota end to end: a 3-member bin/etcd cluster and a single real etcd 3.4, both with a small
// --quota-backend-bytes, are filled through the real etcdctl 3.4 until it says the database space is
// exceeded; the NOSPACE alarm then shows and behaves as in etcd (listed the same way, replicated to every
// member, kept over a restart, writes refused and deletes allowed) until compaction, defrag and
// `alarm disarm` let writes through again.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { computeMemberId } from "../../src/server/ids.js";
import {
  Cluster,
  type CtlResult,
  ctlOk,
  etcdctl,
  haveRealEtcd,
  httpGet,
  parseJsonBig,
  skipWithoutEtcdctl,
  startRealEtcd,
  until,
} from "./cluster.js";

const QUOTA = 2 * 1024 * 1024;
const QUOTA_ARGS = ["--quota-backend-bytes", String(QUOTA)];
const NOSPACE = "Error: etcdserver: mvcc: database space exceeded";
/** Below etcdctl's 128 KiB limit on one argument; about 20 of them fill the quota. */
const VALUE = "x".repeat(100_000);

let ours: Cluster | undefined;
let real: Cluster | undefined;

interface Side {
  name: "ours" | "real";
  /** etcdctl talks to the first member only, so alarms are raised by it. */
  endpoint: string;
  all: string[];
}

function sides(): Side[] {
  const s: Side[] = [{ name: "ours", endpoint: ours!.endpoints()[0]!, all: ours!.endpoints() }];
  if (real) s.push({ name: "real", endpoint: real.endpoints()[0]!, all: real.endpoints() });
  return s;
}

/** etcdctl's stderr without the client's JSON log lines. */
const errLines = (r: CtlResult) =>
  r.stderr
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith('{"level"'))
    .join("\n");

/** Runs on both sides (each on its first member), checks exit codes and normalised outputs are equal. */
async function same(
  args: string[],
  normalize: (s: Side, out: string) => string = (_, o) => o,
  stdin?: string,
) {
  const rs = await Promise.all(sides().map((s) => etcdctl(args, { endpoints: s.endpoint, stdin })));
  const [o, r] = rs;
  if (r !== undefined) {
    const detail = `etcdctl ${args.join(" ")}\n  ours: ${JSON.stringify(o)}\n  real: ${JSON.stringify(r)}`;
    assert.equal(o!.code, r.code, detail);
    assert.equal(normalize(sides()[0]!, o!.stdout), normalize(sides()[1]!, r.stdout), detail);
    assert.equal(errLines(o!), errLines(r), detail);
  }
  return o!;
}

async function memberIdOf(endpoint: string): Promise<string> {
  const r = await etcdctl(["endpoint", "status", "-w", "json"], { endpoints: endpoint });
  assert.equal(r.code, 0, r.stderr);
  return String(parseJsonBig(r.stdout)[0].Status.header.member_id);
}

async function status(endpoint: string): Promise<{ dbSize: number; errors: string[]; revision: number }> {
  const r = await etcdctl(["endpoint", "status", "-w", "json"], { endpoints: endpoint });
  assert.equal(r.code, 0, r.stderr);
  const s = parseJsonBig(r.stdout)[0].Status;
  return { dbSize: Number(s.dbSize), errors: s.errors ?? [], revision: Number(s.header.revision) };
}

/** Puts big values (5 keys in turn, every revision kept) until the quota refuses one; returns the count. */
async function fill(s: Side): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const r = await etcdctl(["put", `big${i % 5}`, VALUE], { endpoints: s.endpoint });
    if (r.code === 0) continue;
    assert.equal(errLines(r), NOSPACE, `${s.name}: put ${i} failed otherwise: ${r.stderr}`);
    return i;
  }
  throw new Error(`${s.name}: 100 puts of 100 kB never exceeded a ${QUOTA}-byte quota`);
}

describe("backend quota and the NOSPACE alarm (etcdctl 3.4)", {
  skip: skipWithoutEtcdctl,
  concurrency: 1,
}, () => {
  /** member ID (decimal) -> "m0" / "real" */
  const names = new Map<string, string>();

  before(async () => {
    const [o, r] = await Promise.all([
      // Raft snapshots every 20 entries, keeping 10: a member stopped for a few dozen entries catches
      // up by a database snapshot (the last test).
      Cluster.start({
        extraArgs: [...QUOTA_ARGS, "--snapshot-count", "20", "--experimental-snapshot-catchup-entries", "10"],
      }),
      haveRealEtcd ? startRealEtcd({ extraArgs: QUOTA_ARGS }) : undefined,
    ]);
    ours = o;
    real = r;
    for (const m of ours.layout.members) {
      names.set(computeMemberId([m.peerUrl], ours.layout.token).toString(), m.name);
    }
    if (real) names.set(await memberIdOf(real.endpoints()[0]!), "m0");
  });
  after(async () => {
    await Promise.all([ours?.destroy(), real?.destroy()]);
  });

  const withLogs = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.stack : String(e)}\n${ours?.logs(15) ?? ""}`);
    }
  };
  /**
   * etcdctl's alarm lines, each member ID replaced by a placeholder and duplicates dropped: how many
   * members raised the alarm depends on the cluster (see below), the form of each line must not.
   */
  const alarms = (_: Side, out: string) =>
    [...new Set(out.replace(/memberID:\d+/g, "memberID:<id>").split("\n"))].join("\n");
  /** Which of our members the lines name; fails on an unknown ID. */
  const raisedBy = (out: string) =>
    [...out.matchAll(/memberID:(\d+) alarm:NOSPACE \n/g)].map((m) => {
      assert.ok(names.has(m[1]!), `alarm of an unknown member ${m[1]}`);
      return names.get(m[1]!)!;
    });

  test(
    "filling the database raises NOSPACE; writes are refused everywhere, deletes and reads work",
    { timeout: 60_000 },
    () =>
      withLogs(async () => {
        const counts = await Promise.all(sides().map(fill));
        // About quota / value size puts fit: the size judged is the file's as of the last backend commit
        // (every 100 ms, as etcd's), so a few more may slip in; bbolt's count varies with its free-page
        // reuse (13 to 17 seen).
        assert.ok(counts[0]! >= 10 && counts[0]! <= 30, `puts that fit: ${counts}`);

        // Which members raised it depends on timing, as in etcd: the member asked raises it when a put does
        // not fit its file; every member also judges the quota against its own file as it applies a
        // write (files grow when the backend commits, every 100 ms), and raises it if that write fails.
        const list = await same(["alarm", "list"], alarms);
        assert.ok(raisedBy(list.stdout).length > 0, list.stdout);

        await same(["put", "small", "v"]);
        const lease = await same(["lease", "grant", "10"]);
        assert.equal(
          errLines(lease),
          "Error: failed to grant lease (etcdserver: mvcc: database space exceeded)",
        );
        // A txn with a put is refused; one that only deletes goes through.
        assert.equal(errLines(await same(["txn"], undefined, "\nput t v\n\n\n")), NOSPACE);
        assert.equal((await same(["txn"], undefined, "\ndel nothing\n\n\n")).stdout, "SUCCESS\n\n0\n");
        assert.equal((await same(["del", "big4"])).stdout, "1\n");
        assert.equal((await same(["get", "big0", "--keys-only"])).stdout, "big0\n\n");

        // Every member of ours refuses writes (the alarm is replicated state), whichever one is asked.
        for (const ep of ours!.endpoints().slice(1)) {
          const r = await etcdctl(["put", "via-follower", "v"], { endpoints: ep });
          assert.equal(errLines(r), NOSPACE, ep);
          const st = await status(ep);
          assert.ok(
            st.errors.some((e) => /^memberID:\d+ alarm:NOSPACE $/.test(e)),
            JSON.stringify(st.errors),
          );
        }
        for (const m of ours!.members) {
          const h = await m.health();
          assert.deepEqual(h, { status: 503, health: "false", reason: "ALARM NOSPACE" }, m.name);
          const ok = await httpGet(`${m.spec.clientUrl}/health?exclude=NOSPACE`);
          assert.equal(ok.status, 200, ok.body);
        }
        const metrics = await httpGet(`${ours!.members[0]!.spec.clientUrl}/metrics`);
        assert.match(metrics.body, new RegExp(`^etcd_server_quota_backend_bytes ${QUOTA}$`, "m"));
      }),
  );

  test("the alarm survives a restart", { timeout: 30_000 }, () =>
    withLogs(async () => {
      const m = ours!.members[1]!;
      const list = await ctlOk(["alarm", "list"], { endpoints: m.endpoint });
      await m.kill("SIGTERM");
      m.start();
      await until(
        async () => ((await m.health(1000)).reason === "ALARM NOSPACE" ? true : undefined),
        "the restarted member to report the alarm",
      );
      const r = await etcdctl(["alarm", "list"], { endpoints: m.endpoint });
      assert.equal(r.stdout, list, "the same alarms as before the restart");
    }),
  );

  test(
    "compact and defrag bring the file under the quota; disarm lets writes through again",
    { timeout: 60_000 },
    () =>
      withLogs(async () => {
        for (const s of sides()) {
          const rev = (await status(s.endpoint)).revision;
          const c = await etcdctl(["compaction", "--physical", String(rev)], { endpoints: s.endpoint });
          assert.equal(c.stdout, `compacted revision ${rev}\n`, c.stderr);
          const d = await etcdctl(["defrag"], { endpoints: s.all });
          assert.equal(d.code, 0, d.stderr);
          for (const ep of s.all) {
            const st = await status(ep);
            assert.ok(st.dbSize < QUOTA / 2, `${s.name} ${ep}: ${st.dbSize} bytes after defrag`);
          }
        }
        // Still refused: space was freed but the alarm is up until disarmed.
        await same(["put", "small", "v"]);

        const listed = await etcdctl(["alarm", "list"], { endpoints: sides()[0]!.endpoint });
        const disarm = await same(["alarm", "disarm"], alarms);
        assert.equal(disarm.stdout, listed.stdout, "every alarm disarmed, printed as listed");
        assert.equal((await same(["alarm", "list"])).stdout, "");
        assert.equal((await same(["put", "small", "v"])).stdout, "OK\n");
        assert.equal(
          (await same(["lease", "grant", "10"], (_, o) => o.replace(/[0-9a-f]{16}/, "<id>"))).code,
          0,
        );
        for (const m of ours!.members) await m.waitHealthy(10_000);
        for (const ep of ours!.endpoints()) assert.deepEqual((await status(ep)).errors, []);
      }),
  );

  test("a member that catches up by a database snapshot gets the alarms with it", { timeout: 30_000 }, () =>
    withLogs(async () => {
      const [m0, , m2] = ours!.members;
      await m2!.kill("SIGTERM");
      const post = async (path: string, body: object) => {
        const r = await fetch(`${m0!.spec.clientUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
        assert.equal(r.status, 200, await r.text());
      };
      await post("/v3/maintenance/alarm", { action: "ACTIVATE", memberID: "42", alarm: "NOSPACE" });
      // Deletes still apply under NOSPACE: enough entries for a snapshot and a compacted log.
      for (let i = 0; i < 40; i++)
        await post("/v3/kv/deleterange", { key: Buffer.from(`gone${i}`).toString("base64") });
      const installs = () => m2!.log().split("applied database snapshot from the leader").length - 1;
      const before = installs();
      m2!.start();
      await until(
        async () => ((await m2!.health(1000)).reason === "ALARM NOSPACE" ? true : undefined),
        "the restarted member to report the alarm",
      );
      assert.equal(installs(), before + 1, "caught up by a snapshot");
      const r = await etcdctl(["put", "k", "v"], { endpoints: m2!.endpoint });
      assert.equal(errLines(r), NOSPACE);
      assert.equal(
        await ctlOk(["alarm", "disarm"], { endpoints: m2!.endpoint }),
        "memberID:42 alarm:NOSPACE \n",
      );
    }),
  );
});
