// The v2 discovery client's failure paths, with a fake clock: etcd's backoff (2 s, 4 s, 8 s, ... capped at
// 256 s) for an unreachable registry, then "discovery: too many retries"; a server that is not a v2 keys
// endpoint; a registry without a size; and the DiscoveryError a member reports.

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { backoffMs } from "../../src/discovery/backoff.js";
import {
  DiscoveryError,
  discoverInitialCluster,
  ErrBadDiscoveryEndpoint,
  ErrBadSizeKey,
  ErrSizeNotFound,
  ErrTooManyRetries,
  joinClusterV2,
} from "../../src/discovery/index.js";
import { defaultServerConfig, EtcdURL } from "../../src/server/config.js";
import { freePorts } from "../e2e/cluster.js";

const quiet = { info() {}, warn() {} };

/** A stub HTTP server answering every request with `reply`. */
async function stub(
  reply: (req: http.IncomingMessage) => [number, string],
): Promise<{ url: string; close(): Promise<void> }> {
  const srv = http.createServer((req, res) => {
    const [status, body] = reply(req);
    res.writeHead(status, { "Content-Type": "application/json", "X-Etcd-Index": "7" });
    res.end(body);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

test("etcd's backoff schedule: 2^n seconds, at most 256 s", () => {
  assert.deepEqual([1, 2, 3, 8, 9, 30].map(backoffMs), [2000, 4000, 8000, 256000, 256000, 256000]);
});

test("an unreachable registry is retried with backoff, then 'discovery: too many retries'", async () => {
  const [port] = await freePorts(1);
  const slept: number[] = [];
  await assert.rejects(
    joinClusterV2({
      url: `http://127.0.0.1:${port}/v2/keys/_etcd/registry/x`,
      id: 1n,
      config: "m=http://127.0.0.1:1",
      logger: quiet,
      maxRetries: 3,
      sleep: async (ms) => {
        slept.push(ms);
      },
    }),
    (e) => e === ErrTooManyRetries,
  );
  assert.deepEqual(slept, [2000, 4000, 8000]);
});

test("not a v2 keys endpoint, a missing size, a bad size: etcd's named errors, no retries", async () => {
  const cases: [[number, string], Error][] = [
    [[200, "<html>hello</html>"], ErrBadDiscoveryEndpoint],
    [[404, '{"errorCode":100,"message":"Key not found","cause":"/x","index":7}'], ErrSizeNotFound],
    [[200, '{"action":"get","node":{"key":"/x/_config/size","value":"three"}}'], ErrBadSizeKey],
  ];
  for (const [reply, want] of cases) {
    const s = await stub(() => reply);
    try {
      await assert.rejects(
        joinClusterV2({
          url: `${s.url}/v2/keys/x`,
          id: 1n,
          config: "m=http://127.0.0.1:1",
          logger: quiet,
          maxRetries: 0,
        }),
        (e) => e === want,
      );
    } finally {
      await s.close();
    }
  }
});

test("a member reports etcd's DiscoveryError: failed to join discovery cluster (...)", async () => {
  const [port] = await freePorts(1);
  const cfg = {
    ...defaultServerConfig(),
    name: "m1",
    initialCluster: [],
    initialAdvertisePeerUrls: [new EtcdURL("http://127.0.0.1:2380")],
    discovery: {
      url: `http://127.0.0.1:${port}/v2/keys/_etcd/registry/x`,
      proxy: "",
      fallback: "exit" as const,
      srv: "",
      srvName: "",
      dnsServer: "",
      maxRetries: 0,
    },
  };
  await assert.rejects(discoverInitialCluster(cfg, quiet), (e) => {
    assert.ok(e instanceof DiscoveryError);
    assert.equal(e.message, "failed to join discovery cluster (discovery: too many retries)");
    return true;
  });
});
