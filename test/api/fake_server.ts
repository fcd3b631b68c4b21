// A one-member stand-in for EtcdServer with the API layer's contract (src/api/types.ts): a real key space
// (KVStore over a temp LMDB Backend), watchable store and lessor, without raft. Requests are converted
// with src/server/convert.ts as the real server does; errors are the layers' own (mvcc, lease) or the
// catalog's, and the API layer maps them.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as pb from "../../src/api/gen/etcdserverpb/rpc.js";
import { AlarmRequest_AlarmAction } from "../../src/api/gen/etcdserverpb/rpc.js";
import type { ApiServer, MetricsRegistry } from "../../src/api/types.js";
import { Backend } from "../../src/backend/backend.js";
import { LeaseNotFoundError } from "../../src/lease/errors.js";
import { monotonicClock } from "../../src/lease/lease.js";
import { Lessor } from "../../src/lease/lessor.js";
import { KVStore } from "../../src/mvcc/kvstore.js";
import { WatchableStore } from "../../src/mvcc/watch/index.js";
import {
  compactionRequestFromPb,
  deleteRangeRequestFromPb,
  deleteRangeResponseToPb,
  hashKVResponseToPb,
  headerToPb,
  putRequestFromPb,
  putResponseToPb,
  rangeRequestFromPb,
  rangeResponseToPb,
  txnRequestFromPb,
  txnResponseToPb,
} from "../../src/server/convert.js";
import { ErrGRPCNotLeader } from "../../src/server/errors.js";

export const CLUSTER_ID = 0xcdef0123456789abn; // above 2^63: lost through any JS number
export const MEMBER_ID = 0x8e9e05c52164694dn;

export class FakeEtcd implements ApiServer {
  readonly dir = mkdtempSync(join(tmpdir(), "etcd-ts-api-test-"));
  readonly backend = Backend.open(join(this.dir, "member", "snap", "db"), { batchIntervalMs: 10_000 });
  readonly lessor: Lessor;
  readonly kv: KVStore;
  readonly watchable: WatchableStore;
  raftTerm = 2n;
  leaderId = MEMBER_ID;
  alarms: pb.AlarmMember[] = [];
  clientUrls: string[] = [];
  /** Delay before each range answers (to test timeouts and ordering), ms. */
  rangeDelayMs = 0;

  readonly metrics: MetricsRegistry = {
    contentType: "text/plain; version=0.0.4; charset=utf-8",
    metrics: async () =>
      "# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.\n" +
      "# TYPE etcd_server_has_leader gauge\n" +
      `etcd_server_has_leader ${this.leaderId === 0n ? 0 : 1}\n`,
  };

  constructor() {
    this.lessor = new Lessor(this.backend, {
      clock: monotonicClock,
      minTtl: 1,
      onExpired: (ids) => {
        for (const id of ids) {
          try {
            this.lessor.revoke(id);
          } catch {}
        }
      },
    });
    this.kv = new KVStore(this.backend, { maxTxnOps: 128 });
    this.kv.setLessor(this.lessor);
    this.lessor.setRangeDeleter(() => this.kv.write());
    this.lessor.promote();
    this.lessor.start(100);
    this.watchable = new WatchableStore(this.kv, { progressNotifyIntervalMs: 0 });
  }

  header(): pb.ResponseHeader {
    return {
      clusterId: CLUSTER_ID,
      memberId: MEMBER_ID,
      revision: BigInt(this.kv.rev()),
      raftTerm: this.raftTerm,
    };
  }

  leader(): bigint {
    return this.leaderId;
  }

  versions(): { server: string; cluster: string | undefined } {
    return { server: "3.5.0", cluster: "3.5.0" };
  }

  // A member's replies carry only the revision in the header; the API layer fills in the rest.

  async range(r: pb.RangeRequest): Promise<pb.RangeResponse> {
    if (this.rangeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.rangeDelayMs));
    return rangeResponseToPb(this.kv.rangeRequest(rangeRequestFromPb(r)));
  }

  async put(r: pb.PutRequest): Promise<pb.PutResponse> {
    return putResponseToPb(this.kv.put(putRequestFromPb(r)));
  }

  async deleteRange(r: pb.DeleteRangeRequest): Promise<pb.DeleteRangeResponse> {
    return deleteRangeResponseToPb(this.kv.deleteRange(deleteRangeRequestFromPb(r)));
  }

  async txn(r: pb.TxnRequest): Promise<pb.TxnResponse> {
    return txnResponseToPb(this.kv.txn(txnRequestFromPb(r)));
  }

  async compact(r: pb.CompactionRequest): Promise<pb.CompactionResponse> {
    const res = this.kv.compact(compactionRequestFromPb(r).revision);
    if (r.physical) await res.done;
    return { header: headerToPb(res.header) };
  }

  async leaseGrant(r: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> {
    const id = r.ID !== 0n ? r.ID : randomBytes(8).readBigUInt64BE() >> 1n;
    const l = this.lessor.grant(id, Number(r.TTL));
    return { header: this.header(), ID: l.id, TTL: BigInt(l.ttl), error: "" };
  }

  async leaseRevoke(r: pb.LeaseRevokeRequest): Promise<pb.LeaseRevokeResponse> {
    this.lessor.revoke(r.ID);
    return { header: this.header() };
  }

  async leaseRenew(id: bigint): Promise<bigint> {
    return BigInt(await this.lessor.renew(id));
  }

  async leaseTimeToLive(r: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    if (this.lessor.lookup(r.ID) === undefined) throw new LeaseNotFoundError();
    const t = this.lessor.timeToLive(r.ID, r.keys);
    return {
      header: this.header(),
      ID: t.id,
      TTL: BigInt(t.ttl),
      grantedTTL: BigInt(t.grantedTtl),
      keys: t.keys,
    };
  }

  async leaseLeases(): Promise<pb.LeaseLeasesResponse> {
    return { header: this.header(), leases: this.lessor.leases().map((l) => ({ ID: l.id })) };
  }

  async memberList(_linearizable: boolean): Promise<pb.MemberListResponse> {
    return {
      header: this.header(),
      members: [
        {
          ID: MEMBER_ID,
          name: "fake",
          peerURLs: ["http://127.0.0.1:2380"],
          clientURLs: this.clientUrls,
          isLearner: false,
        },
      ],
    };
  }

  async status(): Promise<pb.StatusResponse> {
    return {
      header: this.header(),
      version: "3.5.0",
      dbSize: BigInt(this.backend.size()),
      leader: this.leaderId,
      raftIndex: 10n,
      raftTerm: this.raftTerm,
      raftAppliedIndex: 10n,
      errors: this.leaderId === 0n ? ["etcdserver: no leader"] : [],
      dbSizeInUse: BigInt(this.backend.sizeInUse()),
      isLearner: false,
      storageVersion: "",
      dbSizeQuota: 0n,
      downgradeInfo: undefined,
    };
  }

  async hashKV(r: pb.HashKVRequest): Promise<pb.HashKVResponse> {
    return hashKVResponseToPb(this.kv.hashKV(Number(r.revision)));
  }

  async hash(): Promise<pb.HashResponse> {
    return { header: this.header(), hash: this.kv.hash() };
  }

  async alarm(r: pb.AlarmRequest): Promise<pb.AlarmResponse> {
    if (r.action === AlarmRequest_AlarmAction.ACTIVATE)
      this.alarms.push({ memberID: r.memberID, alarm: r.alarm });
    if (r.action === AlarmRequest_AlarmAction.DEACTIVATE)
      this.alarms = this.alarms.filter((a) => a.alarm !== r.alarm);
    return { header: this.header(), alarms: [...this.alarms] };
  }

  async defragment(): Promise<pb.DefragmentResponse> {
    return { header: undefined };
  }

  snapshot(): AsyncIterable<Uint8Array> {
    return this.backend.snapshot();
  }

  async moveLeader(_r: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse> {
    throw ErrGRPCNotLeader();
  }

  close(): void {
    this.watchable.close();
    this.lessor.close();
    this.kv.close();
    this.backend.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
