// SRV discovery against a DNS server run by the test: the lookups go to the given server, the initial
// cluster names this member by address and port and the others "0", "1", ...; etcd's refusals (member not
// in the records, scheme mismatch, no records); client endpoints for etcdctl --discovery-srv.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  dnsServerAddress,
  makeLookup,
  resolveClientEndpoints,
  srvInitialCluster,
  srvService,
} from "../../src/discovery/index.js";
import { TestDnsServer } from "./dns_server.js";

const dns = new TestDnsServer({
  srv: {
    "_etcd-server._tcp.example.test": [
      { target: "m1.example.test.", port: 12380 },
      { target: "m2.example.test.", port: 22380 },
      { target: "localhost.", port: 32380 },
    ],
    "_etcd-server-ssl-blue._tcp.example.test": [
      { target: "m1.example.test.", port: 12380 },
      { target: "m2.example.test.", port: 22380 },
    ],
    "_etcd-server-green._tcp.example.test": [{ target: "m1.example.test.", port: 12380 }],
    "_etcd-client._tcp.example.test": [
      { target: "m1.example.test.", port: 12379, priority: 10 },
      { target: "m2.example.test.", port: 22379, priority: 5 },
    ],
    "_etcd-client-ssl._tcp.secure.test": [{ target: "m1.example.test.", port: 12379 }],
  },
  hosts: {
    "m1.example.test": ["127.0.0.1"],
    "m2.example.test": ["127.0.0.2"],
    localhost: ["127.0.0.1"],
  },
});
let server = "";
before(async () => {
  server = await dns.start();
});
after(() => dns.stop());

test("the DNS server option: SRV and host lookups are asked of that server", async () => {
  const lookup = makeLookup({ server });
  assert.deepEqual(
    (await lookup.srv("_etcd-client._tcp.example.test")).map((r) => `${r.name}:${r.port}`),
    ["m2.example.test:22379", "m1.example.test:12379"], // by priority
  );
  assert.deepEqual(await lookup.addresses("m2.example.test"), ["127.0.0.2"]);
  assert.deepEqual(await lookup.addresses("10.1.2.3"), ["10.1.2.3"]);
  assert.ok(dns.queries.includes("SRV _etcd-client._tcp.example.test"));
  assert.ok(dns.queries.includes("A m2.example.test"));
  await assert.rejects(lookup.srv("_nothing._tcp.example.test"), /ENOTFOUND|queryS(rv|RV)/i);
  assert.equal(dnsServerAddress("127.0.0.1"), "127.0.0.1:53");
  assert.equal(dnsServerAddress("[::1]:5353"), "[::1]:5353");
  assert.throws(() => dnsServerAddress("dns.example:53"), /invalid DNS server address/);
});

test("the initial cluster from SRV records: this member by address and port, the others numbered", async () => {
  const members = await srvInitialCluster({
    name: "infra1",
    domain: "example.test",
    serviceName: "",
    advertisePeerUrls: ["http://127.0.0.1:12380"],
    dnsServer: server,
  });
  // Records of equal priority and weight come in target order: the temporary names follow it.
  assert.deepEqual(members, [
    { name: "0", peerUrls: ["http://localhost:32380"] },
    { name: "infra1", peerUrls: ["http://m1.example.test:12380"] },
    { name: "1", peerUrls: ["http://m2.example.test:22380"] },
  ]);
  // The same member found through another name of the same address.
  const third = await srvInitialCluster({
    name: "infra3",
    domain: "example.test",
    serviceName: "",
    advertisePeerUrls: ["http://127.0.0.1:32380"],
    dnsServer: server,
  });
  assert.deepEqual(
    third.find((m) => m.name === "infra3"),
    { name: "infra3", peerUrls: ["http://localhost:32380"] },
  );
});

test("etcd's refusals: a member missing from the records, a scheme mismatch, no records at all", async () => {
  await assert.rejects(
    srvInitialCluster({
      name: "stranger",
      domain: "example.test",
      serviceName: "",
      advertisePeerUrls: ["http://127.0.0.1:9999"],
      dnsServer: server,
    }),
    { message: 'cannot find local etcd member "stranger" in SRV records' },
  );
  // --discovery-srv-name picks _etcd-server-ssl-blue (https) and _etcd-server-blue (absent); this
  // member advertises http, so its own https record is refused as etcd does.
  await assert.rejects(
    srvInitialCluster({
      name: "infra1",
      domain: "example.test",
      serviceName: "blue",
      advertisePeerUrls: ["http://127.0.0.1:12380"],
      dnsServer: server,
    }),
    { message: 'cannot find local etcd member "infra1" in SRV records' },
  );
  assert.deepEqual(
    await srvInitialCluster({
      name: "g",
      domain: "example.test",
      serviceName: "green",
      advertisePeerUrls: ["http://m1.example.test:12380"],
      dnsServer: server,
    }),
    [{ name: "g", peerUrls: ["http://m1.example.test:12380"] }],
  );
  await assert.rejects(
    srvInitialCluster({
      name: "x",
      domain: "nowhere.test",
      serviceName: "",
      advertisePeerUrls: ["http://127.0.0.1:12380"],
      dnsServer: server,
    }),
    (e: Error) => {
      assert.match(
        e.message,
        /^error querying DNS SRV records for _etcd-server-ssl .*; error querying DNS SRV records for _etcd-server /,
      );
      return true;
    },
  );
  assert.equal(srvService("etcd-server", "blue", "https"), "etcd-server-ssl-blue");
});

test("client endpoints for etcdctl --discovery-srv: https records then http records", async () => {
  assert.deepEqual(await resolveClientEndpoints("example.test", { dnsServer: server }), {
    endpoints: ["http://m2.example.test:22379", "http://m1.example.test:12379"],
  });
  assert.deepEqual(await resolveClientEndpoints("secure.test", { dnsServer: server }), {
    endpoints: ["https://m1.example.test:12379"],
  });
  await assert.rejects(
    resolveClientEndpoints("nowhere.test", { dnsServer: server }),
    /^Error: dns lookup errors: /,
  );
});
