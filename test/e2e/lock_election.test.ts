// The Lock and Election gRPC services (v3lockpb, v3electionpb) and their /v3/lock, /v3/election gateway
// routes, driven through raw generated gRPC clients and HTTP, the same script against bin/etcd and against
// the real etcd 3.4 when installed: locks are granted in order, a waiter gets the lock when the holder
// unlocks, a candidate becomes leader when the leader resigns, observers see every leader value, and the
// errors (no leader, not leader) carry the same code and text.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import {
  KVClient,
  LeaseClient,
  type LeaseGrantResponse,
  RangeRequest,
  type RangeResponse,
} from "../../src/api/gen/etcdserverpb/rpc.js";
import {
  type CampaignResponse,
  ElectionClient,
  type LeaderKey,
  type LeaderResponse,
  type ProclaimResponse,
  type ResignResponse,
} from "../../src/api/gen/v3electionpb/v3election.js";
import { LockClient, type LockResponse, type UnlockResponse } from "../../src/api/gen/v3lockpb/v3lock.js";
import { Cluster, haveRealEtcd, startRealEtcd, until } from "./cluster.js";

interface Side {
  name: string;
  target: string;
  lock: LockClient;
  election: ElectionClient;
  lease: LeaseClient;
  kv: KVClient;
}

function side(name: string, target: string): Side {
  const c = credentials.createInsecure();
  return {
    name,
    target,
    lock: new LockClient(target, c),
    election: new ElectionClient(target, c),
    lease: new LeaseClient(target, c),
    kv: new KVClient(target, c),
  };
}

/** Calls a generated unary method by name. */
function call<Res>(client: object, method: string, req: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    // biome-ignore lint/suspicious/noExplicitAny: generated clients' overloads, called by name
    (client as any)[method](req, (err: ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
  });
}

const b = (s: string) => Buffer.from(s);
const str = (u: Uint8Array | undefined) => Buffer.from(u ?? []).toString();

async function grant(s: Side, ttl = 30): Promise<bigint> {
  return (await call<LeaseGrantResponse>(s.lease, "leaseGrant", { TTL: BigInt(ttl), ID: 0n })).ID;
}

async function exists(s: Side, key: Uint8Array): Promise<boolean> {
  const r = await call<RangeResponse>(s.kv, "range", RangeRequest.fromPartial({ key }));
  return r.kvs.length > 0;
}

const clusters: Cluster[] = [];
const sides: Side[] = [];

describe("Lock and Election services", () => {
  before(async () => {
    const ours = await Cluster.start({ size: 3 });
    clusters.push(ours);
    sides.push(side("ours", ours.members[1]!.endpoint));
    if (haveRealEtcd) {
      const real = await startRealEtcd();
      clusters.push(real);
      sides.push(side("real", real.members[0]!.endpoint));
    }
  });
  after(async () => {
    for (const s of sides) {
      s.lock.close();
      s.election.close();
      s.lease.close();
      s.kv.close();
    }
    for (const c of clusters) await c.destroy();
  });

  test("locks are granted in order: the waiter gets the lock when the holder unlocks", async () => {
    for (const s of sides) {
      const [a, bl] = [await grant(s), await grant(s)];
      const first = await call<LockResponse>(s.lock, "lock", { name: b("jobs"), lease: a });
      assert.equal(str(first.key), `jobs/${a.toString(16)}`, s.name);
      let got: string | undefined;
      const second = call<LockResponse>(s.lock, "lock", { name: b("jobs"), lease: bl }).then((r) => {
        got = str(r.key);
        return r;
      });
      // The waiter's key is in line (so its Lock is under way) but it does not hold the lock.
      await until(async () => ((await exists(s, b(`jobs/${bl.toString(16)}`))) ? true : undefined), "waiter");
      assert.equal(got, undefined, `${s.name}: lock granted while held`);
      const u = await call<UnlockResponse>(s.lock, "unlock", { key: first.key });
      assert.ok(u.header!.revision > first.header!.revision);
      const r2 = await second;
      assert.equal(str(r2.key), `jobs/${bl.toString(16)}`, s.name);
      assert.equal(await exists(s, first.key), false);
      await call<UnlockResponse>(s.lock, "unlock", { key: r2.key });
    }
  });

  test("election: leader, proclaim, observe, resign hands over to the next candidate", async () => {
    for (const s of sides) {
      const [la, lb] = [await grant(s), await grant(s)];
      const name = b(`leader-${s.name}`);
      const seen: string[] = [];
      const obs = s.election.observe({ name });
      obs.on("data", (r: LeaderResponse) => seen.push(str(r.kv?.value)));
      obs.on("error", () => {});
      const ca = await call<CampaignResponse>(s.election, "campaign", { name, lease: la, value: b("a") });
      const leaderA = ca.leader as LeaderKey;
      assert.equal(str(leaderA.key), `${str(name)}/${la.toString(16)}`);
      assert.equal(leaderA.lease, la);
      let bWon = false;
      const cb = call<CampaignResponse>(s.election, "campaign", { name, lease: lb, value: b("b") }).then(
        (r) => {
          bWon = true;
          return r;
        },
      );
      await until(
        async () => ((await exists(s, b(`${str(name)}/${lb.toString(16)}`))) ? true : undefined),
        "b",
      );
      const l1 = await call<LeaderResponse>(s.election, "leader", { name });
      assert.equal(str(l1.kv?.value), "a");
      await call<ProclaimResponse>(s.election, "proclaim", { leader: leaderA, value: b("a2") });
      assert.equal(str((await call<LeaderResponse>(s.election, "leader", { name })).kv?.value), "a2");
      assert.equal(bWon, false, `${s.name}: b won while a led`);
      await call<ResignResponse>(s.election, "resign", { leader: leaderA });
      const won = await cb;
      assert.equal(str(won.leader?.key), `${str(name)}/${lb.toString(16)}`);
      await until(() => (seen.includes("b") ? true : undefined), `${s.name}: observer sees b (${seen})`);
      assert.deepEqual(seen, ["a", "a2", "b"], s.name);
      // A leadership that ended cannot proclaim.
      const stale = await call<ProclaimResponse>(s.election, "proclaim", {
        leader: leaderA,
        value: b("x"),
      }).catch((e: ServiceError) => e);
      assert.ok(stale instanceof Error);
      assert.equal((stale as ServiceError).details, "election: not leader", s.name);
      obs.cancel();
    }
  });

  test("errors match etcd: no leader, not leader", async () => {
    const results = [];
    for (const s of sides) {
      const none = await call<LeaderResponse>(s.election, "leader", { name: b("nobody") }).catch(
        (e: ServiceError) => e,
      );
      results.push({ code: (none as ServiceError).code, details: (none as ServiceError).details });
    }
    assert.equal(results[0]!.details, "election: no leader");
    if (results.length > 1) assert.deepEqual(results[0], results[1]);
  });

  test("the gateway serves /v3/lock/lock and /v3/election/leader as etcd's", async () => {
    for (const s of sides) {
      const lease = await grant(s);
      const post = async (path: string, body: object) => {
        const r = await fetch(`http://${s.target}${path}`, { method: "POST", body: JSON.stringify(body) });
        return { status: r.status, json: (await r.json()) as Record<string, unknown> };
      };
      const l = await post("/v3/lock/lock", { name: b("gw").toString("base64"), lease: String(lease) });
      assert.equal(l.status, 200, `${s.name}: ${JSON.stringify(l.json)}`);
      assert.equal(Buffer.from(l.json.key as string, "base64").toString(), `gw/${lease.toString(16)}`);
      const u = await post("/v3/lock/unlock", { key: l.json.key });
      assert.equal(u.status, 200);
      const none = await post("/v3/election/leader", { name: b("gw-none").toString("base64") });
      assert.equal(none.status, 500, s.name);
      assert.equal(none.json.message ?? none.json.error, "election: no leader");
    }
  });
});
