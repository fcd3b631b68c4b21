// The auth API (users, roles, permissions, enable/disable). Authentication itself is automatic: with
// `auth: { username, password }` in the client options, the client calls Authenticate before its first
// request, sends the token as the `token` metadata of every call and stream, and on "etcdserver: invalid
// auth token" (expired simple token, restarted member) authenticates again and repeats the request once
// (see connection.ts). Management calls are writes; the get/list calls are reads.

import { type Permission, Permission_Type } from "../api/gen/authpb/auth.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type { ResponseHeader as PbHeader } from "../api/gen/etcdserverpb/rpc.js";
import { type Bytes, toBuffer } from "./bytes.js";
import type { CallOptions, Connection, UnaryInvoke } from "./connection.js";
import { type RangeSpec, rangeOf } from "./requests.js";
import type { RequestKind } from "./retry.js";
import { type ResponseHeader, toHeader } from "./types.js";

export type PermissionType = "read" | "write" | "readwrite";

export interface RolePermission {
  type: PermissionType;
  key: Buffer;
  /** Empty for a single key; "\0" for "every key >= key". */
  rangeEnd: Buffer;
}

const PERM_TYPE: Record<PermissionType, Permission_Type> = {
  read: Permission_Type.READ,
  write: Permission_Type.WRITE,
  readwrite: Permission_Type.READWRITE,
};
const PERM_NAME: Record<number, PermissionType> = {
  [Permission_Type.READ]: "read",
  [Permission_Type.WRITE]: "write",
  [Permission_Type.READWRITE]: "readwrite",
};

type Hdr = { header: ResponseHeader };

export class Auth {
  constructor(private readonly conn: Connection) {}

  /**
   * Authenticates explicitly and returns the token (the client normally does this itself from its
   * `auth` option; this call does not change the client's token).
   */
  async authenticate(username: string, password: string, opts: CallOptions = {}): Promise<string> {
    const r = await this.conn.unary<pb.AuthenticateResponse>(
      "read",
      (ep, md, o, cb) => ep.auth.authenticate({ name: username, password }, md, o, cb),
      { ...opts, noAuth: true },
    );
    return r.token;
  }

  async authEnable(opts: CallOptions = {}): Promise<Hdr> {
    return this.call("write", (ep, md, o, cb) => ep.auth.authEnable({}, md, o, cb), opts);
  }

  async authDisable(opts: CallOptions = {}): Promise<Hdr> {
    return this.call("write", (ep, md, o, cb) => ep.auth.authDisable({}, md, o, cb), opts);
  }

  async authStatus(opts: CallOptions = {}): Promise<Hdr & { enabled: boolean; authRevision: bigint }> {
    const r = await this.conn.unary<pb.AuthStatusResponse>(
      "read",
      (ep, md, o, cb) => ep.auth.authStatus({}, md, o, cb),
      opts,
    );
    return { header: toHeader(r.header), enabled: r.enabled, authRevision: r.authRevision };
  }

  /** Adds a user; `noPassword` users can only authenticate by TLS common name. */
  async userAdd(
    name: string,
    password: string,
    opts: CallOptions & { noPassword?: boolean } = {},
  ): Promise<Hdr> {
    const req = { name, password, options: { noPassword: opts.noPassword ?? false }, hashedPassword: "" };
    return this.call("write", (ep, md, o, cb) => ep.auth.userAdd(req, md, o, cb), opts);
  }

  async userGet(name: string, opts: CallOptions = {}): Promise<Hdr & { roles: string[] }> {
    const r = await this.conn.unary<pb.AuthUserGetResponse>(
      "read",
      (ep, md, o, cb) => ep.auth.userGet({ name }, md, o, cb),
      opts,
    );
    return { header: toHeader(r.header), roles: [...r.roles] };
  }

  async userList(opts: CallOptions = {}): Promise<string[]> {
    const r = await this.conn.unary<pb.AuthUserListResponse>(
      "read",
      (ep, md, o, cb) => ep.auth.userList({}, md, o, cb),
      opts,
    );
    return [...r.users];
  }

  async userDelete(name: string, opts: CallOptions = {}): Promise<Hdr> {
    return this.call("write", (ep, md, o, cb) => ep.auth.userDelete({ name }, md, o, cb), opts);
  }

  async userChangePassword(name: string, password: string, opts: CallOptions = {}): Promise<Hdr> {
    const req = { name, password, hashedPassword: "" };
    return this.call("write", (ep, md, o, cb) => ep.auth.userChangePassword(req, md, o, cb), opts);
  }

  async userGrantRole(user: string, role: string, opts: CallOptions = {}): Promise<Hdr> {
    return this.call("write", (ep, md, o, cb) => ep.auth.userGrantRole({ user, role }, md, o, cb), opts);
  }

  async userRevokeRole(name: string, role: string, opts: CallOptions = {}): Promise<Hdr> {
    return this.call("write", (ep, md, o, cb) => ep.auth.userRevokeRole({ name, role }, md, o, cb), opts);
  }

  async roleAdd(name: string, opts: CallOptions = {}): Promise<Hdr> {
    return this.call("write", (ep, md, o, cb) => ep.auth.roleAdd({ name }, md, o, cb), opts);
  }

  async roleGet(role: string, opts: CallOptions = {}): Promise<Hdr & { permissions: RolePermission[] }> {
    const r = await this.conn.unary<pb.AuthRoleGetResponse>(
      "read",
      (ep, md, o, cb) => ep.auth.roleGet({ role }, md, o, cb),
      opts,
    );
    return {
      header: toHeader(r.header),
      permissions: r.perm.map((p) => ({
        type: PERM_NAME[p.permType] ?? "read",
        key: toBuffer(p.key),
        rangeEnd: toBuffer(p.rangeEnd),
      })),
    };
  }

  async roleList(opts: CallOptions = {}): Promise<string[]> {
    const r = await this.conn.unary<pb.AuthRoleListResponse>(
      "read",
      (ep, md, o, cb) => ep.auth.roleList({}, md, o, cb),
      opts,
    );
    return [...r.roles];
  }

  async roleDelete(role: string, opts: CallOptions = {}): Promise<Hdr> {
    return this.call("write", (ep, md, o, cb) => ep.auth.roleDelete({ role }, md, o, cb), opts);
  }

  /** Grants `type` access to `key` (or a range: prefix, fromKey, rangeEnd) to the role. */
  async roleGrantPermission(
    role: string,
    type: PermissionType,
    key: Bytes,
    opts: CallOptions & RangeSpec = {},
  ): Promise<Hdr> {
    const r = rangeOf(key, opts);
    const perm: Permission = { permType: PERM_TYPE[type], key: r.key, rangeEnd: r.rangeEnd };
    return this.call(
      "write",
      (ep, md, o, cb) => ep.auth.roleGrantPermission({ name: role, perm }, md, o, cb),
      opts,
    );
  }

  async roleRevokePermission(role: string, key: Bytes, opts: CallOptions & RangeSpec = {}): Promise<Hdr> {
    const r = rangeOf(key, opts);
    const req = { role, key: r.key, rangeEnd: r.rangeEnd };
    return this.call("write", (ep, md, o, cb) => ep.auth.roleRevokePermission(req, md, o, cb), opts);
  }

  private async call<R extends { header: PbHeader | undefined }>(
    kind: RequestKind,
    invoke: UnaryInvoke<R>,
    opts: CallOptions,
  ): Promise<Hdr> {
    const r = await this.conn.unary(kind, invoke, opts);
    return { header: toHeader(r.header) };
  }
}
