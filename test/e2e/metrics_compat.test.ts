// /metrics against the real etcd 3.4: after the same requests (puts, a get, a range at a future
// revision that fails, a txn, a delete), every metric the etcd dashboards and alerts read is there,
// and the gRPC counters carry etcd's labels and status code names with the same counts.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Cluster,
  ctlOk,
  etcdctl,
  haveRealEtcd,
  httpGet,
  parseJsonBig,
  skipWithoutEtcdctl,
  startRealEtcd,
} from "./cluster.js";

/** What the etcd mixin's alerts and the usual etcd dashboards query. */
const WANTED = [
  "etcd_server_has_leader",
  "etcd_server_is_leader",
  "etcd_server_leader_changes_seen_total",
  "etcd_server_proposals_committed_total",
  "etcd_server_proposals_applied_total",
  "etcd_server_proposals_pending",
  "etcd_server_proposals_failed_total",
  "etcd_server_quota_backend_bytes",
  "etcd_server_version",
  "etcd_server_id",
  "etcd_disk_wal_fsync_duration_seconds_bucket",
  "etcd_disk_backend_commit_duration_seconds_bucket",
  "etcd_mvcc_db_total_size_in_bytes",
  "etcd_mvcc_db_total_size_in_use_in_bytes",
  "etcd_mvcc_put_total",
  "etcd_mvcc_delete_total",
  "etcd_mvcc_range_total",
  "etcd_mvcc_txn_total",
  "grpc_server_started_total",
  "grpc_server_handled_total",
  "grpc_server_msg_received_total",
  "grpc_server_msg_sent_total",
  "etcd_network_client_grpc_received_bytes_total",
  "etcd_network_client_grpc_sent_bytes_total",
  "process_resident_memory_bytes",
  "process_cpu_seconds_total",
  "process_start_time_seconds",
  "process_open_fds",
];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const grpcCount = (s: Sample[], name: string, method: string, code?: string) =>
  s
    .filter(
      (x) =>
        x.name === name &&
        x.labels.grpc_method === method &&
        x.labels.grpc_service === "etcdserverpb.KV" &&
        x.labels.grpc_type === "unary" &&
        (code === undefined || x.labels.grpc_code === code),
    )
    .reduce((a, x) => a + x.value, 0);

describe("/metrics compared with etcd 3.4", { skip: skipWithoutEtcdctl }, () => {
  const sides: { name: string; c: Cluster }[] = [];
  before(async () => {
    sides.push({ name: "ours", c: await Cluster.start({ size: 1 }) });
    if (haveRealEtcd) sides.push({ name: "real", c: await startRealEtcd() });
  });
  after(async () => {
    for (const s of sides) await s.c.destroy();
  });

  test("same requests, same metric names, gRPC labels and counts", async () => {
    const scraped: Sample[][] = [];
    for (const s of sides) {
      const ep = s.c.endpoints();
      for (let i = 0; i < 3; i++) await ctlOk(["put", `k${i}`, "v"], { endpoints: ep });
      await ctlOk(["get", "k0"], { endpoints: ep });
      const bad = await etcdctl(["get", "k0", "--rev", "100000"], { endpoints: ep });
      assert.match(bad.stderr, /future revision/);
      await ctlOk(["txn"], { endpoints: ep, stdin: 'value("k0") = "v"\n\nput k9 x\n\n\n' });
      await ctlOk(["del", "k1"], { endpoints: ep });
      scraped.push(parse((await httpGet(`${s.c.members[0]!.spec.clientUrl}/metrics`)).body));
    }
    const ours = scraped[0]!;
    const names = new Set(ours.map((x) => x.name));
    for (const n of WANTED) assert.ok(names.has(n), `missing ${n}`);
    assert.equal(grpcCount(ours, "grpc_server_handled_total", "Put", "OK"), 3);
    assert.equal(grpcCount(ours, "grpc_server_handled_total", "Range", "OutOfRange"), 1);
    assert.equal(grpcCount(ours, "grpc_server_started_total", "Txn"), 1);
    assert.equal(ours.find((x) => x.name === "etcd_mvcc_put_total")?.value, 3);
    const clientIn = ours.find((x) => x.name === "etcd_network_client_grpc_received_bytes_total")?.value ?? 0;
    assert.ok(clientIn > 0, "client gRPC bytes received are counted");
    const real = scraped[1];
    if (real !== undefined) {
      const realNames = new Set(real.map((x) => x.name));
      for (const n of WANTED) if (realNames.has(n)) assert.ok(names.has(n), `etcd has ${n}, we do not`);
      for (const [name, method, code] of [
        ["grpc_server_started_total", "Put", undefined],
        ["grpc_server_handled_total", "Put", "OK"],
        ["grpc_server_handled_total", "Range", "OutOfRange"],
        ["grpc_server_handled_total", "Txn", "OK"],
        ["grpc_server_handled_total", "DeleteRange", "OK"],
        ["grpc_server_msg_received_total", "Put", undefined],
        ["grpc_server_msg_sent_total", "Put", undefined],
      ] as const) {
        assert.equal(
          grpcCount(ours, name, method, code),
          grpcCount(real, name, method, code),
          `${name} ${method} ${code}`,
        );
      }
    }
  });
});

describe("peer traffic metrics", () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ size: 3 });
  });
  after(async () => {
    await c?.destroy();
  });

  test("the leader's etcd_network_peer_{sent,received}_bytes_total count each follower's traffic, by its ID", async () => {
    await ctlOk(["put", "k", "v"], { endpoints: c.endpoints() });
    const ids = parseJsonBig(
      await ctlOk(["member", "list", "-w", "json"], { endpoints: c.endpoints() }),
    ).members.map((m: { ID: bigint; name: string }) => ({ name: m.name, hex: BigInt(m.ID).toString(16) }));
    const leader = c.members[await c.leaderIndex()]!;
    const samples = parse((await httpGet(`${leader.spec.clientUrl}/metrics`)).body);
    const followers = ids.filter((m: { name: string }) => m.name !== leader.name);
    assert.equal(followers.length, 2);
    for (const f of followers) {
      const sent = samples.find(
        (x) => x.name === "etcd_network_peer_sent_bytes_total" && x.labels.To === f.hex,
      );
      const recv = samples.find(
        (x) => x.name === "etcd_network_peer_received_bytes_total" && x.labels.From === f.hex,
      );
      assert.ok((sent?.value ?? 0) > 0, `bytes sent to ${f.name}`);
      assert.ok((recv?.value ?? 0) > 0, `bytes received from ${f.name}`);
    }
  });
});
