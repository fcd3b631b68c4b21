// The client core: every unary RPC goes through Connection.unary(), which picks an endpoint, attaches
// metadata (the auth token, etcd's "hasleader" flag), applies the deadline and the caller's AbortSignal,
// turns failures into typed errors, fails over to another endpoint on UNAVAILABLE, re-authenticates on
// an invalid token, and repeats the request only when retry.ts says it is safe for its kind.

import type { ClientUnaryCall, Metadata as MetadataT, ServiceError } from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";
import type { AuthenticateResponse } from "../api/gen/etcdserverpb/rpc.js";
import { type Endpoint, EndpointPool, type PoolOptions } from "./endpoints.js";
import {
  EtcdCanceledError,
  EtcdClientClosedError,
  EtcdDeadlineExceededError,
  type EtcdError,
  Status,
  toClientError,
} from "./errors.js";
import { backoffMs, isRetryable, needsNewToken, type RequestKind, shouldFailover } from "./retry.js";

/** Per-request options every client method takes. */
export interface CallOptions {
  /**
   * Give up after this many milliseconds, retries included (default: the client's requestTimeoutMs).
   * A request that was retried until then fails with its last error.
   */
  timeoutMs?: number;
  /** Aborting it cancels the request (EtcdCanceledError). */
  signal?: AbortSignal;
}

/** Credentials for etcd's user/password authentication. */
export interface AuthCredentials {
  username: string;
  password: string;
}

export interface ConnectionOptions extends PoolOptions {
  endpoints: readonly string[];
  auth?: AuthCredentials;
  /** Default timeout of a request, retries included (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * Send etcd's "hasleader" flag on requests that need a leader (writes, linearizable reads, watches,
   * lease keep-alives), so a member that lost its leader refuses them at once instead of timing out
   * (default true).
   */
  requireLeader?: boolean;
  /** Upper bound of the delay between retries (default 1000 ms). */
  maxRetryDelayMs?: number;
}

/** etcd's metadata keys (rpctypes.TokenFieldNameGRPC and MetadataRequireLeaderKey). */
export const TOKEN_METADATA_KEY = "token";
export const REQUIRE_LEADER_METADATA_KEY = "hasleader";

/** One attempt of a unary RPC: call `ep`'s generated client with these metadata and options. */
export type UnaryInvoke<Res> = (
  ep: Endpoint,
  md: MetadataT,
  options: { deadline: number },
  callback: (err: ServiceError | null, res: Res) => void,
) => ClientUnaryCall;

export interface UnaryOptions extends CallOptions {
  /** Ask for a leader ("hasleader" metadata), if the client's requireLeader allows it. */
  requireLeader?: boolean;
  /** Send to this endpoint only: no failover, no retry on another member. */
  endpoint?: Endpoint;
  /** Do not attach (or wait for) the auth token: used by Authenticate itself. */
  noAuth?: boolean;
}

/** Resolves after `ms`, or rejects with EtcdCanceledError when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && signal?.aborted !== true) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(canceled(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      reject(canceled(signal!));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function canceled(signal: AbortSignal): EtcdCanceledError {
  const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
  return new EtcdCanceledError(`etcdclient: request canceled${why}`, Status.CANCELLED, {
    cause: signal.reason,
  });
}

export class Connection {
  readonly pool: EndpointPool;
  readonly requestTimeoutMs: number;
  readonly requireLeader: boolean;
  private readonly maxRetryDelayMs: number;
  private token: string | undefined;
  private tokenRefresh: Promise<void> | undefined;
  private closed = false;
  /** Aborted by close(): long-running loops (watch, keep-alive, retries) stop on it. */
  private readonly closing = new AbortController();
  /** Unary calls in flight, cancelled by close(). */
  private readonly inflight = new Set<ClientUnaryCall>();

  constructor(private readonly opts: ConnectionOptions) {
    this.pool = new EndpointPool(opts.endpoints, opts);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.requireLeader = opts.requireLeader ?? true;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 1000;
  }

  /** Aborts when the client closes. */
  get closeSignal(): AbortSignal {
    return this.closing.signal;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws EtcdClientClosedError after close(). */
  assertOpen(): void {
    if (this.closed) throw new EtcdClientClosedError();
  }

  /** Metadata for a call: the auth token if any (and wanted), and "hasleader" when asked for and enabled. */
  metadata(requireLeader: boolean, withToken = true): MetadataT {
    const md = new Metadata();
    if (withToken && this.token !== undefined) md.set(TOKEN_METADATA_KEY, this.token);
    if (requireLeader && this.requireLeader) md.set(REQUIRE_LEADER_METADATA_KEY, "true");
    return md;
  }

  /** The current auth token (undefined without credentials or before the first authentication). */
  get authToken(): string | undefined {
    return this.token;
  }

  /** True when credentials were given and no token is held yet. */
  get needsToken(): boolean {
    return this.opts.auth !== undefined && this.token === undefined;
  }

  /** Authenticates now if credentials were given and no token is held yet. */
  async ensureToken(opts: CallOptions = {}): Promise<void> {
    if (this.opts.auth === undefined || this.token !== undefined) return;
    await this.refreshToken(undefined, opts);
  }

  /**
   * Gets a new token, unless another caller already replaced `stale` (one authentication at a time;
   * concurrent callers share it).
   */
  async refreshToken(stale: string | undefined, opts: CallOptions = {}): Promise<void> {
    const auth = this.opts.auth;
    if (auth === undefined) return;
    if (this.token !== stale) return;
    if (this.tokenRefresh === undefined) {
      this.tokenRefresh = this.unary<AuthenticateResponse>(
        "read",
        (ep, md, o, cb) => ep.auth.authenticate({ name: auth.username, password: auth.password }, md, o, cb),
        { ...opts, noAuth: true },
      )
        .then((r) => {
          this.token = r.token;
        })
        .finally(() => {
          this.tokenRefresh = undefined;
        });
    }
    await this.tokenRefresh;
  }

  /**
   * Runs one unary RPC with failover and safe retries. `kind` decides which failures are repeated (see
   * retry.ts); the deadline covers every attempt.
   */
  async unary<Res>(kind: RequestKind, invoke: UnaryInvoke<Res>, opts: UnaryOptions = {}): Promise<Res> {
    this.assertOpen();
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const signal = opts.signal;
    let refreshedToken = false;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw canceled(signal);
      this.assertOpen();
      if (!opts.noAuth) await this.ensureToken({ signal, timeoutMs: Math.max(1, deadline - Date.now()) });
      const ep = opts.endpoint ?? this.pool.pick();
      const tokenUsed = this.token;
      const md = this.metadata(opts.requireLeader ?? false, !opts.noAuth);
      let err: EtcdError;
      try {
        const res = await this.once(invoke, ep, md, deadline, signal);
        this.pool.succeeded(ep);
        return res;
      } catch (raw) {
        err = toClientError(raw, { endpoint: ep.url });
      }
      if (signal?.aborted) throw canceled(signal);
      if (this.closed) throw new EtcdClientClosedError();
      if (shouldFailover(err) && opts.endpoint === undefined) this.pool.failed(ep);
      if (!opts.noAuth && needsNewToken(err) && this.opts.auth !== undefined && !refreshedToken) {
        // Refused before it ran (see retry.ts): re-authenticate once and repeat, whatever the kind.
        refreshedToken = true;
        await this.refreshToken(tokenUsed, { signal, timeoutMs: Math.max(1, deadline - Date.now()) });
        attempt = -1;
        continue;
      }
      if (opts.endpoint !== undefined || !isRetryable(kind, err)) throw err;
      const wait = backoffMs(attempt, this.maxRetryDelayMs);
      if (Date.now() + wait >= deadline) throw err;
      await sleep(wait, signal);
    }
  }

  /** One attempt: resolves with the response, rejects with the raw grpc error. */
  private once<Res>(
    invoke: UnaryInvoke<Res>,
    ep: Endpoint,
    md: MetadataT,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (Date.now() >= deadline) {
        reject(new EtcdDeadlineExceededError("etcdclient: request timed out", Status.DEADLINE_EXCEEDED));
        return;
      }
      let call: ClientUnaryCall | undefined;
      const onAbort = () => call?.cancel();
      call = invoke(ep, md, { deadline }, (err, res) => {
        signal?.removeEventListener("abort", onAbort);
        if (call !== undefined) this.inflight.delete(call);
        if (err) reject(err);
        else resolve(res);
      });
      this.inflight.add(call);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Cancels everything in flight and closes every channel. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort(new EtcdClientClosedError());
    for (const c of this.inflight) c.cancel();
    this.inflight.clear();
    this.pool.close();
  }
}
