// --listen-metrics-urls (what kubeadm's etcd manifests use for the kubelet's probes and Prometheus): a
// separate port serving /metrics and /health, and nothing of the key space; compared with the real etcd
// 3.4 given the same flag.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Cluster, freePorts, haveRealEtcd, httpGet } from "./cluster.js";

describe("--listen-metrics-urls", () => {
  const sides: { name: string; c: Cluster; url: string }[] = [];

  before(async () => {
    for (const real of haveRealEtcd ? [false, true] : [false]) {
      const [port] = await freePorts(1);
      const url = `http://127.0.0.1:${port}`;
      const c = await Cluster.start({ size: 1, real, extraArgs: ["--listen-metrics-urls", url] });
      sides.push({ name: real ? "real" : "ours", c, url });
    }
  });
  after(async () => {
    for (const s of sides) await s.c.destroy();
  });

  test("serves /metrics and /health there, and no key-space API", async () => {
    for (const s of sides) {
      const m = await httpGet(`${s.url}/metrics`);
      assert.equal(m.status, 200, s.name);
      assert.match(m.body, /^etcd_server_has_leader 1$/m, s.name);
      const h = await httpGet(`${s.url}/health`);
      assert.equal(h.status, 200, s.name);
      assert.equal(JSON.parse(h.body).health, "true", s.name);
      const v = await httpGet(`${s.url}/v2/members`);
      assert.equal(v.status, 404, `${s.name}: /v2/members on the metrics port`);
    }
  });
});
