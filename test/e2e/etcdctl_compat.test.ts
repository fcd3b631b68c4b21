// The real etcdctl 3.4 against a 3-member `bin/etcd` cluster. Every write is made the same way on a
// single real etcd 3.4 member started beside it (when /usr/bin/etcd exists), so both keep the same
// revisions; each command's output is checked against what we expect and, normalised for IDs, terms and
// times, against what the real etcd printed for the same command.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { computeClusterId, computeMemberId } from "../../src/server/ids.js";
import {
  Cluster,
  type CtlOptions,
  CtlProcess,
  type CtlResult,
  etcdctl,
  haveRealEtcd,
  parseJsonBig,
  skipWithoutEtcdctl,
  startRealEtcd,
  until,
} from "./cluster.js";

const skip = skipWithoutEtcdctl;
const COMPACTED = "Error: etcdserver: mvcc: required revision has been compacted";

let ours: Cluster | undefined;
let real: Cluster | undefined;

type SideName = "ours" | "real";
interface Side {
  name: SideName;
  endpoints: string[];
}

function sides(): Side[] {
  const s: Side[] = [{ name: "ours", endpoints: ours!.endpoints() }];
  if (real) s.push({ name: "real", endpoints: real.endpoints() });
  return s;
}

/** Removes what differs legitimately between two clusters: IDs, terms, durations, ports, client logs. */
export function normalize(s: string): string {
  const ids = new Map<string, string>();
  return s
    .split("\n")
    .filter((l) => !l.startsWith('{"level"'))
    .join("\n")
    .replace(/"(cluster_id|member_id|raft_term|ID|id|leader)":\s*"?\d+"?/g, '"$1":N')
    .replace(/\b(?=[0-9a-f]*[a-f])[0-9a-f]{12,16}\b/g, (h) => {
      if (!ids.has(h)) ids.set(h, `<id${ids.size}>`);
      return ids.get(h)!;
    })
    .replace(/remaining\(-?\d+s\)/g, "remaining(Ns)")
    .replace(/"ttl":\s*-?\d+/g, '"ttl":N')
    .replace(/took = \S+/g, "took = T")
    .replace(/127\.0\.0\.1:\d+/g, "<endpoint>");
}

type Args = string[] | ((s: SideName) => string[]);
interface SameOptions extends Partial<CtlOptions> {
  /** Compare stderr too (default: only when the exit code is non-zero). */
  stderr?: boolean;
}

/**
 * Runs the same etcdctl command on our cluster and on the real etcd, asserts the normalised outputs and exit
 * codes are equal, and returns our result.
 */
async function same(args: Args, opts: SameOptions = {}): Promise<CtlResult> {
  const argv = (s: SideName) => (typeof args === "function" ? args(s) : args);
  const results = await Promise.all(
    sides().map((s) => etcdctl(argv(s.name), { endpoints: s.endpoints, ...opts })),
  );
  const o = results[0]!;
  const r = results[1];
  if (r !== undefined) {
    const label = `etcdctl ${argv("ours").join(" ")}`;
    const detail = `\n  ours: ${JSON.stringify(o)}\n  real: ${JSON.stringify(r)}`;
    assert.equal(o.code, r.code, `${label}: exit code${detail}`);
    assert.equal(normalize(o.stdout), normalize(r.stdout), `${label}: stdout${detail}`);
    if (opts.stderr || o.code !== 0) {
      assert.equal(normalize(o.stderr), normalize(r.stderr), `${label}: stderr${detail}`);
    }
  }
  return o;
}

/** Runs on both, asserts equal, and asserts our stdout (exit 0). */
async function expectOut(args: Args, stdout: string, opts: SameOptions = {}): Promise<void> {
  const o = await same(args, opts);
  assert.equal(o.code, 0, `etcdctl ${JSON.stringify(args)}: ${o.stderr}`);
  assert.equal(o.stdout, stdout);
}

/** Runs on both, asserts equal, and asserts our failure (exit 1) with this error line. */
async function expectErr(args: Args, errorLine: string, opts: SameOptions = {}): Promise<void> {
  const o = await same(args, opts);
  assert.equal(o.code, 1, `etcdctl ${JSON.stringify(args)}: ${JSON.stringify(o)}`);
  assert.equal(normalize(o.stderr).trim(), errorLine);
}

async function revisionOf(endpoints: string[]): Promise<number> {
  const r = await etcdctl(["get", "rev-probe", "-w", "json"], { endpoints });
  assert.equal(r.code, 0, r.stderr);
  return Number(parseJsonBig(r.stdout).header.revision);
}

/** Our current revision, after checking that the real etcd is at the same one (lockstep). */
async function revision(): Promise<number> {
  const revs = await Promise.all(sides().map((s) => revisionOf(s.endpoints)));
  if (revs.length === 2) assert.equal(revs[0], revs[1], "our revision and the real etcd's are in lockstep");
  return revs[0]!;
}

/** Brings the two clusters back to the same revision after a test made a different number of writes. */
async function resync(): Promise<void> {
  if (!real) return;
  const [o, r] = await Promise.all(sides().map((s) => revisionOf(s.endpoints)));
  const behind = o! < r! ? sides()[0]! : sides()[1]!;
  for (let i = 0; i < Math.abs(o! - r!); i++) {
    const p = await etcdctl(["put", "resync", String(i)], { endpoints: behind.endpoints });
    assert.equal(p.code, 0, p.stderr);
  }
  await revision();
}

/**
 * The last revision up to which both histories are identical (undefined: still identical). Tests that write
 * differently on the two sides (probes, lease IDs) set it first; hashes are compared up to it.
 */
let identicalUpTo: number | undefined;
async function diverging(): Promise<void> {
  identicalUpTo ??= await revision();
}

/** `etcdctl endpoint status -w json`'s Status (uint64 IDs as strings, see parseJsonBig). */
interface StatusJson {
  header: { cluster_id: string; member_id: string; revision: number; raft_term: number };
  version: string;
  dbSize: number;
  leader: string;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
}

function memberIds(): bigint[] {
  return ours!.layout.members.map((m) => computeMemberId([m.peerUrl], ours!.layout.token));
}

describe("etcdctl 3.4 against bin/etcd", { skip, concurrency: 1 }, () => {
  before(async () => {
    const [o, r] = await Promise.all([Cluster.start(), haveRealEtcd ? startRealEtcd() : undefined]);
    ours = o;
    real = r;
  });
  after(async () => {
    await Promise.all([ours?.destroy(), real?.destroy()]);
  });

  const failWithLogs = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.stack : String(e)}\n${ours?.logs(15) ?? ""}`);
    }
  };

  test("put and get: prefix, from-key, limit, sort, keys-only, rev, prev-kv, json", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      const base = await revision();
      for (const [k, v] of [
        ["foo", "bar"],
        ["foo1", "bar1"],
        ["foo2", "bar2"],
        ["foo3", "bar3"],
        ["zoo", "z"],
      ]) {
        await expectOut(["put", k!, v!], "OK\n");
      }
      await expectOut(["get", "foo"], "foo\nbar\n");
      await expectOut(["get", "nope"], "");
      await expectOut(["get", "--prefix", "foo"], "foo\nbar\nfoo1\nbar1\nfoo2\nbar2\nfoo3\nbar3\n");
      await expectOut(["get", "--prefix", "foo", "--limit=2"], "foo\nbar\nfoo1\nbar1\n");
      await expectOut(["get", "--from-key", "foo2"], "foo2\nbar2\nfoo3\nbar3\nzoo\nz\n");
      await expectOut(["get", "foo1", "foo3"], "foo1\nbar1\nfoo2\nbar2\n");
      await expectOut(
        ["get", "--prefix", "foo", "--sort-by=MODIFY", "--order=DESCEND"],
        "foo3\nbar3\nfoo2\nbar2\nfoo1\nbar1\nfoo\nbar\n",
      );
      await expectOut(
        ["get", "--prefix", "foo", "--sort-by=VALUE", "--order=DESCEND", "--limit=3"],
        "foo3\nbar3\nfoo2\nbar2\nfoo1\nbar1\n",
      );
      await expectOut(["get", "--prefix", "foo", "--keys-only"], "foo\n\nfoo1\n\nfoo2\n\nfoo3\n\n");
      await expectOut(["get", "--prefix", "foo", "--print-value-only"], "bar\nbar1\nbar2\nbar3\n");
      await expectOut(["put", "foo", "bar-2", "--prev-kv"], "OK\nfoo\nbar\n");
      await expectOut(["get", "foo", `--rev=${base + 1}`], "foo\nbar\n");
      await expectOut(["get", "foo"], "foo\nbar-2\n");
      await expectErr(
        ["get", "foo", `--rev=${base + 100}`],
        "Error: etcdserver: mvcc: required revision is a future revision",
      );

      const j = parseJsonBig((await same(["get", "--prefix", "foo", "--limit=1", "-w", "json"])).stdout);
      assert.equal(Number(j.header.revision), base + 6);
      assert.equal(j.count, 4);
      assert.equal(j.more, true);
      assert.equal(Buffer.from(j.kvs[0].key, "base64").toString(), "foo");
      assert.equal(Number(j.kvs[0].create_revision), base + 1);
      assert.equal(Number(j.kvs[0].mod_revision), base + 6);
      assert.equal(Number(j.kvs[0].version), 2);
      await same(["get", "--prefix", "foo", "--count-only", "-w", "json"]);
      await same(["put", "foo4", "bar4", "-w", "json"]);
    }),
  );

  test("del: key, prefix, prev-kv, range, missing", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      await expectOut(["del", "foo4"], "1\n");
      await expectOut(["del", "nope"], "0\n");
      await expectOut(["del", "--prev-kv", "zoo"], "1\nzoo\nz\n");
      await expectOut(["del", "foo1", "foo3"], "2\n");
      await expectOut(["get", "--prefix", "foo", "--keys-only"], "foo\n\nfoo3\n\n");
      await expectOut(["del", "--prefix", "--prev-kv", "foo"], "2\nfoo\nbar-2\nfoo3\nbar3\n");
      await expectOut(["get", "--prefix", "foo"], "");
      await same(["del", "--prefix", "nothing-here", "-w", "json"]);
    }),
  );

  test("txn: interactive and from stdin, success and failure branches", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      const script = 'mod("t1") > "0"\n\nput t1 "overwrote"\n\nput t1 "created"\nput t2 "extra"\n\n';
      const prompts = "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n";
      await expectOut(["txn", "--interactive"], `${prompts}FAILURE\n\nOK\n\nOK\n`, { stdin: script });
      await expectOut(["txn", "--interactive"], `${prompts}SUCCESS\n\nOK\n`, { stdin: script });
      await expectOut(["get", "--prefix", "t"], "t1\noverwrote\nt2\nextra\n");
      const script2 =
        'value("t1") = "overwrote"\nversion("t2") = "1"\ncreate("t2") > "1"\n\nget t1\ndel t2\n\nput t3 "no"\n\n';
      await expectOut(["txn"], "SUCCESS\n\nt1\noverwrote\n\n1\n", { stdin: script2 });
      await expectOut(["txn"], "FAILURE\n\nOK\n", { stdin: script2 });
      await same(["txn", "-w", "json"], { stdin: 'value("t3") = "no"\n\nget t3\n\n\n' });
      await expectOut(["del", "--prefix", "t"], "2\n");
    }),
  );

  test("watch: key, prefix, prev-kv, from a revision, live", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      const r0 = await revision();
      const watchers = new Map<string, CtlProcess>();
      const spawnAll = (label: string, args: string[]) => {
        for (const s of sides())
          watchers.set(`${s.name}:${label}`, new CtlProcess(args, { endpoints: s.endpoints }));
      };
      try {
        spawnAll("key", ["watch", `--rev=${r0 + 1}`, "w/a"]);
        spawnAll("prefix", ["watch", `--rev=${r0 + 1}`, "--prefix", "w/"]);
        spawnAll("prevkv", ["watch", `--rev=${r0 + 1}`, "--prefix", "--prev-kv", "w/"]);
        spawnAll("range", ["watch", `--rev=${r0 + 1}`, "w/b", "w/c"]);
        await expectOut(["put", "w/a", "1"], "OK\n");
        await expectOut(["put", "w/b", "2"], "OK\n");
        await expectOut(["put", "w/a", "3"], "OK\n");
        await expectOut(["del", "w/a"], "1\n");
        await expectOut(["put", "w/b", "4"], "OK\n");
        await expectOut(["del", "--prefix", "w/"], "1\n");
        await expectOut(["put", "w/end", "x"], "OK\n");
        const expected: Record<string, string> = {
          key: "PUT\nw/a\n1\nPUT\nw/a\n3\nDELETE\nw/a\n\n",
          prefix:
            "PUT\nw/a\n1\nPUT\nw/b\n2\nPUT\nw/a\n3\nDELETE\nw/a\n\nPUT\nw/b\n4\nDELETE\nw/b\n\nPUT\nw/end\nx\n",
          prevkv:
            "PUT\nw/a\n1\nPUT\nw/b\n2\nPUT\nw/a\n1\nw/a\n3\nDELETE\nw/a\n3\nw/a\n\n" +
            "PUT\nw/b\n2\nw/b\n4\nDELETE\nw/b\n4\nw/b\n\nPUT\nw/end\nx\n",
          range: "PUT\nw/b\n2\nPUT\nw/b\n4\nDELETE\nw/b\n\n",
        };
        for (const [label, want] of Object.entries(expected)) {
          for (const s of sides()) {
            const w = watchers.get(`${s.name}:${label}`)!;
            await w.waitFor((out) => out.length >= want.length, `${s.name} watch ${label}`);
            await w.stop();
            assert.equal(w.stdout, want, `${s.name}: etcdctl watch (${label})`);
          }
        }

        // From an older revision: the history is replayed, then the watch continues.
        spawnAll("history", ["watch", `--rev=${r0 + 2}`, "--prefix", "w/"]);
        for (const s of sides()) {
          const w = watchers.get(`${s.name}:history`)!;
          const want = expected.prefix!.slice("PUT\nw/a\n1\n".length);
          await w.waitFor((out) => out.length >= want.length, `${s.name} watch from r0+2`);
          await w.stop();
          assert.equal(w.stdout, want, `${s.name}: etcdctl watch --rev=${r0 + 2}`);
        }

        // A live watch (no --rev): write probes until one arrives, then a last value.
        await diverging();
        await Promise.all(
          sides().map(async (s) => {
            const w = new CtlProcess(["watch", "live/k"], { endpoints: s.endpoints });
            watchers.set(`${s.name}:live`, w);
            let i = 0;
            await until(
              async () => {
                if (w.stdout.includes("PUT\nlive/k\nprobe-")) return true;
                await etcdctl(["put", "live/k", `probe-${i++}`], { endpoints: s.endpoints });
                return w.stdout.includes("PUT\nlive/k\nprobe-") ? true : undefined;
              },
              `${s.name}: the live watch to see a probe`,
              10_000,
              50,
            );
            await etcdctl(["put", "live/k", "final"], { endpoints: s.endpoints });
            await w.waitFor((out) => out.endsWith("PUT\nlive/k\nfinal\n"), `${s.name} live watch: final`);
            await w.stop();
            assert.match(w.stdout, /^(PUT\nlive\/k\nprobe-\d+\n)+PUT\nlive\/k\nfinal\n$/);
          }),
        );
        await resync();
      } finally {
        await Promise.all([...watchers.values()].map((w) => w.stop()));
      }
    }),
  );

  test("endpoint hashkv: the same on every member and the same as the real etcd's", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      const rev = identicalUpTo ?? (await revision());
      const hashes = await Promise.all(
        sides().map(async (s) => {
          const r = await etcdctl(["endpoint", "hashkv", `--rev=${rev}`, "-w", "json"], {
            endpoints: s.endpoints,
          });
          assert.equal(r.code, 0, r.stderr);
          return parseJsonBig(r.stdout) as {
            Endpoint: string;
            HashKV: { hash: number; compact_revision: number };
          }[];
        }),
      );
      const o = hashes[0]!;
      assert.equal(o.length, 3);
      assert.equal(new Set(o.map((h) => h.HashKV.hash)).size, 1, `hashes differ: ${JSON.stringify(o)}`);
      if (hashes[1]) {
        assert.equal(o[0]!.HashKV.hash, hashes[1][0]!.HashKV.hash, "same history, same hash as etcd 3.4");
      }
    }),
  );

  test("lease: grant, put --lease, timetolive, keep-alive --once, list, revoke", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      await diverging();
      const ids: Partial<Record<SideName, string>> = {};
      await Promise.all(
        sides().map(async (s) => {
          const r = await etcdctl(["lease", "grant", "60"], { endpoints: s.endpoints });
          const m = /^lease ([0-9a-f]+) granted with TTL\(60s\)\n$/.exec(r.stdout);
          assert.ok(m, `${s.name}: lease grant printed ${JSON.stringify(r)}`);
          ids[s.name] = m[1]!;
        }),
      );
      const id = ids.ours!;
      const withId = (f: (id: string) => string[]) => (s: SideName) => f(ids[s]!);
      await expectOut(
        withId((l) => ["put", `--lease=${l}`, "l/k", "v"]),
        "OK\n",
      );
      const ttl = await same(withId((l) => ["lease", "timetolive", l]));
      assert.match(
        ttl.stdout,
        new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\)\\n$`),
      );
      const keys = await same(withId((l) => ["lease", "timetolive", "--keys", l]));
      assert.match(keys.stdout, /, attached keys\(\[l\/k\]\)\n$/);
      // Through our leader here; the next test covers keep-alives sent to followers.
      const leader = ours!.endpoints([await ours!.leaderIndex()]);
      const ka = await etcdctl(["lease", "keep-alive", "--once", id], {
        endpoints: leader,
        timeoutMs: 10_000,
      });
      assert.deepEqual(
        [ka.code, ka.stdout],
        [0, `lease ${id} keepalived with TTL(60)\n`],
        JSON.stringify(ka),
      );
      if (real) {
        const rka = await etcdctl(["lease", "keep-alive", "--once", ids.real!], {
          endpoints: real.endpoints(),
        });
        assert.equal(normalize(rka.stdout), normalize(ka.stdout));
      }
      await expectOut(["lease", "list"], `found 1 leases\n${id}\n`);
      const tj = parseJsonBig((await same(withId((l) => ["lease", "timetolive", "-w", "json", l]))).stdout);
      assert.equal(BigInt(tj.id), BigInt(`0x${id}`));
      assert.equal(Number(tj["granted-ttl"]), 60);
      await expectOut(
        withId((l) => ["lease", "revoke", l]),
        `lease ${id} revoked\n`,
      );
      await expectOut(["get", "l/k"], "");
      await expectOut(
        withId((l) => ["lease", "timetolive", l]),
        `lease ${id} already expired\n`,
      );
      await expectOut(["lease", "list"], "found 0 leases\n");
      await expectErr(
        withId((l) => ["lease", "revoke", l]),
        "Error: failed to revoke lease (etcdserver: requested lease not found)",
      );
      await expectErr(
        withId((l) => ["put", `--lease=${l}`, "l/k", "v"]),
        "Error: etcdserver: requested lease not found",
      );
      const gone = await etcdctl(["lease", "keep-alive", "--once", id], {
        endpoints: leader,
        timeoutMs: 10_000,
      });
      assert.deepEqual(
        [gone.code, gone.stderr],
        [2, "Error: etcdserver: requested lease not found\n"],
        JSON.stringify(gone),
      );
      if (real) {
        const rgone = await etcdctl(["lease", "keep-alive", "--once", ids.real!], {
          endpoints: real.endpoints(),
        });
        assert.deepEqual([rgone.code, rgone.stderr], [gone.code, gone.stderr]);
      }
    }),
  );

  test(
    "lease keep-alive and timetolive through followers (etcd forwards them to the leader)",
    { timeout: 60_000 },
    () =>
      failWithLogs(async () => {
        const li = await ours!.leaderIndex();
        const leader = ours!.endpoints([li]);
        const g = await etcdctl(["lease", "grant", "10"], { endpoints: leader });
        const id = /^lease ([0-9a-f]+) granted/.exec(g.stdout)?.[1];
        assert.ok(id, JSON.stringify(g));
        const remaining = async (ep: string[]) => {
          const r = await etcdctl(["lease", "timetolive", id], { endpoints: ep, timeoutMs: 10_000 });
          const m = /remaining\((-?\d+)s\)/.exec(r.stdout);
          assert.ok(m, JSON.stringify(r));
          return Number(m[1]);
        };
        try {
          // Once the leader's clock has run down a little, every member must report the same remaining TTL.
          const onLeader = await until(
            async () => {
              const left = await remaining(leader);
              return left <= 8 ? left : undefined;
            },
            "the lease's remaining TTL to go down on the leader",
            6000,
            200,
          );
          const followers = ours!.endpoints().filter((_, i) => i !== li);
          const problems: string[] = [];
          for (const ep of followers) {
            const left = await remaining([ep]);
            if (Math.abs(left - onLeader) > 1) {
              problems.push(
                `timetolive through follower ${ep}: remaining(${left}s), leader says remaining(${onLeader}s)`,
              );
            }
          }
          // (etcd answers within milliseconds; 5 s is plenty.)
          const kas = await Promise.all(
            followers.map((ep) =>
              etcdctl(["lease", "keep-alive", "--once", id], { endpoints: [ep], timeoutMs: 5000 }),
            ),
          );
          for (const [k, ka] of kas.entries()) {
            if (ka.code !== 0 || ka.stdout !== `lease ${id} keepalived with TTL(10)\n`) {
              problems.push(`keep-alive --once through follower ${followers[k]}: ${JSON.stringify(ka)}`);
            }
          }
          assert.deepEqual(problems, []);
        } finally {
          await etcdctl(["lease", "revoke", id], { endpoints: leader });
        }
      }),
  );

  test("lease expiry: a key attached to a 2 s lease disappears after it expires", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      const took = await Promise.all(
        sides().map(async (s) => {
          const g = await etcdctl(["lease", "grant", "2"], { endpoints: s.endpoints });
          const id = /^lease ([0-9a-f]+) granted with TTL\(2s\)\n$/.exec(g.stdout)?.[1];
          assert.ok(id, `${s.name}: ${JSON.stringify(g)}`);
          const t0 = performance.now();
          assert.equal(
            (await etcdctl(["put", `--lease=${id}`, "e/k", "v"], { endpoints: s.endpoints })).stdout,
            "OK\n",
          );
          assert.equal((await etcdctl(["get", "e/k"], { endpoints: s.endpoints })).stdout, "e/k\nv\n");
          await until(
            async () =>
              (await etcdctl(["get", "e/k"], { endpoints: s.endpoints })).stdout === "" ? true : undefined,
            `${s.name}: e/k to disappear with its lease`,
            15_000,
            100,
          );
          const ms = performance.now() - t0;
          const ttl = await etcdctl(["lease", "timetolive", id], { endpoints: s.endpoints });
          assert.equal(ttl.stdout, `lease ${id} already expired\n`);
          return ms;
        }),
      );
      // Not before the TTL (minus the time the put itself took), and within a few seconds after it.
      assert.ok(took[0]! >= 1500, `our key disappeared after ${took[0]} ms`);
      assert.ok(took[0]! <= 8000, `our key disappeared after ${took[0]} ms`);
      await revision();
    }),
  );

  test("compaction and the compacted-revision errors", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      const r = await revision();
      await expectOut(["put", "c/k", "v1"], "OK\n");
      await expectOut(["put", "c/k", "v2"], "OK\n");
      await expectOut(["put", "c/k", "v3"], "OK\n");
      await expectOut(["compaction", String(r + 2)], `compacted revision ${r + 2}\n`);
      await expectErr(["get", "c/k", `--rev=${r + 1}`], COMPACTED);
      await expectOut(["get", "c/k", `--rev=${r + 2}`], "c/k\nv2\n");
      await expectErr(["compaction", String(r + 1)], COMPACTED);
      await expectErr(
        ["compaction", String(r + 1000)],
        "Error: etcdserver: mvcc: required revision is a future revision",
      );
      await expectOut(["compaction", "--physical", String(r + 3)], `compacted revision ${r + 3}\n`);
      await expectErr(["get", "c/k", `--rev=${r + 2}`], COMPACTED);
      // A watch from a compacted revision is cancelled by the server; etcdctl says so and exits.
      const w = await same(["watch", `--rev=${r + 1}`, "c/k"], { timeoutMs: 10_000 });
      assert.notEqual(w.code, null, `etcdctl watch must exit by itself: ${JSON.stringify(w)}`);
      assert.match(
        w.stdout + w.stderr,
        /watch was canceled \(etcdserver: mvcc: required revision has been compacted\)/,
      );
      const h = await etcdctl(["endpoint", "hashkv", "-w", "json"], { endpoints: ours!.endpoints() });
      for (const e of parseJsonBig(h.stdout) as { HashKV: { compact_revision: number } }[]) {
        assert.equal(Number(e.HashKV.compact_revision), r + 3);
      }
    }),
  );

  test("endpoint health and status", { timeout: 60_000 }, () =>
    failWithLogs(async () => {
      const eps = ours!.endpoints();
      const h = await etcdctl(["endpoint", "health"], { endpoints: eps });
      assert.equal(h.code, 0, JSON.stringify(h));
      const lines = (h.stdout + h.stderr).trim().split("\n").sort();
      assert.deepEqual(
        lines.map((l) => l.replace(/took = \S+$/, "took = T")),
        [...eps].sort().map((e) => `${e} is healthy: successfully committed proposal: took = T`),
      );
      const hj = JSON.parse(
        (await etcdctl(["endpoint", "health", "-w", "json"], { endpoints: eps })).stdout,
      ) as {
        endpoint: string;
        health: boolean;
      }[];
      assert.deepEqual(
        hj.map((e) => [e.endpoint, e.health]).sort(),
        [...eps].sort().map((e) => [e, true]),
      );

      const ids = memberIds();
      const clusterId = computeClusterId(ids);
      const st = await until(
        async () => {
          const r = await etcdctl(["endpoint", "status", "-w", "json"], { endpoints: eps });
          const all = parseJsonBig(r.stdout) as { Endpoint: string; Status: StatusJson }[];
          // Followers apply asynchronously: wait until all report the same applied index.
          return new Set(all.map((e) => e.Status.raftAppliedIndex)).size === 1 ? all : undefined;
        },
        "the members to agree on the applied index",
        10_000,
      );
      assert.equal(st.length, 3);
      const leaders = new Set(st.map((e) => e.Status.leader));
      assert.equal(leaders.size, 1, "one leader");
      assert.ok(ids.includes(BigInt([...leaders][0])), "the leader is a member");
      for (const e of st) {
        const i = ours!.members.findIndex((m) => m.endpoint === e.Endpoint);
        assert.ok(i >= 0, e.Endpoint);
        assert.equal(BigInt(e.Status.header.member_id), ids[i]);
        assert.equal(BigInt(e.Status.header.cluster_id), clusterId);
        assert.equal(Number(e.Status.raftTerm), Number(st[0]!.Status.raftTerm));
        assert.equal(Number(e.Status.header.raft_term), Number(e.Status.raftTerm));
        assert.equal(Number(e.Status.header.revision), Number(st[0]!.Status.header.revision));
        assert.match(e.Status.version, /^3\.\d+\.\d+$/);
        assert.ok(Number(e.Status.dbSize) > 0);
        assert.ok(Number(e.Status.raftIndex) >= Number(e.Status.raftAppliedIndex) - 0);
      }
      const table = await etcdctl(["endpoint", "status"], { endpoints: eps });
      for (const l of table.stdout.trim().split("\n")) {
        assert.match(
          l,
          /^127\.0\.0\.1:\d+, [0-9a-f]+, 3\.\d+\.\d+, \d+(\.\d+)? [kMG]?B, (true|false), false, \d+, \d+, \d+, ?$/,
        );
      }
      assert.equal(table.stdout.match(/, true, false,/g)?.length, 1, `one leader:\n${table.stdout}`);
    }),
  );

  test(
    "-w json headers: cluster_id, member_id, revision and raft_term from every member",
    { timeout: 60_000 },
    () =>
      failWithLogs(async () => {
        await expectOut(["put", "hdr", "1"], "OK\n");
        const ids = memberIds();
        const clusterId = computeClusterId(ids);
        const headers = [];
        for (const [i, ep] of ours!.endpoints().entries()) {
          for (const args of [
            ["get", "hdr"],
            ["put", "hdr-" + i, "x"],
            ["lease", "list"],
            ["member", "list"],
          ]) {
            const r = await etcdctl([...args, "-w", "json"], { endpoints: [ep] });
            assert.equal(r.code, 0, r.stderr);
            const j = parseJsonBig(r.stdout);
            const hd = j.header ?? j; // `lease list -w json` prints the header fields at the top level in 3.4
            assert.equal(BigInt(hd.cluster_id), clusterId, `${args.join(" ")} on ${ep}`);
            assert.equal(BigInt(hd.member_id), ids[i], `${args.join(" ")} on ${ep}`);
            assert.ok(Number(hd.raft_term) >= 2, `raft_term of ${args.join(" ")} on ${ep}`);
            if (args[0] !== "member")
              assert.ok(Number(hd.revision) > 1, `revision of ${args.join(" ")} on ${ep}`);
            headers.push({ ep, args: args[0], rev: Number(hd.revision), term: Number(hd.raft_term) });
          }
        }
        assert.equal(new Set(headers.map((h) => h.term)).size, 1, `one term: ${JSON.stringify(headers)}`);
        // Linearizable reads see every earlier write: revisions never go back, and each put adds one.
        const gets = headers.filter((h) => h.args === "get" || h.args === "put");
        for (let k = 1; k < gets.length; k++)
          assert.ok(gets[k]!.rev >= gets[k - 1]!.rev, JSON.stringify(gets));
        const puts = headers.filter((h) => h.args === "put").map((h) => h.rev);
        assert.deepEqual(puts, [puts[0]!, puts[0]! + 1, puts[0]! + 2]);
        await resync();
      }),
  );
});
