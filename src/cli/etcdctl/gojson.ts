// encoding/json of etcd 3.5's Go response types, as `-w json` prints them: gogoproto structs with
// `json:"<proto name>,omitempty"` tags in declaration order (zero values left out, int64/uint64 as bare
// numbers, bytes as base64, enums as numbers, oneofs as a `Response`/`Request` wrapper object), and
// clientv3's own wrapper types (lease responses with the header's fields promoted, WatchResponse with Go
// field names). Fields etcd 3.6 added (hash_revision, storageVersion, ...) are not printed.

import type { Permission } from "../../api/gen/authpb/auth.js";
import type {
  AlarmResponse,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthStatusResponse,
  AuthUserGetResponse,
  AuthUserListResponse,
  DeleteRangeResponse,
  HashKVResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveResponse,
  Member,
  MemberAddResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  StatusResponse,
  TxnResponse,
} from "../../api/gen/etcdserverpb/rpc.js";
import type { Event, KeyValue } from "../../api/gen/mvccpb/kv.js";
import { goJsonString } from "./goformat.js";

/** An object under construction; `omit` fields are left out when zero, as `omitempty` does. */
export class J {
  private readonly parts: string[] = [];

  private put(k: string, v: string): this {
    this.parts.push(`${goJsonString(k)}:${v}`);
    return this;
  }
  num(k: string, v: bigint | number, omit = true): this {
    return omit && (v === 0n || v === 0) ? this : this.put(k, String(v));
  }
  str(k: string, v: string, omit = true): this {
    return omit && v === "" ? this : this.put(k, goJsonString(v));
  }
  bool(k: string, v: boolean, omit = true): this {
    return omit && !v ? this : this.put(k, String(v));
  }
  bytes(k: string, v: Uint8Array, omit = true): this {
    return omit && v.length === 0 ? this : this.put(k, goJsonString(Buffer.from(v).toString("base64")));
  }
  /** A nested object (or array) already encoded; undefined is left out, or null when not `omit`. */
  raw(k: string, v: string | undefined, omit = true): this {
    if (v === undefined) return omit ? this : this.put(k, "null");
    return this.put(k, v);
  }
  /** An array of encoded items; empty is left out (omit), else `[]` — or null when `nil` is set. */
  arr(k: string, items: string[], omit = true, nil = false): this {
    if (items.length === 0 && omit) return this;
    if (items.length === 0 && nil) return this.put(k, "null");
    return this.put(k, `[${items.join(",")}]`);
  }
  strs(k: string, v: string[], omit = true): this {
    return this.arr(k, v.map(goJsonString), omit);
  }
  /** Merges another object's fields (an embedded struct's promoted fields). */
  embed(o: J | undefined): this {
    if (o) this.parts.push(...o.parts);
    return this;
  }
  toString(): string {
    return `{${this.parts.join(",")}}`;
  }
}

export function headerJ(h: ResponseHeader): J {
  return new J()
    .num("cluster_id", h.clusterId)
    .num("member_id", h.memberId)
    .num("revision", h.revision)
    .num("raft_term", h.raftTerm);
}

function hdr(h: ResponseHeader | undefined): string | undefined {
  return h === undefined ? undefined : headerJ(h).toString();
}

export function kvJ(kv: KeyValue | undefined): string | undefined {
  if (kv === undefined) return undefined;
  return new J()
    .bytes("key", kv.key)
    .num("create_revision", kv.createRevision)
    .num("mod_revision", kv.modRevision)
    .num("version", kv.version)
    .bytes("value", kv.value)
    .num("lease", kv.lease)
    .toString();
}

export function eventJ(e: Event): string {
  return new J().num("type", e.type).raw("kv", kvJ(e.kv)).raw("prev_kv", kvJ(e.prevKv)).toString();
}

export function rangeJ(r: RangeResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .arr(
      "kvs",
      r.kvs.map((kv) => kvJ(kv)!),
    )
    .bool("more", r.more)
    .num("count", r.count)
    .toString();
}

export function putJ(r: PutResponse): string {
  return new J().raw("header", hdr(r.header)).raw("prev_kv", kvJ(r.prevKv)).toString();
}

export function delJ(r: DeleteRangeResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .num("deleted", r.deleted)
    .arr(
      "prev_kvs",
      r.prevKvs.map((kv) => kvJ(kv)!),
    )
    .toString();
}

function responseOpJ(op: ResponseOp): string {
  const r = op.response;
  let inner: string | undefined;
  if (r?.$case === "responseRange") inner = new J().raw("response_range", rangeJ(r.value)).toString();
  else if (r?.$case === "responsePut") inner = new J().raw("response_put", putJ(r.value)).toString();
  else if (r?.$case === "responseDeleteRange")
    inner = new J().raw("response_delete_range", delJ(r.value)).toString();
  else if (r?.$case === "responseTxn") inner = new J().raw("response_txn", txnJ(r.value)).toString();
  return new J().raw("Response", inner, false).toString();
}

export function txnJ(r: TxnResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .bool("succeeded", r.succeeded)
    .arr("responses", r.responses.map(responseOpJ))
    .toString();
}

/** A response with only a header (compaction, revoke, member/role/user changes, move-leader, ...). */
export function headerOnlyJ(r: { header: ResponseHeader | undefined }): string {
  return new J().raw("header", hdr(r.header)).toString();
}

/** clientv3.LeaseGrantResponse: the header's fields promoted, then ID, TTL, Error. */
export function leaseGrantJ(r: LeaseGrantResponse): string {
  return new J()
    .embed(r.header && headerJ(r.header))
    .num("ID", r.ID, false)
    .num("TTL", r.TTL, false)
    .str("Error", r.error, false)
    .toString();
}

export function keepAliveJ(r: LeaseKeepAliveResponse): string {
  return new J()
    .embed(r.header && headerJ(r.header))
    .num("ID", r.ID, false)
    .num("TTL", r.TTL, false)
    .toString();
}

export function timeToLiveJ(r: LeaseTimeToLiveResponse): string {
  return new J()
    .embed(r.header && headerJ(r.header))
    .num("id", r.ID, false)
    .num("ttl", r.TTL, false)
    .num("granted-ttl", r.grantedTTL, false)
    .arr(
      "keys",
      r.keys.map((k) => goJsonString(Buffer.from(k).toString("base64"))),
      false,
      true,
    )
    .toString();
}

export function leasesJ(r: LeaseLeasesResponse): string {
  return new J()
    .embed(r.header && headerJ(r.header))
    .arr(
      "leases",
      r.leases.map((l) => new J().num("id", l.ID, false).toString()),
      false,
    )
    .toString();
}

export function memberJ(m: Member): string {
  return new J()
    .num("ID", m.ID)
    .str("name", m.name)
    .strs("peerURLs", m.peerURLs)
    .strs("clientURLs", m.clientURLs)
    .bool("isLearner", m.isLearner)
    .toString();
}

export function memberAddJ(r: MemberAddResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .raw("member", r.member && memberJ(r.member))
    .arr("members", r.members.map(memberJ))
    .toString();
}

export function membersJ(r: { header: ResponseHeader | undefined; members: Member[] }): string {
  return new J().raw("header", hdr(r.header)).arr("members", r.members.map(memberJ)).toString();
}

export function alarmJ(r: AlarmResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .arr(
      "alarms",
      r.alarms.map((a) => new J().num("memberID", a.memberID).num("alarm", a.alarm).toString()),
    )
    .toString();
}

export function statusJ(r: StatusResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .str("version", r.version)
    .num("dbSize", r.dbSize)
    .num("leader", r.leader)
    .num("raftIndex", r.raftIndex)
    .num("raftTerm", r.raftTerm)
    .num("raftAppliedIndex", r.raftAppliedIndex)
    .strs("errors", r.errors)
    .num("dbSizeInUse", r.dbSizeInUse)
    .bool("isLearner", r.isLearner)
    .toString();
}

export function hashKVJ(r: HashKVResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .num("hash", r.hash)
    .num("compact_revision", r.compactRevision)
    .toString();
}

function permJ(p: Permission): string {
  return new J().num("permType", p.permType).bytes("key", p.key).bytes("range_end", p.rangeEnd).toString();
}

export function roleGetJ(r: AuthRoleGetResponse): string {
  return new J().raw("header", hdr(r.header)).arr("perm", r.perm.map(permJ)).toString();
}

export function roleListJ(r: AuthRoleListResponse): string {
  return new J().raw("header", hdr(r.header)).strs("roles", r.roles).toString();
}

export function userGetJ(r: AuthUserGetResponse): string {
  return new J().raw("header", hdr(r.header)).strs("roles", r.roles).toString();
}

export function userListJ(r: AuthUserListResponse): string {
  return new J().raw("header", hdr(r.header)).strs("users", r.users).toString();
}

export function authStatusJ(r: AuthStatusResponse): string {
  return new J()
    .raw("header", hdr(r.header))
    .bool("enabled", r.enabled)
    .num("authRevision", r.authRevision)
    .toString();
}
