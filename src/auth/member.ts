// A member's auth (the part of etcd's EtcdServer that serves auth): it owns the token provider
// (--auth-token, for the life of the process) and the AuthStore of the current backend (replaced with
// it after a snapshot), resolves the credentials of client calls to users, makes the checks done before
// a request is proposed or while it is read locally, and proposes the Auth service's requests:
// passwords are hashed here, on the proposing member (so the WAL holds no plain password), and checked
// here for Authenticate, whose token is then issued by applying the entry on every member.

import { createHash } from "node:crypto";
import type { InternalRaftRequest } from "../api/gen/etcdserverpb/raft_internal.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type { Backend } from "../backend/index.js";
import type { ServerConfig } from "../server/config.js";
import {
  ErrGRPCAuthFailed,
  ErrGRPCAuthNotEnabled,
  ErrGRPCAuthOldRevision,
  ErrGRPCInvalidAuthToken,
  ErrGRPCRequestTooManyRequests,
  ErrGRPCUserEmpty,
} from "../server/errors.js";
import type { CallCredentials } from "./call_context.js";
import { createTokenProvider } from "./options.js";
import { effectiveBcryptCost, hashPassword } from "./password.js";
import { FailureLimiter } from "./rate_limit.js";
import { AuthStore, type AuthStoreLogger, NO_PASSWORD_USER, ROOT_USER } from "./store.js";
import type { AuthInfo, TokenProvider } from "./types.js";

export interface MemberAuthOptions {
  /** --auth-token (default "simple"). */
  authToken: string;
  /** --auth-token-ttl in seconds (default 300). */
  tokenTtlSeconds: number;
  /** --bcrypt-cost (default 10). */
  bcryptCost: number;
  /** --client-cert-auth: a verified client certificate's common name is a user. */
  clientCertAuth: boolean;
}

/** What MemberAuth needs from the member. */
export interface MemberAuthHost {
  /** Proposes a request with `ai`'s user and revision in its header; resolves with the applied result. */
  propose(req: Partial<InternalRaftRequest>, ai?: AuthInfo): Promise<unknown>;
  /** Resolves once this member has applied everything committed before the call. */
  linearizableReadNotify(): Promise<void>;
  /** Resolves true once the entry at `index` is applied here, false if not within the request timeout. */
  waitApplied(index: number): Promise<boolean>;
  /** The lease table (lease checks look at the keys a lease holds). */
  leases(): { exists(id: bigint): boolean; keysOf(id: bigint): Uint8Array[]; leases(): { id: bigint }[] };
}

/** The auth settings of a member's configuration (etcd's defaults where absent). */
export function memberAuthOptions(cfg: ServerConfig): MemberAuthOptions {
  return {
    authToken: cfg.authToken ?? "simple",
    tokenTtlSeconds: cfg.authTokenTtl ?? 300,
    bcryptCost: cfg.bcryptCost ?? 10,
    clientCertAuth: cfg.tls?.client.clientCertAuth === true,
  };
}

/** Throws (etcd's texts) if the configuration's --auth-token cannot be used: bad options, unreadable keys. */
export function checkAuthOptions(cfg: ServerConfig): void {
  const o = memberAuthOptions(cfg);
  createTokenProvider({
    spec: o.authToken,
    ttlSeconds: o.tokenTtlSeconds,
    waitApplied: async () => false,
  }).close();
}

/** A token's fingerprint for logs (etcd's redactToken): never the token itself. */
export function redactToken(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 12);
}

export class MemberAuth {
  readonly tokens: TokenProvider;
  private current: AuthStore | undefined;
  private readonly limiter = new FailureLimiter();
  readonly bcryptCost: number;

  constructor(
    private readonly opts: MemberAuthOptions,
    private readonly host: MemberAuthHost,
    private readonly logger: AuthStoreLogger,
  ) {
    this.bcryptCost = effectiveBcryptCost(opts.bcryptCost);
    if (this.bcryptCost !== opts.bcryptCost) {
      logger.warn(
        { "min-cost": 4, "max-cost": 31, "default-cost": 10, "given-cost": opts.bcryptCost },
        "use default bcrypt cost instead of the invalid given cost",
      );
    }
    this.tokens = createTokenProvider({
      spec: opts.authToken,
      ttlSeconds: opts.tokenTtlSeconds,
      waitApplied: (index) => host.waitApplied(index),
      logger,
    });
  }

  /** Opens the auth state of `backend` (at start, and for the backend a snapshot brought). */
  open(backend: Backend): AuthStore {
    this.current = new AuthStore(backend, this.tokens, this.logger, this.bcryptCost);
    return this.current;
  }

  get store(): AuthStore {
    if (this.current === undefined) throw new Error("auth: no backend opened");
    return this.current;
  }

  isEnabled(): boolean {
    return this.store.isEnabled();
  }

  revision(): number {
    return this.store.revision();
  }

  close(): void {
    this.tokens.close();
  }

  // ---- who is asking ------------------------------------------------------------------------------------

  /**
   * The user a call's credentials stand for (etcd's AuthInfoFromCtx): none while auth is disabled or the
   * call carries none; a token that is not valid here fails with "invalid auth token"; without a token,
   * with --client-cert-auth, the verified certificate's common name.
   */
  async resolve(c: CallCredentials): Promise<AuthInfo | undefined> {
    if (!this.isEnabled()) return undefined;
    if (c.token !== undefined) {
      const ai = await this.store.tokenInfo(c.token);
      if (ai === undefined) {
        this.logger.warn({ "token-fingerprint": redactToken(c.token) }, "invalid auth token");
        throw ErrGRPCInvalidAuthToken();
      }
      return ai;
    }
    if (this.opts.clientCertAuth && c.certCommonName !== undefined) {
      return { username: c.certCommonName, revision: this.revision() };
    }
    return undefined;
  }

  /**
   * Who the member's own proposals (revoking expired leases) act as while auth is enabled: root, which
   * is allowed everything and always exists then (etcd's WithRoot).
   */
  internalRoot(): AuthInfo | undefined {
    return this.isEnabled() ? { username: ROOT_USER, revision: this.revision() } : undefined;
  }

  /** Requests that need some user, whichever (etcd's requireAuthInfo). */
  requireUser(ai: AuthInfo | undefined): void {
    if (this.isEnabled() && ai === undefined) throw ErrGRPCUserEmpty();
  }

  checkAdmin(ai: AuthInfo | undefined): void {
    this.store.checkAdmin(ai);
  }

  checkRange(ai: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.store.checkRange(ai, key, rangeEnd);
  }

  /** After a local read: the auth state must not have changed since the check (etcd's doSerialize). */
  checkUnchanged(ai: AuthInfo | undefined): void {
    if (ai !== undefined && ai.revision !== 0 && ai.revision !== this.revision()) {
      throw ErrGRPCAuthOldRevision();
    }
  }

  /** Renewing a lease: root, or write access to every key it holds (etcd's checkLeaseRenew). */
  checkLeaseRenew(ai: AuthInfo | undefined, id: bigint): void {
    if (!this.isEnabled()) return;
    if (ai === undefined) throw ErrGRPCUserEmpty();
    if (this.store.isAdmin(ai)) return;
    const l = this.host.leases();
    if (l.exists(id)) for (const k of l.keysOf(id)) this.store.checkPut(ai, k);
  }

  /** TimeToLive with keys: root, or read access to every key the lease holds. */
  checkLeaseTimeToLive(ai: AuthInfo | undefined, id: bigint, keys: boolean): void {
    this.requireUser(ai);
    if (!this.isEnabled() || !keys || this.store.isAdmin(ai)) return;
    const l = this.host.leases();
    if (l.exists(id)) for (const k of l.keysOf(id)) this.store.checkRange(ai, k, new Uint8Array(0));
  }

  /** Listing leases: root, or read access to every key of every lease (etcd's checkLeaseLeases). */
  checkLeaseLeases(ai: AuthInfo | undefined): void {
    this.requireUser(ai);
    if (!this.isEnabled() || this.store.isAdmin(ai)) return;
    const l = this.host.leases();
    for (const lease of l.leases()) {
      for (const k of l.keysOf(lease.id)) this.store.checkRange(ai, k, new Uint8Array(0));
    }
  }

  // ---- the Auth service -----------------------------------------------------------------------------------

  /**
   * Checks the password here (after a linearizable wait, so the newest users count), then proposes the
   * token's issue without the password. Failures are logged and rate-limited per user name.
   */
  async authenticate(r: pb.AuthenticateRequest): Promise<pb.AuthenticateResponse> {
    await this.host.linearizableReadNotify();
    for (;;) {
      if (!this.isEnabled()) throw ErrGRPCAuthNotEnabled();
      if (!this.limiter.allows(r.name)) {
        this.logger.warn({ user: r.name }, "too many failed authentications for this user; refused");
        throw ErrGRPCRequestTooManyRequests();
      }
      let checkedRevision: number;
      try {
        checkedRevision = await this.store.checkPassword(r.name, r.password);
      } catch (err) {
        if (!ErrGRPCAuthNotEnabled.matches(err)) {
          this.logger.warn(
            { user: r.name, error: (err as Error).message },
            "invalid authentication was requested",
          );
          if (ErrGRPCAuthFailed.matches(err) || (err as Error).message === NO_PASSWORD_USER) {
            this.limiter.failed(r.name);
          }
        }
        throw err;
      }
      const resp = (await this.host.propose({
        authenticate: {
          name: r.name,
          password: "",
          simpleToken: this.tokens.genTokenPrefix(),
          issuedUnixMs: BigInt(Date.now()),
        },
      })) as pb.AuthenticateResponse;
      if (checkedRevision === this.revision()) return resp;
      this.logger.info({}, "revision when password checked became stale; retrying");
    }
  }

  /** Root-only requests fail before the (costly) password hash and the Raft round. */
  private precheckAdmin(ai: AuthInfo | undefined): void {
    if (this.isEnabled()) this.store.checkAdmin(ai);
  }

  async userAdd(r: pb.AuthUserAddRequest, ai?: AuthInfo): Promise<pb.AuthUserAddResponse> {
    this.precheckAdmin(ai);
    let req = r;
    if (r.options?.noPassword !== true) {
      const hash = await hashPassword(r.password, this.bcryptCost);
      req = { ...r, password: "", hashedPassword: Buffer.from(hash).toString("base64") };
    }
    return (await this.host.propose({ authUserAdd: req }, ai)) as pb.AuthUserAddResponse;
  }

  async userChangePassword(
    r: pb.AuthUserChangePasswordRequest,
    ai?: AuthInfo,
  ): Promise<pb.AuthUserChangePasswordResponse> {
    this.precheckAdmin(ai);
    let req = r;
    if (r.password !== "") {
      const hash = await hashPassword(r.password, this.bcryptCost);
      req = { ...r, password: "", hashedPassword: Buffer.from(hash).toString("base64") };
    }
    return (await this.host.propose(
      { authUserChangePassword: req },
      ai,
    )) as pb.AuthUserChangePasswordResponse;
  }

  /** Every other Auth request: proposed as it is, checked and applied on every member. */
  propose<T>(req: Partial<InternalRaftRequest>, ai?: AuthInfo): Promise<T> {
    return this.host.propose(req, ai) as Promise<T>;
  }
}
