// Types shared by the auth store, its token providers and the API layer.

import type { SimpleTokenTable } from "./simple_token.js";

/** Who makes a request: a user name and the auth revision the request was checked against. */
export interface AuthInfo {
  readonly username: string;
  /**
   * The auth store's revision the credentials were valid at. A request whose revision is older than the
   * store's when it is applied fails with "revision of auth store is old" (the client re-authenticates).
   */
  readonly revision: number;
}

/** What applying an Authenticate entry knows, identical on every member. */
export interface AssignContext {
  /** Raft index of the entry: the suffix of a simple token ("<prefix>.<index>"). */
  readonly index: number;
  /** The random prefix the proposing member chose (simple tokens). */
  readonly prefix: string;
  /** The proposer's wall clock when it proposed, in ms since the epoch (0 if unknown). */
  readonly issuedMs: number;
}

/** A kind of auth token (etcd's TokenProvider): --auth-token simple or jwt. */
export interface TokenProvider {
  readonly type: "simple" | "jwt";
  /** Auth was enabled (by applying AuthEnable, or found enabled at start). */
  enable(): void;
  /**
   * The store whose records the provider keeps its tokens in (simple tokens; the store calls this when
   * it opens a backend, again after a snapshot replaced it).
   */
  attach?(table: SimpleTokenTable): void;
  /** Auth was disabled: every token issued so far stops working (records are cleared by the store). */
  disable(): void;
  /** The user was deleted or its password changed: its tokens stop working. */
  invalidateUser(name: string): void;
  /** The random part of a simple token, chosen by the proposing member ("" for JWT). */
  genTokenPrefix(): string;
  /** Issues a token to `user` (called when applying Authenticate; throws if this member cannot sign). */
  assign(user: string, revision: number, ctx: AssignContext): string;
  /** The user a token stands for (undefined: not a valid token); `revision` is the store's current one. */
  info(token: string, revision: number): Promise<AuthInfo | undefined>;
  /** Stops background timers. */
  close(): void;
}
