// `-w json`: each response as one line of Go's encoding/json (gojson.ts). With --hex, `member list`
// prints IDs as hex strings (etcdctl's hand-built encoding, which also leaves out isLearner and the
// header's revision, and spells the client URLs key "clientURLS").

import type {
  AlarmResponse,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthStatusResponse,
  AuthUserGetResponse,
  AuthUserListResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveResponse,
  MemberAddResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
} from "../../api/gen/etcdserverpb/rpc.js";
import { goJsonString } from "./goformat.js";
import {
  alarmJ,
  authStatusJ,
  delJ,
  eventJ,
  hashKVJ,
  headerJ,
  headerOnlyJ,
  J,
  keepAliveJ,
  leaseGrantJ,
  leasesJ,
  memberAddJ,
  membersJ,
  putJ,
  rangeJ,
  roleGetJ,
  roleListJ,
  statusJ,
  timeToLiveJ,
  txnJ,
  userGetJ,
  userListJ,
} from "./gojson.js";
import { outln } from "./out.js";
import { type EpHashKV, type EpHealth, type EpStatus, Unsupported, type WatchResp } from "./printer.js";

type WithHeader = { header: ResponseHeader | undefined };

export class JsonPrinter extends Unsupported {
  constructor(readonly isHex: boolean) {
    super("json");
  }

  override del(r: DeleteRangeResponse): void {
    outln(delJ(r));
  }
  override get(r: RangeResponse): void {
    outln(rangeJ(r));
  }
  override put(r: PutResponse): void {
    outln(putJ(r));
  }
  override txn(r: TxnResponse): void {
    outln(txnJ(r));
  }
  override watch(r: WatchResp): void {
    outln(
      new J()
        .raw("Header", headerJ(r.header).toString())
        .arr("Events", r.events.map(eventJ), false, r.nilEvents === true)
        .num("CompactRevision", r.compactRevision, false)
        .bool("Canceled", r.canceled, false)
        .bool("Created", r.created, false)
        .toString(),
    );
  }
  override grant(r: LeaseGrantResponse): void {
    outln(leaseGrantJ(r));
  }
  override revoke(_id: bigint, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override keepAlive(r: LeaseKeepAliveResponse): void {
    outln(keepAliveJ(r));
  }
  override timeToLive(r: LeaseTimeToLiveResponse): void {
    outln(timeToLiveJ(r));
  }
  override leases(r: LeaseLeasesResponse): void {
    outln(leasesJ(r));
  }
  override memberAdd(r: MemberAddResponse): void {
    outln(memberAddJ(r));
  }
  override memberRemove(_id: bigint, r: MemberListResponse): void {
    outln(membersJ(r));
  }
  override memberUpdate(_id: bigint, r: MemberListResponse): void {
    outln(membersJ(r));
  }
  override memberPromote(_id: bigint, r: MemberListResponse): void {
    outln(membersJ(r));
  }
  override memberList(r: MemberListResponse): void {
    if (!this.isHex) {
      outln(membersJ(r));
      return;
    }
    const h = r.header;
    let s = `{"header":{"cluster_id":"${(h?.clusterId ?? 0n).toString(16)}","member_id":"${(h?.memberId ?? 0n).toString(16)}","raft_term":${h?.raftTerm ?? 0n}}`;
    r.members.forEach((m, i) => {
      s += i === 0 ? ',"members":[{"ID":"' : ',{"ID":"';
      s += `${m.ID.toString(16)}","name":"${m.name}","peerURLs":[${m.peerURLs.map(goJsonString).join(",")}]`;
      s += `,"clientURLS":[${m.clientURLs.map(goJsonString).join(",")}]}`;
      if (i === r.members.length - 1) s += "]";
    });
    outln(`${s}}`);
  }
  override endpointHealth(hs: EpHealth[]): void {
    outln(
      `[${hs
        .map((h) =>
          new J()
            .str("endpoint", h.ep, false)
            .bool("health", h.health, false)
            .str("took", h.took, false)
            .str("error", h.error)
            .toString(),
        )
        .join(",")}]`,
    );
  }
  override endpointStatus(ss: EpStatus[]): void {
    outln(
      `[${ss.map((s) => new J().str("Endpoint", s.ep, false).raw("Status", statusJ(s.resp)).toString()).join(",")}]`,
    );
  }
  override endpointHashKV(hs: EpHashKV[]): void {
    outln(
      `[${hs.map((h) => new J().str("Endpoint", h.ep, false).raw("HashKV", hashKVJ(h.resp)).toString()).join(",")}]`,
    );
  }
  override moveLeader(_l: bigint, _t: bigint, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override alarm(r: AlarmResponse): void {
    outln(alarmJ(r));
  }
  override roleAdd(_role: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override roleGet(_role: string, r: AuthRoleGetResponse): void {
    outln(roleGetJ(r));
  }
  override roleDelete(_role: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override roleList(r: AuthRoleListResponse): void {
    outln(roleListJ(r));
  }
  override roleGrantPermission(_role: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override roleRevokePermission(_r: string, _k: string, _e: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override userAdd(_user: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override userGet(_user: string, r: AuthUserGetResponse): void {
    outln(userGetJ(r));
  }
  override userList(r: AuthUserListResponse): void {
    outln(userListJ(r));
  }
  override userChangePassword(r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override userGrantRole(_u: string, _r: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override userRevokeRole(_u: string, _r: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override userDelete(_user: string, r: WithHeader): void {
    outln(headerOnlyJ(r));
  }
  override authStatus(r: AuthStatusResponse): void {
    outln(authStatusJ(r));
  }
}
