// The dashboard (etcd-ts only): every member serves the page, whose script is valid JavaScript, and a
// cluster view with every member's role, term and indices (one leader, the same term), the others' read
// over the peer URLs; a member that is down shows as unreachable while the rest still show.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DASHBOARD_HTML } from "../../src/api/dashboard/page.js";
import { Cluster, httpGet, until } from "./cluster.js";

interface View {
  self: string;
  members: {
    id: string;
    name: string;
    status?: {
      leader: string;
      raftTerm: number;
      raftIndex: number;
      raftAppliedIndex: number;
      revision: number;
    };
    error?: string;
  }[];
}

describe("dashboard", () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ size: 3 });
  });
  after(async () => {
    await c?.destroy();
  });

  test("the page is served and its script parses", async () => {
    const r = await httpGet(`${c.members[0]!.spec.clientUrl}/dashboard`);
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>etcd-ts dashboard<\/title>/);
    const script = /<script>([\s\S]*)<\/script>/.exec(DASHBOARD_HTML)![1]!;
    assert.doesNotThrow(() => new Function(script), "the dashboard script is valid JavaScript");
  });

  test("the requests the page makes: put, list all keys, list a prefix", async () => {
    const base = c.members[0]!.spec.clientUrl;
    const b64 = (x: string) => Buffer.from(x).toString("base64");
    const post = async (path: string, body: object) => {
      const r = await fetch(`${base}${path}`, { method: "POST", body: JSON.stringify(body) });
      assert.equal(r.status, 200, path);
      return (await r.json()) as Record<string, unknown>;
    };
    await post("/v3/kv/put", { key: b64("app/a"), value: b64("1") });
    await post("/v3/kv/put", { key: b64("other"), value: b64("2") });
    const all = await post("/v3/kv/range", { key: b64("\0"), range_end: b64("\0"), limit: 200 });
    assert.equal(all.count, "2");
    const pre = await post("/v3/kv/range", { key: b64("app/"), range_end: b64("app0"), limit: 200 });
    assert.deepEqual(
      (pre.kvs as { key: string }[]).map((kv) => Buffer.from(kv.key, "base64").toString()),
      ["app/a"],
    );
  });

  test("the cluster view shows every member from any member; a dead member shows unreachable", async () => {
    const view = async (i: number) =>
      JSON.parse((await httpGet(`${c.members[i]!.spec.clientUrl}/dashboard/api/cluster`)).body) as View;
    const v = await view(1);
    assert.equal(v.members.length, 3);
    assert.deepEqual(v.members.map((m) => m.name).sort(), ["m0", "m1", "m2"]);
    const leaders = new Set(v.members.map((m) => m.status?.leader));
    assert.equal(leaders.size, 1, "every member names the same leader");
    assert.ok(
      v.members.some((m) => m.id === [...leaders][0]),
      "the leader is a member",
    );
    assert.equal(new Set(v.members.map((m) => m.status?.raftTerm)).size, 1);
    assert.ok(v.members.every((m) => (m.status?.raftAppliedIndex ?? 0) > 0));

    await c.members[2]!.kill("SIGKILL");
    const after2 = await until(async () => {
      const w = await view(0);
      const dead = w.members.find((m) => m.name === "m2");
      return dead?.error !== undefined ? w : undefined;
    }, "m2 shown unreachable");
    assert.equal(after2.members.filter((m) => m.status !== undefined).length, 2);
  });
});
