// The display: what each command prints, in the format chosen by -w/--write-out (etcdctl's printer
// interface). A format that cannot show a response exits 4 with `<format> not supported as output format`
// after the request was made, as etcdctl does.

import type {
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
  HashKVResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
  MoveLeaderResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnResponse,
} from "../../api/gen/etcdserverpb/rpc.js";
import type { Event } from "../../api/gen/mvccpb/kv.js";
import { ExitBadFeature, exitWithError } from "./exit.js";
import { humanizeBytes } from "./goformat.js";

/** clientv3.WatchResponse: one batch of events for a watcher (or a progress notification). */
export interface WatchResp {
  header: ResponseHeader;
  events: Event[];
  compactRevision: bigint;
  canceled: boolean;
  created: boolean;
  /** Events is a nil slice (a response made by the client for a closed watch), printed as JSON null. */
  nilEvents?: boolean;
}

export interface EpHealth {
  ep: string;
  health: boolean;
  took: string;
  error: string;
}

export interface EpStatus {
  ep: string;
  resp: StatusResponse;
}

export interface EpHashKV {
  ep: string;
  resp: HashKVResponse;
}

export interface Printer {
  del(r: DeleteRangeResponse): void;
  get(r: RangeResponse): void;
  put(r: PutResponse): void;
  txn(r: TxnResponse): void;
  watch(r: WatchResp): void;

  grant(r: LeaseGrantResponse): void;
  revoke(id: bigint, r: LeaseRevokeResponse): void;
  keepAlive(r: LeaseKeepAliveResponse): void;
  timeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void;
  leases(r: LeaseLeasesResponse): void;

  memberAdd(r: MemberAddResponse): void;
  memberRemove(id: bigint, r: MemberRemoveResponse): void;
  memberUpdate(id: bigint, r: MemberUpdateResponse): void;
  memberPromote(id: bigint, r: MemberPromoteResponse): void;
  memberList(r: MemberListResponse): void;

  endpointHealth(hs: EpHealth[]): void;
  endpointStatus(ss: EpStatus[]): void;
  endpointHashKV(hs: EpHashKV[]): void;
  moveLeader(leader: bigint, target: bigint, r: MoveLeaderResponse): void;

  alarm(r: AlarmResponse): void;

  roleAdd(role: string, r: AuthRoleAddResponse): void;
  roleGet(role: string, r: AuthRoleGetResponse): void;
  roleDelete(role: string, r: AuthRoleDeleteResponse): void;
  roleList(r: AuthRoleListResponse): void;
  roleGrantPermission(role: string, r: AuthRoleGrantPermissionResponse): void;
  roleRevokePermission(role: string, key: string, end: string, r: AuthRoleRevokePermissionResponse): void;

  userAdd(user: string, r: AuthUserAddResponse): void;
  userGet(user: string, r: AuthUserGetResponse): void;
  userList(r: AuthUserListResponse): void;
  userChangePassword(r: AuthUserChangePasswordResponse): void;
  userGrantRole(user: string, role: string, r: AuthUserGrantRoleResponse): void;
  userRevokeRole(user: string, role: string, r: AuthUserRevokeRoleResponse): void;
  userDelete(user: string, r: AuthUserDeleteResponse): void;

  authStatus(r: AuthStatusResponse): void;
}

/** Every method refuses: the base of the formats that show only some responses. */
export class Unsupported implements Printer {
  constructor(readonly format: string) {}

  protected refuse(): never {
    exitWithError(ExitBadFeature, `${this.format} not supported as output format`);
  }

  del(_r: DeleteRangeResponse): void {
    this.refuse();
  }
  get(_r: RangeResponse): void {
    this.refuse();
  }
  put(_r: PutResponse): void {
    this.refuse();
  }
  txn(_r: TxnResponse): void {
    this.refuse();
  }
  watch(_r: WatchResp): void {
    this.refuse();
  }
  grant(_r: LeaseGrantResponse): void {
    this.refuse();
  }
  revoke(_id: bigint, _r: LeaseRevokeResponse): void {
    this.refuse();
  }
  keepAlive(_r: LeaseKeepAliveResponse): void {
    this.refuse();
  }
  timeToLive(_r: LeaseTimeToLiveResponse, _keys: boolean): void {
    this.refuse();
  }
  leases(_r: LeaseLeasesResponse): void {
    this.refuse();
  }
  memberAdd(_r: MemberAddResponse): void {
    this.refuse();
  }
  memberRemove(_id: bigint, _r: MemberRemoveResponse): void {
    this.refuse();
  }
  memberUpdate(_id: bigint, _r: MemberUpdateResponse): void {
    this.refuse();
  }
  memberPromote(_id: bigint, _r: MemberPromoteResponse): void {
    this.refuse();
  }
  memberList(_r: MemberListResponse): void {
    this.refuse();
  }
  endpointHealth(_hs: EpHealth[]): void {
    this.refuse();
  }
  endpointStatus(_ss: EpStatus[]): void {
    this.refuse();
  }
  endpointHashKV(_hs: EpHashKV[]): void {
    this.refuse();
  }
  moveLeader(_leader: bigint, _target: bigint, _r: MoveLeaderResponse): void {
    this.refuse();
  }
  alarm(_r: AlarmResponse): void {
    this.refuse();
  }
  roleAdd(_role: string, _r: AuthRoleAddResponse): void {
    this.refuse();
  }
  roleGet(_role: string, _r: AuthRoleGetResponse): void {
    this.refuse();
  }
  roleDelete(_role: string, _r: AuthRoleDeleteResponse): void {
    this.refuse();
  }
  roleList(_r: AuthRoleListResponse): void {
    this.refuse();
  }
  roleGrantPermission(_role: string, _r: AuthRoleGrantPermissionResponse): void {
    this.refuse();
  }
  roleRevokePermission(
    _role: string,
    _key: string,
    _end: string,
    _r: AuthRoleRevokePermissionResponse,
  ): void {
    this.refuse();
  }
  userAdd(_user: string, _r: AuthUserAddResponse): void {
    this.refuse();
  }
  userGet(_user: string, _r: AuthUserGetResponse): void {
    this.refuse();
  }
  userList(_r: AuthUserListResponse): void {
    this.refuse();
  }
  userChangePassword(_r: AuthUserChangePasswordResponse): void {
    this.refuse();
  }
  userGrantRole(_user: string, _role: string, _r: AuthUserGrantRoleResponse): void {
    this.refuse();
  }
  userRevokeRole(_user: string, _role: string, _r: AuthUserRevokeRoleResponse): void {
    this.refuse();
  }
  userDelete(_user: string, _r: AuthUserDeleteResponse): void {
    this.refuse();
  }
  authStatus(_r: AuthStatusResponse): void {
    this.refuse();
  }
}

/** The tables etcdctl's simple and table formats share: header and rows. */
export function memberListTable(r: MemberListResponse): { hdr: string[]; rows: string[][] } {
  return {
    hdr: ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"],
    rows: r.members.map((m) => [
      m.ID.toString(16),
      m.name.length === 0 ? "unstarted" : "started",
      m.name,
      m.peerURLs.join(","),
      m.clientURLs.join(","),
      String(m.isLearner),
    ]),
  };
}

export function endpointHealthTable(hs: EpHealth[]): { hdr: string[]; rows: string[][] } {
  return {
    hdr: ["endpoint", "health", "took", "error"],
    rows: hs.map((h) => [h.ep, String(h.health), h.took, h.error]),
  };
}

export function endpointStatusTable(ss: EpStatus[]): { hdr: string[]; rows: string[][] } {
  return {
    hdr: [
      "endpoint",
      "ID",
      "version",
      "db size",
      "is leader",
      "is learner",
      "raft term",
      "raft index",
      "raft applied index",
      "errors",
    ],
    rows: ss.map(({ ep, resp }) => [
      ep,
      (resp.header?.memberId ?? 0n).toString(16),
      resp.version,
      humanizeBytes(resp.dbSize),
      String(resp.leader === (resp.header?.memberId ?? 0n)),
      String(resp.isLearner),
      String(resp.raftTerm),
      String(resp.raftIndex),
      String(resp.raftAppliedIndex),
      resp.errors.join(", "),
    ]),
  };
}

export function endpointHashKVTable(hs: EpHashKV[]): { hdr: string[]; rows: string[][] } {
  return { hdr: ["endpoint", "hash"], rows: hs.map(({ ep, resp }) => [ep, String(resp.hash)]) };
}
