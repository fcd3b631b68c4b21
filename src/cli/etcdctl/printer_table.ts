// `-w table` (member list and the endpoint commands only) and `-w protobuf` (the response's wire
// encoding, for the responses that are protobuf messages).

import {
  AlarmResponse,
  AuthRoleAddResponse,
  AuthRoleDeleteResponse,
  AuthRoleGetResponse,
  AuthRoleGrantPermissionResponse,
  AuthRoleListResponse,
  AuthRoleRevokePermissionResponse,
  AuthStatusResponse,
  AuthUserAddResponse,
  AuthUserChangePasswordResponse,
  AuthUserDeleteResponse,
  AuthUserGetResponse,
  AuthUserGrantRoleResponse,
  AuthUserListResponse,
  AuthUserRevokeRoleResponse,
  DeleteRangeResponse,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  LeaseRevokeResponse,
  type LeaseTimeToLiveResponse,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
  MoveLeaderResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
  WatchResponse,
} from "../../api/gen/etcdserverpb/rpc.js";
import { ExitBadFeature, exitWithError } from "./exit.js";
import { out } from "./out.js";
import {
  type EpHashKV,
  type EpHealth,
  type EpStatus,
  endpointHashKVTable,
  endpointHealthTable,
  endpointStatusTable,
  memberListTable,
  Unsupported,
  type WatchResp,
} from "./printer.js";
import { renderTable } from "./table.js";

export class TablePrinter extends Unsupported {
  constructor() {
    super("table");
  }
  override memberList(r: MemberListResponse): void {
    const t = memberListTable(r);
    out(renderTable(t.hdr, t.rows));
  }
  override endpointHealth(hs: EpHealth[]): void {
    const t = endpointHealthTable(hs);
    out(renderTable(t.hdr, t.rows));
  }
  override endpointStatus(ss: EpStatus[]): void {
    const t = endpointStatusTable(ss);
    out(renderTable(t.hdr, t.rows));
  }
  override endpointHashKV(hs: EpHashKV[]): void {
    const t = endpointHashKVTable(hs);
    out(renderTable(t.hdr, t.rows));
  }
}

interface Encoder<T> {
  encode(m: T): { finish(): Uint8Array };
}

function pb<T>(enc: Encoder<T>, m: T): void {
  out(enc.encode(m).finish());
}

function unsupportedType(goType: string): never {
  exitWithError(ExitBadFeature, `marshal unsupported for type ${goType}`);
}

export class ProtobufPrinter extends Unsupported {
  constructor() {
    super("protobuf");
  }
  override del(r: DeleteRangeResponse): void {
    pb(DeleteRangeResponse, r);
  }
  override get(r: RangeResponse): void {
    pb(RangeResponse, r);
  }
  override put(r: PutResponse): void {
    pb(PutResponse, r);
  }
  override txn(r: TxnResponse): void {
    pb(TxnResponse, r);
  }
  override watch(r: WatchResp): void {
    pb(WatchResponse, {
      header: r.header,
      watchId: 0n,
      created: r.created,
      canceled: r.canceled,
      compactRevision: r.compactRevision,
      cancelReason: "",
      fragment: false,
      events: r.events,
    });
  }
  // clientv3's lease responses embed *pb.ResponseHeader, whose Marshal method Go promotes: etcdctl prints
  // the header's encoding alone.
  override grant(r: LeaseGrantResponse): void {
    this.header(r.header);
  }
  override revoke(_id: bigint, r: LeaseRevokeResponse): void {
    pb(LeaseRevokeResponse, r);
  }
  override keepAlive(r: LeaseKeepAliveResponse): void {
    this.header(r.header);
  }
  override timeToLive(r: LeaseTimeToLiveResponse): void {
    this.header(r.header);
  }
  override leases(r: LeaseLeasesResponse): void {
    this.header(r.header);
  }
  private header(h: ResponseHeader | undefined): void {
    if (h === undefined) unsupportedType("clientv3 response without a header");
    pb(ResponseHeader, h);
  }
  override memberAdd(r: MemberAddResponse): void {
    pb(MemberAddResponse, r);
  }
  override memberRemove(_id: bigint, r: MemberRemoveResponse): void {
    pb(MemberRemoveResponse, r);
  }
  override memberUpdate(_id: bigint, r: MemberUpdateResponse): void {
    pb(MemberUpdateResponse, r);
  }
  override memberPromote(_id: bigint, r: MemberPromoteResponse): void {
    pb(MemberPromoteResponse, r);
  }
  override memberList(r: MemberListResponse): void {
    pb(MemberListResponse, r);
  }
  override moveLeader(_l: bigint, _t: bigint, r: MoveLeaderResponse): void {
    pb(MoveLeaderResponse, r);
  }
  override alarm(r: AlarmResponse): void {
    pb(AlarmResponse, r);
  }
  override roleAdd(_role: string, r: AuthRoleAddResponse): void {
    pb(AuthRoleAddResponse, r);
  }
  override roleGet(_role: string, r: AuthRoleGetResponse): void {
    pb(AuthRoleGetResponse, r);
  }
  override roleDelete(_role: string, r: AuthRoleDeleteResponse): void {
    pb(AuthRoleDeleteResponse, r);
  }
  override roleList(r: AuthRoleListResponse): void {
    pb(AuthRoleListResponse, r);
  }
  override roleGrantPermission(_role: string, r: AuthRoleGrantPermissionResponse): void {
    pb(AuthRoleGrantPermissionResponse, r);
  }
  override roleRevokePermission(
    _r: string,
    _k: string,
    _e: string,
    r: AuthRoleRevokePermissionResponse,
  ): void {
    pb(AuthRoleRevokePermissionResponse, r);
  }
  override userAdd(_user: string, r: AuthUserAddResponse): void {
    pb(AuthUserAddResponse, r);
  }
  override userGet(_user: string, r: AuthUserGetResponse): void {
    pb(AuthUserGetResponse, r);
  }
  override userList(r: AuthUserListResponse): void {
    pb(AuthUserListResponse, r);
  }
  override userChangePassword(r: AuthUserChangePasswordResponse): void {
    pb(AuthUserChangePasswordResponse, r);
  }
  override userGrantRole(_u: string, _r: string, r: AuthUserGrantRoleResponse): void {
    pb(AuthUserGrantRoleResponse, r);
  }
  override userRevokeRole(_u: string, _r: string, r: AuthUserRevokeRoleResponse): void {
    pb(AuthUserRevokeRoleResponse, r);
  }
  override userDelete(_user: string, r: AuthUserDeleteResponse): void {
    pb(AuthUserDeleteResponse, r);
  }
  override authStatus(r: AuthStatusResponse): void {
    pb(AuthStatusResponse, r);
  }
}
