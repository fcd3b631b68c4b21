// Simple tokens (--auth-token simple, etcd's default): "<16 random letters>.<raft index>", issued by
// applying an Authenticate entry, so every member issues the same token to the same user. A token
// expires after --auth-token-ttl seconds without use on the member that checks it (etcd's sliding TTL).
//
// Unlike etcd, whose members keep simple tokens in memory only (lost by a restarted member, unknown to
// one that joined later), etcd-ts also records each token in the backend (SimpleTokenTable), written
// by the same apply on every member. A member that meets a token it has no memory of (it restarted, or
// received the database in a snapshot after the token was issued) accepts it if the record is there
// and it has not itself seen the token expire; the TTL then slides on that member from that use on. So
// a client keeps its token across leader changes, member restarts and member replacement.
//
// Records are removed by applied entries only, so they stay identical on every member: a user's
// records when it is deleted or its password changes, all of them when auth is disabled, and, each
// time a token is issued, those issued more than the retention (max(TTL, 1 h)) before it, by the
// proposers' clocks. A token in use for longer than that may therefore be refused by a member that did
// not know it; clients re-authenticate on "invalid auth token", as they do after any expiry.

import { randomInt } from "node:crypto";
import type { AssignContext, AuthInfo, TokenProvider } from "./types.js";

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PREFIX_LENGTH = 16;
/** How often expired tokens are forgotten (etcd's simpleTokenTTLResolution). */
const SWEEP_MS = 1000;
/** Records are kept at least this long after issue (see above). */
export const MIN_RECORD_RETENTION_MS = 60 * 60 * 1000;

/** A token's record in the backend. */
export interface SimpleTokenRecord {
  readonly user: string;
  /** When it was issued, by the proposing member's clock (ms since the epoch). */
  readonly issuedMs: number;
}

/** The tokens recorded in the backend (replicated: written only while applying entries). */
export interface SimpleTokenTable {
  get(token: string): SimpleTokenRecord | undefined;
  put(token: string, rec: SimpleTokenRecord): void;
  /** Removes the records of `user`. */
  deleteUser(user: string): void;
  /** Removes every record issued before `ms`. */
  deleteIssuedBefore(ms: number): void;
  clear(): void;
}

export interface SimpleTokenOptions {
  /** --auth-token-ttl in seconds (default 300). */
  ttlSeconds: number;
  /** Resolves once this member has applied the entry at `index` (false: not within the time allowed). */
  waitApplied(index: number): Promise<boolean>;
  now?: () => number;
}

/** The part of a token that names the entry that issued it, or undefined if it is not "<prefix>.<index>". */
export function simpleTokenIndex(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 2 || !/^[0-9]+$/.test(parts[1]!)) return undefined;
  const index = Number(parts[1]);
  return Number.isSafeInteger(index) ? index : undefined;
}

export class SimpleTokenProvider implements TokenProvider {
  readonly type = "simple" as const;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private table: SimpleTokenTable | undefined;
  private enabled = false;
  /** Tokens this member has seen issued or used, with when it last saw them (its own clock). */
  private readonly lastUse = new Map<string, number>();
  /** Tokens this member has seen expire: never accepted again from their record. */
  private readonly expired = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SimpleTokenOptions) {
    this.ttlMs = (opts.ttlSeconds > 0 ? opts.ttlSeconds : 300) * 1000;
    this.now = opts.now ?? Date.now;
  }

  /** The backend's token records (the auth store attaches its own, again after a snapshot swap). */
  attach(table: SimpleTokenTable): void {
    this.table = table;
  }

  /** How long records are kept after issue. */
  get retentionMs(): number {
    return Math.max(this.ttlMs, MIN_RECORD_RETENTION_MS);
  }

  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  disable(): void {
    this.enabled = false;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.lastUse.clear();
    this.expired.clear();
  }

  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  invalidateUser(name: string): void {
    const t = this.table;
    if (t === undefined) return;
    for (const token of this.lastUse.keys()) {
      if (t.get(token)?.user === name) this.lastUse.delete(token);
    }
    t.deleteUser(name);
  }

  genTokenPrefix(): string {
    let s = "";
    for (let i = 0; i < PREFIX_LENGTH; i++) s += LETTERS[randomInt(LETTERS.length)];
    return s;
  }

  assign(user: string, _revision: number, ctx: AssignContext): string {
    const token = `${ctx.prefix}.${ctx.index}`;
    if (this.table !== undefined) {
      if (ctx.issuedMs > 0) this.table.deleteIssuedBefore(ctx.issuedMs - this.retentionMs);
      this.table.put(token, { user, issuedMs: ctx.issuedMs });
    }
    if (this.enabled) this.lastUse.set(token, this.now());
    return token;
  }

  async info(token: string, revision: number): Promise<AuthInfo | undefined> {
    const index = simpleTokenIndex(token);
    if (index === undefined || !this.enabled) return undefined;
    // A token issued by an entry this member has not applied yet (the client authenticated through a
    // member ahead of this one) becomes known once it has.
    if (!(await this.opts.waitApplied(index))) return undefined;
    const rec = this.table?.get(token);
    if (rec === undefined || this.expired.has(token)) return undefined;
    const now = this.now();
    const last = this.lastUse.get(token);
    if (last !== undefined && now - last > this.ttlMs) {
      this.forget(token);
      return undefined;
    }
    this.lastUse.set(token, now);
    return { username: rec.user, revision };
  }

  /** Forgets tokens unused for longer than the TTL (they are refused from now on). */
  sweep(): void {
    const now = this.now();
    for (const [token, last] of this.lastUse) if (now - last > this.ttlMs) this.forget(token);
    // Records removed meanwhile (pruned, user deleted) need no tombstone any more.
    for (const token of this.expired) if (this.table?.get(token) === undefined) this.expired.delete(token);
  }

  private forget(token: string): void {
    this.lastUse.delete(token);
    this.expired.add(token);
  }
}
