// The HTTP/1.1 side of the client port (health, version, metrics, /v2/members, the /v3 JSON gateway)
// with etcd's status codes and bodies, and the listener (one port for gRPC and HTTP, exact binds, clear
// errors, unix sockets).

import assert from "node:assert/strict";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AlarmType } from "../../src/api/gen/etcdserverpb/rpc.js";
import { ClientApi } from "../../src/api/index.js";
import { FakeEtcd } from "./fake_server.js";
import { b64, type Served, serve, unb64 } from "./helpers.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(
  target: { endpoint?: string; socketPath?: string },
  method: string,
  path: string,
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = target.endpoint ? new URL(target.endpoint) : undefined;
    const req = request(
      { host: u?.hostname, port: u?.port, socketPath: target.socketPath, method, path, agent: false },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          data += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP endpoints", () => {
  let s: Served;
  const get = (path: string) => http(s, "GET", path);
  const post = (path: string, body: unknown) =>
    http(s, "POST", path, typeof body === "string" ? body : JSON.stringify(body));

  before(async () => {
    s = await serve();
  });
  after(() => s.close());

  test("/health: true; false with a reason when there is no leader or an alarm", async () => {
    let r = await get("/health");
    assert.equal(r.status, 200);
    assert.equal(r.body, '{"health":"true","reason":""}');
    s.fake.leaderId = 0n;
    try {
      r = await get("/health");
      assert.equal(r.status, 503);
      assert.equal(r.body, '{"health":"false","reason":"RAFT NO LEADER"}\n');
      assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
      // serializable=true checks this member only.
      assert.equal((await get("/health?serializable=true")).status, 200);
    } finally {
      s.fake.leaderId = s.fake.header().memberId;
    }
    s.fake.alarms = [{ memberID: 1n, alarm: AlarmType.NOSPACE }];
    try {
      r = await get("/health");
      assert.equal(r.body, '{"health":"false","reason":"ALARM NOSPACE"}\n');
      assert.equal((await get("/health?exclude=NOSPACE")).status, 200);
    } finally {
      s.fake.alarms = [];
    }
    r = await http(s, "POST", "/health");
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, "GET");
    assert.equal(r.body, "Method Not Allowed\n");
  });

  test("/livez and /readyz: etcd's check lists", async () => {
    assert.deepEqual([(await get("/livez")).status, (await get("/livez")).body], [200, "ok\n"]);
    assert.equal(
      (await get("/readyz?verbose")).body,
      "[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n",
    );
    assert.equal((await get("/readyz/linearizable_read")).body, "ok\n");
    s.fake.alarms = [{ memberID: 1n, alarm: AlarmType.CORRUPT }];
    try {
      const r = await get("/readyz");
      assert.equal(r.status, 503);
      assert.match(r.body, /^\[-\]data_corruption failed: alarm activated: CORRUPT\n/);
      assert.equal((await get("/readyz?exclude=data_corruption")).status, 200);
    } finally {
      s.fake.alarms = [];
    }
  });

  test("/version, /metrics, unknown paths", async () => {
    const v = await get("/version");
    assert.equal(v.status, 200);
    assert.equal(v.headers["content-type"], "application/json");
    assert.equal(v.body, '{"etcdserver":"3.5.0","etcdcluster":"3.5.0"}');
    const m = await get("/metrics");
    assert.equal(m.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    assert.match(m.body, /^etcd_server_has_leader 1$/m);
    const nf = await get("/nope");
    assert.deepEqual([nf.status, nf.body], [404, "404 page not found\n"]);
  });

  test("/v2/members: etcd's v2 JSON with hex IDs", async () => {
    const r = await get("/v2/members");
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-etcd-cluster-id"], "cdef0123456789ab");
    assert.equal(
      r.body,
      `{"members":[{"id":"8e9e05c52164694d","name":"fake","peerURLs":["http://127.0.0.1:2380"],"clientURLs":["${s.endpoint}"]}]}\n`,
    );
    const l = await get("/v2/members/leader");
    assert.equal(JSON.parse(l.body).id, "8e9e05c52164694d");
  });

  test("/v3 gateway: put, range, deleterange, txn with etcd's JSON", async () => {
    let r = await post("/v3/kv/put", { key: b64("gw/a"), value: b64("1"), prev_kv: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "application/json");
    const rev = s.fake.kv.rev();
    assert.equal(
      r.body,
      `{"header":{"cluster_id":"14839080548208970155","member_id":"10276657743932975437","revision":"${rev}","raft_term":"2"}}`,
    );
    await post("/v3/kv/put", { key: b64("gw/b"), value: b64("2") });
    // lowerCamel names are accepted too (as jsonpb does).
    r = await post("/v3/kv/range", { key: b64("gw/"), rangeEnd: b64("gw0"), limit: "1" });
    const range = JSON.parse(r.body);
    assert.equal(range.count, "2");
    assert.equal(range.more, true);
    assert.deepEqual(range.kvs, [
      {
        key: b64("gw/a"),
        create_revision: String(rev),
        mod_revision: String(rev),
        version: "1",
        value: b64("1"),
      },
    ]);
    r = await post("/v3/kv/txn", {
      compare: [{ key: b64("gw/a"), target: "VALUE", result: "EQUAL", value: b64("1") }],
      success: [
        { request_put: { key: b64("gw/a"), value: b64("3") } },
        { request_range: { key: b64("gw/a") } },
      ],
    });
    const txn = JSON.parse(r.body);
    assert.equal(txn.succeeded, true);
    assert.deepEqual(Object.keys(txn.responses[0]), ["response_put"]);
    assert.equal(unb64(txn.responses[1].response_range.kvs[0].value), "3");
    r = await post("/v3/kv/deleterange", { key: b64("gw/"), range_end: b64("gw0") });
    assert.equal(JSON.parse(r.body).deleted, "2");
  });

  test("/v3 gateway: errors as {error, code, message} with grpc-gateway's HTTP status", async () => {
    let r = await post("/v3/kv/range", {});
    assert.equal(r.status, 400);
    assert.equal(
      r.body,
      '{"error":"etcdserver: key is not provided","code":3,"message":"etcdserver: key is not provided"}',
    );
    r = await post("/v3/kv/range", { key: b64("x"), revision: "99999" });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error, "etcdserver: mvcc: required revision is a future revision");
    assert.equal(JSON.parse(r.body).code, 11);
    r = await post("/v3/lease/revoke", { ID: "777" });
    assert.deepEqual([r.status, JSON.parse(r.body).code], [404, 5]);
    r = await post("/v3/auth/status", {});
    assert.equal(r.status, 501);
    assert.equal(
      r.body,
      '{"error":"method AuthStatus not implemented","code":12,"message":"method AuthStatus not implemented"}',
    );
    r = await post("/v3/kv/range", "{not json");
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).code, 3);
    r = await get("/v3/kv/range");
    assert.equal(r.status, 405);
    r = await post("/v3/nothing", {});
    assert.deepEqual([r.status, r.body], [404, "Not Found\n"]);
  });

  test("/v3 gateway: leases, members, status", async () => {
    let r = await post("/v3/lease/grant", { TTL: "30", ID: "9223372036854775001" });
    assert.deepEqual(JSON.parse(r.body).ID, "9223372036854775001");
    assert.equal(JSON.parse(r.body).TTL, "30");
    r = await post("/v3/lease/timetolive", { ID: "9223372036854775001", keys: true });
    assert.equal(JSON.parse(r.body).grantedTTL, "30");
    r = await post("/v3/kv/lease/leases", {});
    assert.deepEqual(JSON.parse(r.body).leases, [{ ID: "9223372036854775001" }]);
    r = await post("/v3/lease/keepalive", { ID: "9223372036854775001" });
    assert.deepEqual((({ ID, TTL }) => ({ ID, TTL }))(JSON.parse(r.body.trim()).result), {
      ID: "9223372036854775001",
      TTL: "30",
    });
    r = await post("/v3/lease/revoke", { ID: "9223372036854775001" });
    assert.equal(r.status, 200);
    r = await post("/v3/cluster/member/list", {});
    assert.equal(JSON.parse(r.body).members[0].ID, "10276657743932975437");
    r = await post("/v3/maintenance/status", {});
    assert.equal(JSON.parse(r.body).leader, "10276657743932975437");
    assert.equal(JSON.parse(r.body).version, "3.5.0");
  });

  test("/v3/watch streams {result} lines until the client goes away", async () => {
    const u = new URL(s.endpoint);
    const lines: string[] = [];
    const req = request({ host: u.hostname, port: u.port, method: "POST", path: "/v3/watch", agent: false });
    const done = new Promise<void>((resolve) => {
      req.on("response", (res) => {
        res.setEncoding("utf8");
        let buf = "";
        res.on("data", (d: string) => {
          buf += d;
          let i = buf.indexOf("\n");
          while (i >= 0) {
            lines.push(buf.slice(0, i));
            buf = buf.slice(i + 1);
            i = buf.indexOf("\n");
          }
          if (lines.length >= 2) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", () => resolve());
    });
    req.end(JSON.stringify({ create_request: { key: b64("gww") } }));
    // Wait for created, then write.
    const t0 = Date.now();
    while (lines.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    await post("/v3/kv/put", { key: b64("gww"), value: b64("v") });
    await done;
    const created = JSON.parse(lines[0]!).result;
    assert.equal(created.created, true);
    assert.equal(created.header.cluster_id, "14839080548208970155");
    const ev = JSON.parse(lines[1]!).result;
    assert.equal(ev.events.length, 1);
    assert.equal(unb64(ev.events[0].kv.value), "v");
    assert.equal(ev.events[0].type, undefined); // PUT is the default: left out, as etcd's gateway does
  });

  test("HTTP/1.1 request bytes that arrive slowly are parsed in order (one byte at a time, body later)", async () => {
    const u = new URL(s.endpoint);
    const body = JSON.stringify({ key: b64("slow"), value: b64("ok") });
    const head = `POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(u.port), u.hostname);
      let out = "";
      sock.on("data", (d) => {
        out += d.toString();
      });
      sock.on("end", () => resolve(out));
      sock.on("error", reject);
      (async () => {
        for (const ch of head.slice(0, 20)) {
          sock.write(ch);
          await new Promise((r) => setTimeout(r, 2));
        }
        sock.write(head.slice(20));
        await new Promise((r) => setTimeout(r, 50));
        sock.write(body);
      })();
    });
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(s.fake.kv.range(Buffer.from("slow")).kvs[0]!.value.toString(), "ok");
  });
});

describe("client listener", () => {
  test("several URLs bound exactly; a port in use fails with Go's text and leaves nothing bound", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const busy = (blocker.address() as { port: number }).port;
    const fake = new FakeEtcd();
    try {
      const api = await ClientApi.start(fake, { urls: ["http://127.0.0.1:0", "http://localhost:0"] });
      try {
        assert.equal(api.addresses.length, 2);
        for (const a of api.addresses) {
          assert.equal(a.address, "127.0.0.1"); // localhost: its IPv4 address first, as Go's Listen
          assert.equal((await http({ endpoint: a.boundUrl }, "GET", "/version")).status, 200);
        }
      } finally {
        await api.stop(0);
      }
      await assert.rejects(
        ClientApi.start(fake, { urls: ["http://127.0.0.1:0", `http://127.0.0.1:${busy}`] }),
        {
          message: `listen tcp 127.0.0.1:${busy}: bind: address already in use`,
        },
      );
      await assert.rejects(
        ClientApi.start(fake, { urls: ["https://127.0.0.1:0"] }),
        /TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:/,
      );
    } finally {
      blocker.close();
      fake.close();
    }
  });

  test("unix sockets", async () => {
    const path = join(tmpdir(), `etcd-ts-api-${process.pid}.sock`);
    const fake = new FakeEtcd();
    const api = await ClientApi.start(fake, { urls: [`unix://${path}`] });
    try {
      assert.equal(api.addresses[0]!.family, "unix");
      const r = await http({ socketPath: path }, "GET", "/health");
      assert.equal(r.body, '{"health":"true","reason":""}');
    } finally {
      await api.stop(0);
      fake.close();
    }
  });
});
