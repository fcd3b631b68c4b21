// Auth when entries are applied (etcd's authApplierV3, our own code). Every member checks a request
// against the user and auth revision recorded in its entry's header, on the same replicated auth state,
// so all members accept or refuse it alike: key writes and reads of Put, DeleteRange and Txn (every key
// a txn touches, its compares too), lease revocation (the lease's keys), and root-only administration.
// Auth requests themselves are applied to the AuthStore here.

import type { InternalRaftRequest } from "../api/gen/etcdserverpb/raft_internal.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type { AuthStore } from "./store.js";
import type { AuthInfo } from "./types.js";

/** What applying auth needs from the member. */
export interface AuthApplyContext {
  store: AuthStore;
  /** The lease table: which keys a lease holds (revoking a lease deletes them). */
  lessor: { exists(id: bigint): boolean; keysOf(id: bigint): Uint8Array[] };
  /** Raft index of the entry being applied. */
  index: number;
  /** The response header at the current revision. */
  header(): pb.ResponseHeader;
}

/** The user an entry was proposed for (none: the proposal carried no credentials). */
export function authInfoOf(req: InternalRaftRequest): AuthInfo | undefined {
  const h = req.header;
  if (h === undefined || (h.username === "" && h.authRevision === 0n)) return undefined;
  return { username: h.username, revision: Number(h.authRevision) };
}

/** Requests only a root user may make (etcd's needAdminPermission). */
function needsAdmin(r: InternalRaftRequest): boolean {
  return (
    r.authEnable !== undefined ||
    r.authDisable !== undefined ||
    r.authStatus !== undefined ||
    r.authUserAdd !== undefined ||
    r.authUserDelete !== undefined ||
    r.authUserChangePassword !== undefined ||
    r.authUserGrantRole !== undefined ||
    r.authUserRevokeRole !== undefined ||
    r.authRoleAdd !== undefined ||
    r.authRoleGrantPermission !== undefined ||
    r.authRoleRevokePermission !== undefined ||
    r.authRoleDelete !== undefined ||
    r.authUserList !== undefined ||
    r.authRoleList !== undefined
  );
}

/** A lease's keys must all be writable by the user (or it is root) to revoke it or to attach to it. */
function checkLeaseKeys(ctx: AuthApplyContext, ai: AuthInfo | undefined, id: bigint): void {
  if (id === 0n || !ctx.lessor.exists(id) || ctx.store.isAdmin(ai)) return;
  for (const k of ctx.lessor.keysOf(id)) ctx.store.checkPut(ai, k);
}

function checkPut(ctx: AuthApplyContext, ai: AuthInfo | undefined, r: pb.PutRequest): void {
  ctx.store.checkPut(ai, r.key);
  // A lease already holding keys this user cannot write could not be revoked by it: do not attach more.
  checkLeaseKeys(ctx, ai, r.lease);
  if (r.prevKv) ctx.store.checkRange(ai, r.key, new Uint8Array(0));
}

function checkDeleteRange(ctx: AuthApplyContext, ai: AuthInfo | undefined, r: pb.DeleteRangeRequest): void {
  ctx.store.checkDeleteRange(ai, r.key, r.rangeEnd);
  if (r.prevKv) ctx.store.checkRange(ai, r.key, r.rangeEnd);
}

function checkOps(ctx: AuthApplyContext, ai: AuthInfo | undefined, ops: pb.RequestOp[]): void {
  for (const op of ops) {
    const r = op.request;
    switch (r?.$case) {
      case "requestRange":
        ctx.store.checkRange(ai, r.value.key, r.value.rangeEnd);
        break;
      case "requestPut":
        checkPut(ctx, ai, r.value);
        break;
      case "requestDeleteRange":
        checkDeleteRange(ctx, ai, r.value);
        break;
      case "requestTxn":
        checkTxn(ctx, ai, r.value);
        break;
    }
  }
}

/** Every key a txn may touch, whichever branch runs: compares need read, operations their own access. */
export function checkTxn(ctx: AuthApplyContext, ai: AuthInfo | undefined, r: pb.TxnRequest): void {
  for (const c of r.compare) ctx.store.checkRange(ai, c.key, c.rangeEnd);
  checkOps(ctx, ai, r.success);
  checkOps(ctx, ai, r.failure);
}

/**
 * Throws the catalog's error if the entry's user may not make the request (nothing is checked while auth
 * is disabled). Requests without auth rules (compaction, alarms, leases granted, checkpoints, member
 * attributes) pass.
 */
export function checkApplyPermission(ctx: AuthApplyContext, req: InternalRaftRequest): void {
  if (!ctx.store.isEnabled()) return;
  const ai = authInfoOf(req);
  if (needsAdmin(req)) ctx.store.checkAdmin(ai);
  if (req.put !== undefined) checkPut(ctx, ai, req.put);
  else if (req.deleteRange !== undefined) checkDeleteRange(ctx, ai, req.deleteRange);
  else if (req.txn !== undefined) checkTxn(ctx, ai, req.txn);
  else if (req.range !== undefined) ctx.store.checkRange(ai, req.range.key, req.range.rangeEnd);
  else if (req.leaseRevoke !== undefined) checkLeaseKeys(ctx, ai, req.leaseRevoke.ID);
  else if (req.authUserGet !== undefined) {
    // A user may read itself; others' records are root's.
    if (!ctx.store.isAdmin(ai) && req.authUserGet.name !== ai?.username) ctx.store.checkAdmin(ai);
  } else if (req.authRoleGet !== undefined) {
    // A user may read the roles it has.
    if (!ctx.store.isAdmin(ai) && !ctx.store.hasRole(ai?.username ?? "", req.authRoleGet.role)) {
      ctx.store.checkAdmin(ai);
    }
  }
}

/** Not an auth request: applyAuthRequest returns this. */
export const NOT_AUTH = Symbol("not an auth request");

/** Applies an auth request to the store; NOT_AUTH for any other request. Throws the catalog's errors. */
export function applyAuthRequest(ctx: AuthApplyContext, req: InternalRaftRequest): unknown {
  const s = ctx.store;
  const header = () => ctx.header();
  if (req.authenticate !== undefined) {
    const a = req.authenticate;
    const token = s.authenticate(a.name, {
      index: ctx.index,
      prefix: a.simpleToken,
      issuedMs: Number(a.issuedUnixMs),
    });
    return { header: header(), token } satisfies pb.AuthenticateResponse;
  }
  if (req.authEnable !== undefined) {
    s.authEnable();
    return { header: header() } satisfies pb.AuthEnableResponse;
  }
  if (req.authDisable !== undefined) {
    s.authDisable();
    return { header: header() } satisfies pb.AuthDisableResponse;
  }
  if (req.authStatus !== undefined) {
    return {
      header: header(),
      enabled: s.isEnabled(),
      authRevision: BigInt(s.revision()),
    } satisfies pb.AuthStatusResponse;
  }
  if (req.authUserAdd !== undefined) {
    s.userAdd(req.authUserAdd);
    return { header: header() } satisfies pb.AuthUserAddResponse;
  }
  if (req.authUserDelete !== undefined) {
    s.userDelete(req.authUserDelete);
    return { header: header() } satisfies pb.AuthUserDeleteResponse;
  }
  if (req.authUserChangePassword !== undefined) {
    s.userChangePassword(req.authUserChangePassword);
    return { header: header() } satisfies pb.AuthUserChangePasswordResponse;
  }
  if (req.authUserGrantRole !== undefined) {
    s.userGrantRole(req.authUserGrantRole);
    return { header: header() } satisfies pb.AuthUserGrantRoleResponse;
  }
  if (req.authUserGet !== undefined) {
    return { header: header(), roles: s.userGet(req.authUserGet.name) } satisfies pb.AuthUserGetResponse;
  }
  if (req.authUserRevokeRole !== undefined) {
    s.userRevokeRole(req.authUserRevokeRole);
    return { header: header() } satisfies pb.AuthUserRevokeRoleResponse;
  }
  if (req.authUserList !== undefined) {
    return { header: header(), users: s.userList() } satisfies pb.AuthUserListResponse;
  }
  if (req.authRoleAdd !== undefined) {
    s.roleAdd(req.authRoleAdd);
    return { header: header() } satisfies pb.AuthRoleAddResponse;
  }
  if (req.authRoleDelete !== undefined) {
    s.roleDelete(req.authRoleDelete);
    return { header: header() } satisfies pb.AuthRoleDeleteResponse;
  }
  if (req.authRoleGet !== undefined) {
    return { header: header(), perm: s.roleGet(req.authRoleGet.role) } satisfies pb.AuthRoleGetResponse;
  }
  if (req.authRoleList !== undefined) {
    return { header: header(), roles: s.roleList() } satisfies pb.AuthRoleListResponse;
  }
  if (req.authRoleGrantPermission !== undefined) {
    s.roleGrantPermission(req.authRoleGrantPermission);
    return { header: header() } satisfies pb.AuthRoleGrantPermissionResponse;
  }
  if (req.authRoleRevokePermission !== undefined) {
    s.roleRevokePermission(req.authRoleRevokePermission);
    return { header: header() } satisfies pb.AuthRoleRevokePermissionResponse;
  }
  return NOT_AUTH;
}
