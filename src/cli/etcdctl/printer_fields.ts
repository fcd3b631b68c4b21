// `-w fields`: every field as `"Name" : value` lines (strings and bytes quoted as Go's %q), the format
// scripts parse. Member changes, move-leader, user get/list and auth status are not shown in it.

import { Permission_Type } from "../../api/gen/authpb/auth.js";
import type {
  AlarmResponse,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
} from "../../api/gen/etcdserverpb/rpc.js";
import type { KeyValue } from "../../api/gen/mvccpb/kv.js";
import { goQuote, goStringSlice } from "./goformat.js";
import { Buf } from "./out.js";
import { type EpHashKV, type EpHealth, type EpStatus, Unsupported, type WatchResp } from "./printer.js";
import { alarmName, eventTypeName } from "./printer_simple.js";

function kvTo(b: Buf, pfx: string, kv: KeyValue | undefined): void {
  b.line(`"${pfx}Key" : ${goQuote(kv?.key ?? "")}`);
  b.line(`"${pfx}CreateRevision" : ${kv?.createRevision ?? 0n}`);
  b.line(`"${pfx}ModRevision" : ${kv?.modRevision ?? 0n}`);
  b.line(`"${pfx}Version" : ${kv?.version ?? 0n}`);
  b.line(`"${pfx}Value" : ${goQuote(kv?.value ?? "")}`);
  b.line(`"${pfx}Lease" : ${kv?.lease ?? 0n}`);
}

function hdrTo(b: Buf, h: ResponseHeader | undefined): void {
  b.line(`"ClusterID" : ${h?.clusterId ?? 0n}`);
  b.line(`"MemberID" : ${h?.memberId ?? 0n}`);
  b.line(`"Revision" : ${h?.revision ?? 0n}`);
  b.line(`"RaftTerm" : ${h?.raftTerm ?? 0n}`);
}

const PERM_NAMES: Record<number, string> = {
  [Permission_Type.READ]: "READ",
  [Permission_Type.WRITE]: "WRITE",
  [Permission_Type.READWRITE]: "READWRITE",
};

export class FieldsPrinter extends Unsupported {
  constructor() {
    super("fields");
  }

  private delTo(b: Buf, r: DeleteRangeResponse): void {
    hdrTo(b, r.header);
    b.line(`"Deleted" : ${r.deleted}`);
    for (const kv of r.prevKvs) kvTo(b, "Prev", kv);
  }
  private getTo(b: Buf, r: RangeResponse): void {
    hdrTo(b, r.header);
    for (const kv of r.kvs) kvTo(b, "", kv);
    b.line(`"More" : ${r.more}`);
    b.line(`"Count" : ${r.count}`);
  }
  private putTo(b: Buf, r: PutResponse): void {
    hdrTo(b, r.header);
    if (r.prevKv) kvTo(b, "Prev", r.prevKv);
  }
  private one(f: (b: Buf) => void): void {
    const b = new Buf();
    f(b);
    b.flush();
  }

  override del(r: DeleteRangeResponse): void {
    this.one((b) => this.delTo(b, r));
  }
  override get(r: RangeResponse): void {
    this.one((b) => this.getTo(b, r));
  }
  override put(r: PutResponse): void {
    this.one((b) => this.putTo(b, r));
  }
  override txn(r: TxnResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      b.line(`"Succeeded" : ${r.succeeded}`);
      for (const op of r.responses) {
        const v = op.response;
        if (v?.$case === "responseDeleteRange") this.delTo(b, v.value);
        else if (v?.$case === "responsePut") this.putTo(b, v.value);
        else if (v?.$case === "responseRange") this.getTo(b, v.value);
        else b.line(`"Unknown" : ${goQuote(String(v?.$case ?? "<nil>"))}`);
      }
    });
  }
  override watch(r: WatchResp): void {
    this.one((b) => {
      hdrTo(b, r.header);
      for (const e of r.events) {
        b.line(`"Type" : ${eventTypeName(e.type)}`);
        if (e.prevKv) kvTo(b, "Prev", e.prevKv);
        kvTo(b, "", e.kv);
      }
    });
  }
  override grant(r: LeaseGrantResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      b.line(`"ID" : ${r.ID}`).line(`"TTL" : ${r.TTL}`);
    });
  }
  override revoke(_id: bigint, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override keepAlive(r: LeaseKeepAliveResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      b.line(`"ID" : ${r.ID}`).line(`"TTL" : ${r.TTL}`);
    });
  }
  override timeToLive(r: LeaseTimeToLiveResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      b.line(`"ID" : ${r.ID}`).line(`"TTL" : ${r.TTL}`).line(`"GrantedTTL" : ${r.grantedTTL}`);
      for (const k of r.keys) b.line(`"Key" : ${goQuote(k)}`);
    });
  }
  override leases(r: LeaseLeasesResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      for (const l of r.leases) b.line(`"ID" : ${l.ID}`);
    });
  }
  override memberList(r: MemberListResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      for (const m of r.members) {
        b.line(`"ID" : ${m.ID}`);
        b.line(`"Name" : ${goQuote(m.name)}`);
        for (const u of m.peerURLs) b.line(`"PeerURL" : ${goQuote(u)}`);
        for (const u of m.clientURLs) b.line(`"ClientURL" : ${goQuote(u)}`);
        b.line(`"IsLearner" : ${m.isLearner}`);
        b.line();
      }
    });
  }
  override endpointHealth(hs: EpHealth[]): void {
    this.one((b) => {
      for (const h of hs) {
        b.line(`"Endpoint" : ${goQuote(h.ep)}`);
        b.line(`"Health" : ${h.health}`);
        b.line(`"Took" : ${h.took}`);
        b.line(`"Error" : ${h.error}`);
        b.line();
      }
    });
  }
  override endpointStatus(ss: EpStatus[]): void {
    this.one((b) => {
      for (const { ep, resp } of ss) {
        hdrTo(b, resp.header);
        b.line(`"Version" : ${goQuote(resp.version)}`);
        b.line(`"DBSize" : ${resp.dbSize}`);
        b.line(`"Leader" : ${resp.leader}`);
        b.line(`"IsLearner" : ${resp.isLearner}`);
        b.line(`"RaftIndex" : ${resp.raftIndex}`);
        b.line(`"RaftTerm" : ${resp.raftTerm}`);
        b.line(`"RaftAppliedIndex" : ${resp.raftAppliedIndex}`);
        b.line(`"Errors" : ${goStringSlice(resp.errors)}`);
        b.line(`"Endpoint" : ${goQuote(ep)}`);
        b.line();
      }
    });
  }
  override endpointHashKV(hs: EpHashKV[]): void {
    this.one((b) => {
      for (const { ep, resp } of hs) {
        hdrTo(b, resp.header);
        b.line(`"Endpoint" : ${goQuote(ep)}`);
        b.line(`"Hash" : ${resp.hash}`);
        b.line();
      }
    });
  }
  override alarm(r: AlarmResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      for (const a of r.alarms) {
        b.line(`"MemberID" : ${a.memberID}`);
        b.line(`"AlarmType" : ${alarmName(a.alarm)}`);
        b.line();
      }
    });
  }
  override roleAdd(_role: string, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override roleGet(_role: string, r: AuthRoleGetResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      for (const p of r.perm) {
        b.line(`"PermType" :  ${PERM_NAMES[p.permType] ?? String(p.permType)}`);
        b.line(`"Key" : ${goQuote(p.key)}`);
        b.line(`"RangeEnd" : ${goQuote(p.rangeEnd)}`);
      }
    });
  }
  override roleDelete(_role: string, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override roleList(r: AuthRoleListResponse): void {
    this.one((b) => {
      hdrTo(b, r.header);
      b.line(`"Roles" :${r.roles.map((x) => ` ${goQuote(x)}`).join("")}`);
    });
  }
  override roleGrantPermission(_role: string, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override roleRevokePermission(
    _r: string,
    _k: string,
    _e: string,
    r: { header: ResponseHeader | undefined },
  ): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override userAdd(_user: string, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override userChangePassword(r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override userGrantRole(_u: string, _r: string, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override userRevokeRole(_u: string, _r: string, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
  override userDelete(_user: string, r: { header: ResponseHeader | undefined }): void {
    this.one((b) => hdrTo(b, r.header));
  }
}
