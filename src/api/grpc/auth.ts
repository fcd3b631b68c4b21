// etcdserverpb.Auth over gRPC (and, through AuthRpc, the gateway's /v3/auth/*), and the credentials of
// every gRPC call: each handler of every service runs inside callCredentials.run() with the call's
// token (metadata "token", or "authorization" as grpc-gateway forwards it) and, with --client-cert-auth,
// the common name of its verified client certificate.

import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { type CallCredentials, callCredentials, tokenFromMetadata } from "../../auth/call_context.js";
import type { MemberAuth } from "../../auth/member.js";
import { grpcCallCommonName } from "../../pkg/tls/identity.js";
import type * as pb from "../gen/etcdserverpb/rpc.js";
import type { AuthServer } from "../gen/etcdserverpb/rpc.js";
import type { ApiLogger } from "../types.js";
import { unimplemented, type V3Rpc } from "../v3rpc.js";
import { unary } from "./common.js";

/**
 * The user name a call's verified client certificate stands for: its common name (undefined without a
 * verified certificate). MemberAuth counts it only with --client-cert-auth, and only when the call
 * carries no token (a token wins, as in etcd).
 */
export function userFromCert(call: Parameters<typeof grpcCallCommonName>[0]): string | undefined {
  return grpcCallCommonName(call);
}

/** The credentials a gRPC call carries. */
export function grpcCallCredentials(
  call: { metadata?: { get(key: string): unknown[] } } & Parameters<typeof grpcCallCommonName>[0],
): CallCredentials {
  const md = call.metadata;
  const token = md === undefined ? undefined : tokenFromMetadata((k) => md.get(k));
  const cn = userFromCert(call);
  return { ...(token !== undefined ? { token } : {}), ...(cn !== undefined ? { certCommonName: cn } : {}) };
}

/** `impl` with every handler run inside its call's credentials. */
export function withCallCredentials<T extends object>(impl: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, h] of Object.entries(impl as UntypedServiceImplementation)) {
    const handler = h as (call: Parameters<typeof grpcCallCredentials>[0], ...rest: unknown[]) => unknown;
    out[name] = (call: Parameters<typeof grpcCallCredentials>[0], ...rest: unknown[]) =>
      callCredentials.run(grpcCallCredentials(call), () => handler(call, ...rest));
  }
  return out as T;
}

/**
 * The Auth service's methods (etcd's AuthServer and its EtcdServer side). Root-only requests and the
 * rules for reading users and roles are checked by every member as it applies them.
 */
export class AuthRpc {
  constructor(private readonly rpc: V3Rpc) {}

  private auth(method: string): MemberAuth {
    const a = this.rpc.server.auth;
    if (a === undefined) throw unimplemented(method);
    return a;
  }

  /** Proposes `req` as the caller and fills the response header. */
  private async call<T extends { header: pb.ResponseHeader | undefined }>(
    method: string,
    req: Parameters<MemberAuth["propose"]>[0],
  ): Promise<T> {
    const auth = this.auth(method);
    const ai = await this.rpc.caller();
    return this.rpc.filled(await auth.propose<T>(req, ai));
  }

  authEnable(r: pb.AuthEnableRequest): Promise<pb.AuthEnableResponse> {
    return this.call("AuthEnable", { authEnable: r });
  }

  authDisable(r: pb.AuthDisableRequest): Promise<pb.AuthDisableResponse> {
    return this.call("AuthDisable", { authDisable: r });
  }

  authStatus(r: pb.AuthStatusRequest): Promise<pb.AuthStatusResponse> {
    return this.call("AuthStatus", { authStatus: r });
  }

  /** No credentials are needed (nor checked) to authenticate. */
  async authenticate(r: pb.AuthenticateRequest): Promise<pb.AuthenticateResponse> {
    return this.rpc.filled(await this.auth("Authenticate").authenticate(r));
  }

  async userAdd(r: pb.AuthUserAddRequest): Promise<pb.AuthUserAddResponse> {
    const auth = this.auth("UserAdd");
    return this.rpc.filled(await auth.userAdd(r, await this.rpc.caller()));
  }

  userGet(r: pb.AuthUserGetRequest): Promise<pb.AuthUserGetResponse> {
    return this.call("UserGet", { authUserGet: r });
  }

  userList(r: pb.AuthUserListRequest): Promise<pb.AuthUserListResponse> {
    return this.call("UserList", { authUserList: r });
  }

  userDelete(r: pb.AuthUserDeleteRequest): Promise<pb.AuthUserDeleteResponse> {
    return this.call("UserDelete", { authUserDelete: r });
  }

  async userChangePassword(r: pb.AuthUserChangePasswordRequest): Promise<pb.AuthUserChangePasswordResponse> {
    const auth = this.auth("UserChangePassword");
    return this.rpc.filled(await auth.userChangePassword(r, await this.rpc.caller()));
  }

  userGrantRole(r: pb.AuthUserGrantRoleRequest): Promise<pb.AuthUserGrantRoleResponse> {
    return this.call("UserGrantRole", { authUserGrantRole: r });
  }

  userRevokeRole(r: pb.AuthUserRevokeRoleRequest): Promise<pb.AuthUserRevokeRoleResponse> {
    return this.call("UserRevokeRole", { authUserRevokeRole: r });
  }

  roleAdd(r: pb.AuthRoleAddRequest): Promise<pb.AuthRoleAddResponse> {
    return this.call("RoleAdd", { authRoleAdd: r });
  }

  roleGet(r: pb.AuthRoleGetRequest): Promise<pb.AuthRoleGetResponse> {
    return this.call("RoleGet", { authRoleGet: r });
  }

  roleList(r: pb.AuthRoleListRequest): Promise<pb.AuthRoleListResponse> {
    return this.call("RoleList", { authRoleList: r });
  }

  roleDelete(r: pb.AuthRoleDeleteRequest): Promise<pb.AuthRoleDeleteResponse> {
    return this.call("RoleDelete", { authRoleDelete: r });
  }

  roleGrantPermission(r: pb.AuthRoleGrantPermissionRequest): Promise<pb.AuthRoleGrantPermissionResponse> {
    return this.call("RoleGrantPermission", { authRoleGrantPermission: r });
  }

  roleRevokePermission(r: pb.AuthRoleRevokePermissionRequest): Promise<pb.AuthRoleRevokePermissionResponse> {
    return this.call("RoleRevokePermission", { authRoleRevokePermission: r });
  }
}

export function authService(rpc: V3Rpc, logger: ApiLogger): AuthServer {
  const a = new AuthRpc(rpc);
  return {
    authEnable: unary(rpc, logger, "AuthEnable", (r) => a.authEnable(r)),
    authDisable: unary(rpc, logger, "AuthDisable", (r) => a.authDisable(r)),
    authStatus: unary(rpc, logger, "AuthStatus", (r) => a.authStatus(r)),
    authenticate: unary(rpc, logger, "Authenticate", (r) => a.authenticate(r)),
    userAdd: unary(rpc, logger, "UserAdd", (r) => a.userAdd(r)),
    userGet: unary(rpc, logger, "UserGet", (r) => a.userGet(r)),
    userList: unary(rpc, logger, "UserList", (r) => a.userList(r)),
    userDelete: unary(rpc, logger, "UserDelete", (r) => a.userDelete(r)),
    userChangePassword: unary(rpc, logger, "UserChangePassword", (r) => a.userChangePassword(r)),
    userGrantRole: unary(rpc, logger, "UserGrantRole", (r) => a.userGrantRole(r)),
    userRevokeRole: unary(rpc, logger, "UserRevokeRole", (r) => a.userRevokeRole(r)),
    roleAdd: unary(rpc, logger, "RoleAdd", (r) => a.roleAdd(r)),
    roleGet: unary(rpc, logger, "RoleGet", (r) => a.roleGet(r)),
    roleList: unary(rpc, logger, "RoleList", (r) => a.roleList(r)),
    roleDelete: unary(rpc, logger, "RoleDelete", (r) => a.roleDelete(r)),
    roleGrantPermission: unary(rpc, logger, "RoleGrantPermission", (r) => a.roleGrantPermission(r)),
    roleRevokePermission: unary(rpc, logger, "RoleRevokePermission", (r) => a.roleRevokePermission(r)),
  };
}
