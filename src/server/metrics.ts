// Prometheus metrics with etcd's names, so dashboards and alerts written for etcd work unchanged.
// Each member has its own registry (several members can live in one process in tests).

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { mirroredCounter } from "../pkg/metrics.js";

/** What the peer metrics read from the transport. */
export interface PeerTraffic {
  id: bigint;
  sentBytes: number;
  receivedBytes: number;
  droppedMessages: number;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly hasLeader = new Gauge({
    name: "etcd_server_has_leader",
    help: "Whether or not a leader exists. 1 is existence, 0 is not.",
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: "etcd_server_is_leader",
    help: "Whether or not this member is a leader. 1 if is, 0 otherwise.",
    registers: [this.registry],
  });
  readonly leaderChanges = new Counter({
    name: "etcd_server_leader_changes_seen_total",
    help: "The number of leader changes seen.",
    registers: [this.registry],
  });
  readonly proposalsCommitted = new Gauge({
    name: "etcd_server_proposals_committed_total",
    help: "The total number of consensus proposals committed.",
    registers: [this.registry],
  });
  readonly proposalsApplied = new Gauge({
    name: "etcd_server_proposals_applied_total",
    help: "The total number of consensus proposals applied.",
    registers: [this.registry],
  });
  readonly proposalsPending = new Gauge({
    name: "etcd_server_proposals_pending",
    help: "The current number of pending proposals to commit.",
    registers: [this.registry],
  });
  readonly proposalsFailed = new Counter({
    name: "etcd_server_proposals_failed_total",
    help: "The total number of failed proposals seen.",
    registers: [this.registry],
  });
  readonly walFsync = new Histogram({
    name: "etcd_disk_wal_fsync_duration_seconds",
    help: "The latency distributions of fsync called by WAL.",
    buckets: [
      0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192,
    ],
    registers: [this.registry],
  });
  readonly backendCommit = new Histogram({
    name: "etcd_disk_backend_commit_duration_seconds",
    help: "The latency distributions of commit called by backend.",
    buckets: [
      0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192,
    ],
    registers: [this.registry],
  });
  readonly defragDuration = new Histogram({
    name: "etcd_disk_backend_defrag_duration_seconds",
    help: "The latency distribution of backend defragmentation.",
    buckets: [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6],
    registers: [this.registry],
  });
  // Scheduled backups (etcd-ts's own; etcd has none).
  readonly backupDuration = new Histogram({
    name: "etcd_server_backup_duration_seconds",
    help: "etcd-ts: the latency distribution of scheduled backups.",
    buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300],
    registers: [this.registry],
  });
  readonly backupFailures = new Counter({
    name: "etcd_server_backup_failures_total",
    help: "etcd-ts: the number of scheduled backups that failed.",
    registers: [this.registry],
  });
  readonly backupLastSuccess = new Gauge({
    name: "etcd_server_backup_last_success_timestamp_seconds",
    help: "etcd-ts: when the last scheduled backup was saved (seconds since the epoch).",
    registers: [this.registry],
  });
  readonly backupLastSize = new Gauge({
    name: "etcd_server_backup_last_size_bytes",
    help: "etcd-ts: the size of the last scheduled backup.",
    registers: [this.registry],
  });
  readonly dbTotalSize: Gauge;
  readonly peerRtt = new Histogram({
    name: "etcd_network_peer_round_trip_time_seconds",
    help: "Round-Trip-Time histogram between peers",
    labelNames: ["To"],
    buckets: [
      0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048, 0.4096,
      0.8192,
    ],
    registers: [this.registry],
  });

  readonly dbTotalSizeInUse: Gauge;
  readonly serverVersion = new Gauge({
    name: "etcd_server_version",
    help: "Which version is running. 1 for 'server_version' label with current version.",
    labelNames: ["server_version"],
    registers: [this.registry],
  });
  readonly serverId = new Gauge({
    name: "etcd_server_id",
    help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    labelNames: ["server_id"],
    registers: [this.registry],
  });
  // Requests by kind, as etcd's mvcc counts them.
  readonly mvccPut = new Counter({
    name: "etcd_mvcc_put_total",
    help: "Total number of puts seen by this member.",
    registers: [this.registry],
  });
  readonly mvccDelete = new Counter({
    name: "etcd_mvcc_delete_total",
    help: "Total number of deletes seen by this member.",
    registers: [this.registry],
  });
  readonly mvccRange = new Counter({
    name: "etcd_mvcc_range_total",
    help: "Total number of ranges seen by this member.",
    registers: [this.registry],
  });
  readonly mvccTxn = new Counter({
    name: "etcd_mvcc_txn_total",
    help: "Total number of txns seen by this member.",
    registers: [this.registry],
  });

  /** The sizes are read when metrics are scraped, never on the apply path (they stat the file). */
  constructor(dbSize: () => number, dbSizeInUse: () => number) {
    this.dbTotalSize = new Gauge({
      name: "etcd_mvcc_db_total_size_in_bytes",
      help: "Total size of the underlying database physically allocated in bytes.",
      registers: [this.registry],
      collect() {
        this.set(dbSize());
      },
    });
    this.dbTotalSizeInUse = new Gauge({
      name: "etcd_mvcc_db_total_size_in_use_in_bytes",
      help: "Total size of the underlying database logically in use in bytes.",
      registers: [this.registry],
      collect() {
        this.set(dbSizeInUse());
      },
    });
    // The process' own (resident memory, CPU, open files, start time), as etcd's Go collectors give.
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * etcd_network_peer_{sent,received}_bytes_total and _sent_failures_total from the transport's own
   * counters, read at scrape time (a peer whose counters restarted, removed and added again, starts over).
   */
  watchPeers(traffic: () => PeerTraffic[]): void {
    const series = (label: "To" | "From", pick: (p: PeerTraffic) => number) => () =>
      traffic().map((p) => ({ labels: { [label]: p.id.toString(16) }, value: pick(p) }));
    const r = this.registry;
    mirroredCounter(
      r,
      "etcd_network_peer_sent_bytes_total",
      "The total number of bytes sent to peers.",
      ["To"],
      series("To", (p) => p.sentBytes),
    );
    mirroredCounter(
      r,
      "etcd_network_peer_received_bytes_total",
      "The total number of bytes received from peers.",
      ["From"],
      series("From", (p) => p.receivedBytes),
    );
    mirroredCounter(
      r,
      "etcd_network_peer_sent_failures_total",
      "The total number of send failures from peers.",
      ["To"],
      series("To", (p) => p.droppedMessages),
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
