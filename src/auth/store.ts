// The auth store (etcd's authStore, our own code): users, roles and their key permissions, whether auth
// is enabled, and the auth revision, all kept in the backend's auth buckets as etcd lays them out:
//
//   auth       "authEnabled" -> [1] or [0]; "authRevision" -> 8-byte big-endian revision
//   authUsers  user name -> authpb.User (bcrypt hash in `password`, roles sorted)
//   authRoles  role name -> authpb.Role (permissions sorted by key)
//
// plus the simple-token records (see simple_token.ts) under keys of the auth bucket that etcd does not
// use. Every change happens by applying a committed entry, in the same backend batch as the consistent
// index, so all members hold the same auth state and it survives restarts and travels with snapshots.
// Each change of users or roles bumps the revision; requests checked at an older revision are refused
// when applied ("revision of auth store is old").
//
// Errors are the catalog's (the texts clients see), thrown by the mutating methods and the checks.

import { createHash } from "node:crypto";
import { type Permission, permission_TypeToJSON, Role, User } from "../api/gen/authpb/auth.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import { type Backend, Bucket } from "../backend/index.js";
import {
  ErrGRPCAuthFailed,
  ErrGRPCAuthNotEnabled,
  ErrGRPCAuthOldRevision,
  ErrGRPCInvalidAuthMgmt,
  ErrGRPCPermissionDenied,
  ErrGRPCPermissionNotGiven,
  ErrGRPCPermissionNotGranted,
  ErrGRPCRoleAlreadyExist,
  ErrGRPCRoleEmpty,
  ErrGRPCRoleNotFound,
  ErrGRPCRoleNotGranted,
  ErrGRPCRootRoleNotExist,
  ErrGRPCRootUserNotExist,
  ErrGRPCUserAlreadyExist,
  ErrGRPCUserEmpty,
  ErrGRPCUserNotFound,
  EtcdError,
  Status,
} from "../server/errors.js";
import { BCRYPT_DEFAULT_COST, checkPassword, hashPasswordSync } from "./password.js";
import { type Access, isValidPermissionRange, UserPermissions } from "./perms.js";
import type { SimpleTokenRecord, SimpleTokenTable } from "./simple_token.js";
import type { AssignContext, AuthInfo, TokenProvider } from "./types.js";

export const ROOT_USER = "root";
export const ROOT_ROLE = "root";

/** etcd's auth.ErrNoPasswordUser: not in the catalog, so clients see it as UNKNOWN with this text. */
export const NO_PASSWORD_USER = "auth: authentication failed, password was given for no password user";
export const ErrNoPasswordUser = (): EtcdError => new EtcdError(Status.UNKNOWN, NO_PASSWORD_USER);

const KEY_ENABLED = Buffer.from("authEnabled");
const KEY_REVISION = Buffer.from("authRevision");
/** Simple-token records: TOKEN_PREFIX + SHA-256(token) -> issuedMs (8 bytes BE) + user name (UTF-8). */
const TOKEN_PREFIX = "simpleToken/";
/** Their issue-time index: ISSUED_PREFIX + issuedMs (8 bytes BE) + SHA-256(token) -> empty. */
const ISSUED_PREFIX = "simpleTokenIssued/";
const EMPTY = new Uint8Array(0);

export interface AuthStoreLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(n))));
  return b;
}

/** The end of the key range holding every key that starts with `prefix`. */
function prefixEnd(prefix: Buffer): Buffer {
  const e = Buffer.from(prefix);
  e[e.length - 1]!++;
  return e;
}

function utf8(b: Uint8Array): string {
  return Buffer.from(b).toString("utf8");
}

function hasRootRole(u: User): boolean {
  return u.roles.includes(ROOT_ROLE);
}

/** Stable sort of permissions by key (etcd keeps a role's permissions ordered by key). */
function sortPerms(perms: Permission[]): Permission[] {
  return perms
    .map((p, i) => ({ p, i }))
    .sort((a, b) => Buffer.compare(a.p.key, b.p.key) || a.i - b.i)
    .map((x) => x.p);
}

export class AuthStore implements SimpleTokenTable {
  private enabled: boolean;
  private rev: number;
  /** Each user's merged permissions, rebuilt after every change of users or roles. */
  private permCache = new Map<string, UserPermissions>();

  /**
   * Opens the auth state of `backend` (a new backend gets revision 1, as etcd's does) and attaches
   * `tokens` to it: enabled or disabled as the state says, its records (simple tokens) in this backend.
   */
  constructor(
    private readonly backend: Backend,
    readonly tokens: TokenProvider,
    private readonly logger: AuthStoreLogger,
    /** --bcrypt-cost, for entries that carry a plain password. */
    private readonly bcryptCost = BCRYPT_DEFAULT_COST,
  ) {
    const tx = backend.readTx();
    const en = tx.get(Bucket.auth, KEY_ENABLED);
    this.enabled = en !== undefined && en.length === 1 && en[0] === 1;
    const rv = tx.get(Bucket.auth, KEY_REVISION);
    this.rev = rv !== undefined && rv.length === 8 ? Number(Buffer.from(rv).readBigUInt64BE(0)) : 0;
    if (this.rev === 0) this.commitRevision();
    this.refreshPerms();
    tokens.attach?.(this);
    if (this.enabled) tokens.enable();
    else tokens.disable();
  }

  isEnabled(): boolean {
    return this.enabled;
  }

  revision(): number {
    return this.rev;
  }

  // ---- backend records --------------------------------------------------------------------------------

  private getUser(name: string): User | undefined {
    if (name === "") return undefined;
    const v = this.backend.readTx().get(Bucket.authUsers, Buffer.from(name));
    return v === undefined ? undefined : User.decode(v);
  }

  private putUser(u: User): void {
    this.backend.batchTx.put(Bucket.authUsers, u.name, User.encode(u).finish());
  }

  private allUsers(): User[] {
    const out: User[] = [];
    this.backend.readTx().forEach(Bucket.authUsers, (_k, v) => {
      out.push(User.decode(v));
    });
    return out;
  }

  private getRole(name: string): Role | undefined {
    if (name === "") return undefined;
    const v = this.backend.readTx().get(Bucket.authRoles, Buffer.from(name));
    return v === undefined ? undefined : Role.decode(v);
  }

  private putRole(r: Role): void {
    this.backend.batchTx.put(Bucket.authRoles, r.name, Role.encode(r).finish());
  }

  private allRoles(): Role[] {
    const out: Role[] = [];
    this.backend.readTx().forEach(Bucket.authRoles, (_k, v) => {
      out.push(Role.decode(v));
    });
    return out;
  }

  private commitRevision(): void {
    this.rev++;
    this.backend.batchTx.put(Bucket.auth, KEY_REVISION, u64(this.rev));
  }

  private refreshPerms(): void {
    const roles = new Map(this.allRoles().map((r) => [utf8(r.name), r]));
    const cache = new Map<string, UserPermissions>();
    for (const u of this.allUsers()) {
      const perms: Permission[] = [];
      for (const name of u.roles) perms.push(...(roles.get(name)?.keyPermission ?? []));
      cache.set(utf8(u.name), UserPermissions.of(perms));
    }
    this.permCache = cache;
  }

  /** etcd's selectPassword: the hash from the request (base64 of the bcrypt string). */
  private passwordOf(password: string, hashedPassword: string): Uint8Array {
    if (password !== "" && hashedPassword === "") {
      // An entry whose proposer did not hash (etcd before 3.5 did not) carries the password itself.
      return Buffer.from(hashPasswordSync(password, this.bcryptCost));
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(hashedPassword) || hashedPassword.length % 4 !== 0) {
      throw ErrNoPasswordUser();
    }
    return Buffer.from(hashedPassword, "base64");
  }

  // ---- applying auth requests -------------------------------------------------------------------------

  authEnable(): void {
    if (this.enabled) {
      this.logger.info({}, "authentication is already enabled; ignored auth enable request");
      return;
    }
    const root = this.getUser(ROOT_USER);
    if (root === undefined) throw ErrGRPCRootUserNotExist();
    if (!hasRootRole(root)) throw ErrGRPCRootRoleNotExist();
    this.backend.batchTx.put(Bucket.auth, KEY_ENABLED, Buffer.from([1]));
    this.enabled = true;
    this.tokens.enable();
    this.refreshPerms();
    this.logger.info({}, "enabled authentication");
  }

  authDisable(): void {
    if (!this.enabled) return;
    this.backend.batchTx.put(Bucket.auth, KEY_ENABLED, Buffer.from([0]));
    this.commitRevision();
    this.enabled = false;
    this.tokens.disable();
    this.clear();
    this.logger.info({}, "disabled authentication");
  }

  /** Issues a token to `name` (the password was checked by the proposing member). */
  authenticate(name: string, ctx: AssignContext): string {
    if (!this.enabled) throw ErrGRPCAuthNotEnabled();
    const u = this.getUser(name);
    if (u === undefined || u.options?.noPassword === true) throw ErrGRPCAuthFailed();
    let token: string;
    try {
      token = this.tokens.assign(name, this.rev, ctx);
    } catch (err) {
      throw new EtcdError(Status.UNKNOWN, err instanceof Error ? err.message : String(err));
    }
    this.logger.debug({ "user-name": name }, "authenticated a user");
    return token;
  }

  userAdd(r: pb.AuthUserAddRequest): void {
    if (r.name === "") throw ErrGRPCUserEmpty();
    if (this.getUser(r.name) !== undefined) throw ErrGRPCUserAlreadyExist();
    const options = r.options ?? { noPassword: false };
    const password = options.noPassword ? EMPTY : this.passwordOf(r.password, r.hashedPassword);
    this.putUser({ name: Buffer.from(r.name), password, roles: [], options });
    this.commitRevision();
    this.refreshPerms();
    this.logger.info({ "user-name": r.name }, "added a user");
  }

  userDelete(r: pb.AuthUserDeleteRequest): void {
    if (this.enabled && r.name === ROOT_USER) {
      this.logger.error({ "user-name": r.name }, "cannot delete 'root' user");
      throw ErrGRPCInvalidAuthMgmt();
    }
    const u = this.getUser(r.name);
    if (u === undefined) throw ErrGRPCUserNotFound();
    this.backend.batchTx.delete(Bucket.authUsers, Buffer.from(r.name));
    this.commitRevision();
    this.refreshPerms();
    this.tokens.invalidateUser(r.name);
    this.logger.info({ "user-name": r.name, "user-roles": u.roles }, "deleted a user");
  }

  userChangePassword(r: pb.AuthUserChangePasswordRequest): void {
    const u = this.getUser(r.name);
    if (u === undefined) throw ErrGRPCUserNotFound();
    const password = u.options?.noPassword === true ? EMPTY : this.passwordOf(r.password, r.hashedPassword);
    this.putUser({ ...u, password });
    this.commitRevision();
    this.refreshPerms();
    this.tokens.invalidateUser(r.name);
    this.logger.info({ "user-name": r.name, "user-roles": u.roles }, "changed a password of a user");
  }

  userGrantRole(r: pb.AuthUserGrantRoleRequest): void {
    const u = this.getUser(r.user);
    if (u === undefined) throw ErrGRPCUserNotFound();
    if (r.role !== ROOT_ROLE && this.getRole(r.role) === undefined) throw ErrGRPCRoleNotFound();
    if (u.roles.includes(r.role)) {
      this.logger.warn(
        { "user-name": r.user, "user-roles": u.roles, "duplicate-role-name": r.role },
        "ignored grant role request to a user",
      );
      return;
    }
    const roles = [...u.roles, r.role].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    this.putUser({ ...u, roles });
    this.commitRevision();
    this.refreshPerms();
    this.logger.info(
      { "user-name": r.user, "user-roles": roles, "added-role-name": r.role },
      "granted a role to a user",
    );
  }

  userGet(name: string): string[] {
    const u = this.getUser(name);
    if (u === undefined) throw ErrGRPCUserNotFound();
    return [...u.roles];
  }

  userList(): string[] {
    return this.allUsers().map((u) => utf8(u.name));
  }

  userRevokeRole(r: pb.AuthUserRevokeRoleRequest): void {
    if (this.enabled && r.name === ROOT_USER && r.role === ROOT_ROLE) {
      this.logger.error(
        { "user-name": r.name, "role-name": r.role },
        "'root' user cannot revoke 'root' role",
      );
      throw ErrGRPCInvalidAuthMgmt();
    }
    const u = this.getUser(r.name);
    if (u === undefined) throw ErrGRPCUserNotFound();
    const roles = u.roles.filter((x) => x !== r.role);
    if (roles.length === u.roles.length) throw ErrGRPCRoleNotGranted();
    this.putUser({ ...u, roles });
    this.commitRevision();
    this.refreshPerms();
    this.logger.info(
      {
        "user-name": r.name,
        "old-user-roles": u.roles,
        "new-user-roles": roles,
        "revoked-role-name": r.role,
      },
      "revoked a role from a user",
    );
  }

  /** The role's permissions as stored (etcd 3.5 shows none for the implicit root role's all-access). */
  roleGet(name: string): Permission[] {
    const r = this.getRole(name);
    if (r === undefined) throw ErrGRPCRoleNotFound();
    return r.keyPermission;
  }

  roleList(): string[] {
    return this.allRoles().map((r) => utf8(r.name));
  }

  roleAdd(r: pb.AuthRoleAddRequest): void {
    if (r.name === "") throw ErrGRPCRoleEmpty();
    if (this.getRole(r.name) !== undefined) throw ErrGRPCRoleAlreadyExist();
    this.putRole({ name: Buffer.from(r.name), keyPermission: [] });
    this.commitRevision();
    this.logger.info({ "role-name": r.name }, "created a role");
  }

  roleDelete(r: pb.AuthRoleDeleteRequest): void {
    if (this.enabled && r.role === ROOT_ROLE) {
      this.logger.error({ "role-name": r.role }, "cannot delete 'root' role");
      throw ErrGRPCInvalidAuthMgmt();
    }
    if (this.getRole(r.role) === undefined) throw ErrGRPCRoleNotFound();
    this.backend.batchTx.delete(Bucket.authRoles, Buffer.from(r.role));
    for (const u of this.allUsers()) {
      const roles = u.roles.filter((x) => x !== r.role);
      if (roles.length !== u.roles.length) this.putUser({ ...u, roles });
    }
    this.commitRevision();
    this.refreshPerms();
    this.logger.info({ "role-name": r.role }, "deleted a role");
  }

  roleGrantPermission(r: pb.AuthRoleGrantPermissionRequest): void {
    const perm = r.perm;
    if (perm === undefined) throw ErrGRPCPermissionNotGiven();
    if (!isValidPermissionRange(perm.key, perm.rangeEnd)) throw ErrGRPCInvalidAuthMgmt();
    const role = this.getRole(r.name);
    if (role === undefined) throw ErrGRPCRoleNotFound();
    const perms = role.keyPermission;
    // As etcd: the first permission whose key is >= the new one's is updated if it is the same range.
    const idx = perms.findIndex((p) => Buffer.compare(p.key, perm.key) >= 0);
    const at = idx >= 0 ? perms[idx] : undefined;
    if (
      at !== undefined &&
      Buffer.compare(at.key, perm.key) === 0 &&
      Buffer.compare(at.rangeEnd, perm.rangeEnd) === 0
    ) {
      at.permType = perm.permType;
    } else {
      perms.push({ permType: perm.permType, key: perm.key, rangeEnd: perm.rangeEnd });
    }
    this.putRole({ name: role.name, keyPermission: sortPerms(perms) });
    this.commitRevision();
    this.refreshPerms();
    this.logger.info(
      {
        "role-name": r.name,
        "permission-name": permission_TypeToJSON(perm.permType),
        key: utf8(perm.key),
        "range-end": utf8(perm.rangeEnd),
      },
      "granted/updated a permission to a user",
    );
  }

  roleRevokePermission(r: pb.AuthRoleRevokePermissionRequest): void {
    const role = this.getRole(r.role);
    if (role === undefined) throw ErrGRPCRoleNotFound();
    const kept = role.keyPermission.filter(
      (p) => Buffer.compare(p.key, r.key) !== 0 || Buffer.compare(p.rangeEnd, r.rangeEnd) !== 0,
    );
    if (kept.length === role.keyPermission.length) throw ErrGRPCPermissionNotGranted();
    this.putRole({ name: role.name, keyPermission: kept });
    this.commitRevision();
    this.refreshPerms();
    this.logger.info(
      { "role-name": r.role, key: utf8(r.key), "range-end": utf8(r.rangeEnd) },
      "revoked a permission on range",
    );
  }

  // ---- checks -----------------------------------------------------------------------------------------

  /**
   * The password check Authenticate makes on the proposing member (a bcrypt comparison, off the apply
   * path). Resolves with the revision it was checked at.
   */
  async checkPassword(name: string, password: string): Promise<number> {
    if (!this.enabled) throw ErrGRPCAuthNotEnabled();
    const u = this.getUser(name);
    if (u === undefined) throw ErrGRPCAuthFailed();
    if (u.options?.noPassword === true) throw ErrNoPasswordUser();
    const rev = this.rev;
    if (!(await checkPassword(u.password, password))) {
      this.logger.info({ "user-name": name }, "invalid password");
      throw ErrGRPCAuthFailed();
    }
    return rev;
  }

  /**
   * Whether `ai` may do `access` on [key, rangeEnd) (etcd's isOpPermitted): always while auth is off;
   * otherwise a user is needed, its revision must not be older than the store's, and it must have the
   * root role or a grant covering the keys.
   */
  checkOp(ai: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array, access: Access): void {
    if (!this.enabled) return;
    if (ai === undefined || ai.revision === 0) throw ErrGRPCUserEmpty();
    if (ai.revision < this.rev) {
      this.logger.warn(
        {
          "current node auth revision": this.rev,
          "request auth revision": ai.revision,
          "request key": utf8(key),
        },
        "request auth revision is less than current node auth revision",
      );
      throw ErrGRPCAuthOldRevision();
    }
    const u = this.getUser(ai.username);
    if (u === undefined) {
      this.logger.error({ "user-name": ai.username }, "cannot find a user for permission check");
      throw ErrGRPCPermissionDenied();
    }
    if (hasRootRole(u)) return;
    if (this.permCache.get(ai.username)?.permits(access, key, rangeEnd) === true) return;
    throw ErrGRPCPermissionDenied();
  }

  checkRange(ai: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.checkOp(ai, key, rangeEnd, "read");
  }

  checkPut(ai: AuthInfo | undefined, key: Uint8Array): void {
    this.checkOp(ai, key, EMPTY, "write");
  }

  checkDeleteRange(ai: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.checkOp(ai, key, rangeEnd, "write");
  }

  /** Root-only operations (etcd's IsAdminPermitted). */
  checkAdmin(ai: AuthInfo | undefined): void {
    if (!this.enabled) return;
    if (ai === undefined || ai.username === "") throw ErrGRPCUserEmpty();
    const u = this.getUser(ai.username);
    if (u === undefined) throw ErrGRPCUserNotFound();
    if (!hasRootRole(u)) throw ErrGRPCPermissionDenied();
  }

  isAdmin(ai: AuthInfo | undefined): boolean {
    try {
      this.checkAdmin(ai);
      return true;
    } catch {
      return false;
    }
  }

  hasRole(user: string, role: string): boolean {
    return this.getUser(user)?.roles.includes(role) ?? false;
  }

  /** The user a token stands for, at the current revision (undefined: unknown or expired token). */
  tokenInfo(token: string): Promise<AuthInfo | undefined> {
    return this.tokens.info(token, this.rev);
  }

  // ---- simple-token records (SimpleTokenTable) ----------------------------------------------------------
  // Records are keyed by the token's SHA-256, never the token: a backup of the database must not hand out
  // credentials that work against the live cluster.

  get(token: string): SimpleTokenRecord | undefined {
    const v = this.backend.readTx().get(Bucket.auth, recordKey(digest(token)));
    return v === undefined || v.length < 8 ? undefined : decodeRecord(v);
  }

  put(token: string, rec: SimpleTokenRecord): void {
    const d = digest(token);
    const tx = this.backend.batchTx;
    tx.put(Bucket.auth, recordKey(d), Buffer.concat([u64(rec.issuedMs), Buffer.from(rec.user)]));
    tx.put(Bucket.auth, issuedKey(rec.issuedMs, d), EMPTY);
  }

  private deleteRecord(d: Buffer, issuedMs: number): void {
    const tx = this.backend.batchTx;
    tx.delete(Bucket.auth, recordKey(d));
    tx.delete(Bucket.auth, issuedKey(issuedMs, d));
  }

  /** Every record: the token's digest and what was recorded. */
  private records(): [Buffer, SimpleTokenRecord][] {
    const start = Buffer.from(TOKEN_PREFIX);
    return this.backend
      .readTx()
      .range(Bucket.auth, start, prefixEnd(start))
      .map(([k, v]) => [Buffer.from(k).subarray(start.length), decodeRecord(v)]);
  }

  deleteUser(user: string): void {
    for (const [d, rec] of this.records()) if (rec.user === user) this.deleteRecord(d, rec.issuedMs);
  }

  deleteIssuedBefore(ms: number): void {
    const start = Buffer.from(ISSUED_PREFIX);
    for (const [k] of this.backend.readTx().range(Bucket.auth, start, issuedKey(ms, Buffer.alloc(0)))) {
      const b = Buffer.from(k);
      this.deleteRecord(b.subarray(start.length + 8), Number(b.readBigUInt64BE(start.length)));
    }
  }

  clear(): void {
    for (const [d, rec] of this.records()) this.deleteRecord(d, rec.issuedMs);
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function recordKey(d: Buffer): Buffer {
  return Buffer.concat([Buffer.from(TOKEN_PREFIX), d]);
}

function issuedKey(issuedMs: number, d: Buffer): Buffer {
  return Buffer.concat([Buffer.from(ISSUED_PREFIX), u64(issuedMs), d]);
}

function decodeRecord(v: Uint8Array): SimpleTokenRecord {
  const b = Buffer.from(v);
  return { issuedMs: Number(b.readBigUInt64BE(0)), user: b.subarray(8).toString("utf8") };
}
