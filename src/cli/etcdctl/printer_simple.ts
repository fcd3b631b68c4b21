// `-w simple` (the default): etcdctl's human-readable lines. Keys and values are written as raw bytes
// (or `\xNN` escapes with --hex).

import { Permission_Type } from "../../api/gen/authpb/auth.js";
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
  TxnResponse,
} from "../../api/gen/etcdserverpb/rpc.js";
import { AlarmType } from "../../api/gen/etcdserverpb/rpc.js";
import type { KeyValue as MvccKeyValue } from "../../api/gen/mvccpb/kv.js";
import { Event_EventType } from "../../api/gen/mvccpb/kv.js";
import { hex, hex16, hex016 } from "./goformat.js";
import { prefixRangeEnd } from "./keys.js";
import { Buf, errln, outln } from "./out.js";
import {
  type EpHashKV,
  type EpHealth,
  type EpStatus,
  endpointHashKVTable,
  endpointStatusTable,
  memberListTable,
  Unsupported,
  type WatchResp,
} from "./printer.js";

/** `\x66\x6f\x6f`: etcdctl's --hex rendering of bytes. */
export function hexEscaped(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += `\\x${c.toString(16).padStart(2, "0")}`;
  return s;
}

/** printKV: the key (unless value-only) and the value, each on its own line. */
export function printKV(b: Buf, isHex: boolean, valueOnly: boolean, kv: MvccKeyValue | undefined): void {
  const key = kv?.key ?? new Uint8Array();
  const value = kv?.value ?? new Uint8Array();
  if (!valueOnly) b.line(isHex ? hexEscaped(key) : key);
  b.line(isHex ? hexEscaped(value) : value);
}

export function eventTypeName(t: Event_EventType): string {
  return t === Event_EventType.DELETE ? "DELETE" : t === Event_EventType.PUT ? "PUT" : String(t);
}

export function alarmName(a: AlarmType): string {
  return AlarmType[a] ?? String(a);
}

export class SimplePrinter extends Unsupported {
  valueOnly = false;

  constructor(readonly isHex: boolean) {
    super("simple");
  }

  private delTo(b: Buf, r: DeleteRangeResponse): void {
    b.line(String(r.deleted));
    for (const kv of r.prevKvs) printKV(b, this.isHex, this.valueOnly, kv);
  }
  private getTo(b: Buf, r: RangeResponse): void {
    for (const kv of r.kvs) printKV(b, this.isHex, this.valueOnly, kv);
  }
  private putTo(b: Buf, r: PutResponse): void {
    b.line("OK");
    if (r.prevKv) printKV(b, this.isHex, this.valueOnly, r.prevKv);
  }

  override del(r: DeleteRangeResponse): void {
    const b = new Buf();
    this.delTo(b, r);
    b.flush();
  }
  override get(r: RangeResponse): void {
    const b = new Buf();
    this.getTo(b, r);
    b.flush();
  }
  override put(r: PutResponse): void {
    const b = new Buf();
    this.putTo(b, r);
    b.flush();
  }
  override txn(r: TxnResponse): void {
    const b = new Buf();
    b.line(r.succeeded ? "SUCCESS" : "FAILURE");
    for (const op of r.responses) {
      b.line("");
      const v = op.response;
      if (v?.$case === "responseDeleteRange") this.delTo(b, v.value);
      else if (v?.$case === "responsePut") this.putTo(b, v.value);
      else if (v?.$case === "responseRange") this.getTo(b, v.value);
      else b.line(`unexpected response ${v?.$case ?? "<nil>"}`);
    }
    b.flush();
  }
  override watch(r: WatchResp): void {
    const b = new Buf();
    for (const e of r.events) {
      b.line(eventTypeName(e.type));
      if (e.prevKv) printKV(b, this.isHex, this.valueOnly, e.prevKv);
      printKV(b, this.isHex, this.valueOnly, e.kv);
    }
    b.flush();
  }

  override grant(r: LeaseGrantResponse): void {
    outln(`lease ${hex016(r.ID)} granted with TTL(${r.TTL}s)`);
  }
  override revoke(id: bigint): void {
    outln(`lease ${hex016(id)} revoked`);
  }
  override keepAlive(r: LeaseKeepAliveResponse): void {
    outln(`lease ${hex016(r.ID)} keepalived with TTL(${r.TTL})`);
  }
  override timeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void {
    if (r.grantedTTL === 0n && r.TTL === -1n) {
      outln(`lease ${hex016(r.ID)} already expired`);
      return;
    }
    const b = new Buf().add(`lease ${hex016(r.ID)} granted with TTL(${r.grantedTTL}s), remaining(${r.TTL}s)`);
    if (keys) {
      b.add(", attached keys([");
      r.keys.forEach((k, i) => {
        b.add(i > 0 ? " " : "", k);
      });
      b.add("])");
    }
    b.line().flush();
  }
  override leases(r: LeaseLeasesResponse): void {
    const b = new Buf().line(`found ${r.leases.length} leases`);
    for (const l of r.leases) b.line(hex016(l.ID));
    b.flush();
  }

  override alarm(r: AlarmResponse): void {
    const b = new Buf();
    for (const a of r.alarms) {
      // %+v of *pb.AlarmMember is its compact proto text (zero fields left out, a space after each).
      let s = "";
      if (a.memberID !== 0n) s += `memberID:${a.memberID} `;
      if (a.alarm !== AlarmType.NONE) s += `alarm:${alarmName(a.alarm)} `;
      b.line(s);
    }
    b.flush();
  }

  override memberAdd(r: MemberAddResponse): void {
    outln(`Member ${hex16(r.member?.ID ?? 0n)} added to cluster ${hex16(r.header?.clusterId ?? 0n)}`);
  }
  override memberRemove(id: bigint, r: { header?: { clusterId: bigint } | undefined }): void {
    outln(`Member ${hex16(id)} removed from cluster ${hex16(r.header?.clusterId ?? 0n)}`);
  }
  override memberUpdate(id: bigint, r: { header?: { clusterId: bigint } | undefined }): void {
    outln(`Member ${hex16(id)} updated in cluster ${hex16(r.header?.clusterId ?? 0n)}`);
  }
  override memberPromote(id: bigint, r: { header?: { clusterId: bigint } | undefined }): void {
    outln(`Member ${hex16(id)} promoted in cluster ${hex16(r.header?.clusterId ?? 0n)}`);
  }
  override memberList(r: MemberListResponse): void {
    const b = new Buf();
    for (const row of memberListTable(r).rows) b.line(row.join(", "));
    b.flush();
  }

  override endpointHealth(hs: EpHealth[]): void {
    for (const h of hs) {
      if (h.error === "") outln(`${h.ep} is healthy: successfully committed proposal: took = ${h.took}`);
      else errln(`${h.ep} is unhealthy: failed to commit proposal: ${h.error}`);
    }
  }
  override endpointStatus(ss: EpStatus[]): void {
    const b = new Buf();
    for (const row of endpointStatusTable(ss).rows) b.line(row.join(", "));
    b.flush();
  }
  override endpointHashKV(hs: EpHashKV[]): void {
    const b = new Buf();
    for (const row of endpointHashKVTable(hs).rows) b.line(row.join(", "));
    b.flush();
  }
  override moveLeader(leader: bigint, target: bigint): void {
    outln(`Leadership transferred from ${hex(leader)} to ${hex(target)}`);
  }

  override roleAdd(role: string): void {
    outln(`Role ${role} created`);
  }
  override roleGet(role: string, r: AuthRoleGetResponse): void {
    const b = new Buf().line(`Role ${role}`);
    const printRange = (p: KeyValuePerm) => {
      const end = Buffer.from(p.rangeEnd);
      if (!(end.length === 1 && end[0] === 0)) b.add("\t[", p.key, ", ", p.rangeEnd, ")");
      else b.add("\t[", p.key, ", <open ended>");
      if (Buffer.from(prefixRangeEnd(p.key)).equals(end)) b.add(" (prefix ", p.key, ")");
      b.line();
    };
    const section = (title: string, types: Permission_Type[]) => {
      b.line(title);
      for (const p of r.perm) {
        if (!types.includes(p.permType)) continue;
        if (p.rangeEnd.length === 0) b.line("\t", p.key);
        else printRange(p);
      }
    };
    section("KV Read:", [Permission_Type.READ, Permission_Type.READWRITE]);
    section("KV Write:", [Permission_Type.WRITE, Permission_Type.READWRITE]);
    b.flush();
  }
  override roleList(r: AuthRoleListResponse): void {
    const b = new Buf();
    for (const role of r.roles) b.line(role);
    b.flush();
  }
  override roleDelete(role: string): void {
    outln(`Role ${role} deleted`);
  }
  override roleGrantPermission(role: string): void {
    outln(`Role ${role} updated`);
  }
  override roleRevokePermission(role: string, key: string, end: string): void {
    if (end.length === 0) outln(`Permission of key ${key} is revoked from role ${role}`);
    else if (end !== "\x00") outln(`Permission of range [${key}, ${end}) is revoked from role ${role}`);
    else outln(`Permission of range [${key}, <open ended> is revoked from role ${role}`);
  }

  override userAdd(user: string): void {
    outln(`User ${user} created`);
  }
  override userGet(user: string, r: AuthUserGetResponse): void {
    outln(`User: ${user}\nRoles:${r.roles.map((x) => ` ${x}`).join("")}`);
  }
  override userChangePassword(): void {
    outln("Password updated");
  }
  override userGrantRole(user: string, role: string): void {
    outln(`Role ${role} is granted to user ${user}`);
  }
  override userRevokeRole(user: string, role: string): void {
    outln(`Role ${role} is revoked from user ${user}`);
  }
  override userDelete(user: string): void {
    outln(`User ${user} deleted`);
  }
  override userList(r: AuthUserListResponse): void {
    const b = new Buf();
    for (const u of r.users) b.line(u);
    b.flush();
  }

  override authStatus(r: AuthStatusResponse): void {
    outln(`Authentication Status: ${r.enabled}\nAuthRevision: ${r.authRevision}`);
  }
}

type KeyValuePerm = { key: Uint8Array; rangeEnd: Uint8Array };
