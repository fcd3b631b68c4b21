// Client: the entry point of the library (etcd's clientv3.Client). It owns the connection to the
// endpoints and exposes the KV methods directly, plus `lease`, `cluster`, `maintenance` and `auth`.

import type { ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
import { Auth } from "./auth.js";
import type { Bytes, Int64 } from "./bytes.js";
import { Cluster } from "./cluster.js";
import { type AuthCredentials, type CallOptions, Connection } from "./connection.js";
import { type CompactOptions, KV } from "./kv.js";
import { Lease } from "./lease.js";
import { Maintenance } from "./maintenance.js";
import type { DeleteOptions, GetOptions, PutOptions } from "./requests.js";
import type { Txn } from "./txn.js";
import type { CompactResponse, DeleteResponse, GetResponse, PutResponse } from "./types.js";
import { WatchManager } from "./watch.js";
import type { Watcher, WatchOptions } from "./watcher.js";

export interface ClientOptions {
  /** Member URLs: "http://127.0.0.1:2379", "127.0.0.1:2379", or a comma-separated string of them. */
  endpoints: string | readonly string[];
  /** User and password: the client authenticates and refreshes its token by itself. */
  auth?: AuthCredentials;
  /** Default timeout of each request, retries included (ms, default 30 000). */
  requestTimeoutMs?: number;
  /**
   * Send etcd's "hasleader" flag on requests that need a leader, so a member without one refuses them
   * at once and the client moves on (default true).
   */
  requireLeader?: boolean;
  /** grpc-js channel credentials (default: insecure for http://, TLS with system roots for https://). */
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
  /** Upper bound of the delay between retries (ms, default 1000). */
  maxRetryDelayMs?: number;
}

/**
 * A client of an etcd cluster.
 *
 * ```ts
 * const client = new Client({ endpoints: ["http://127.0.0.1:2379", "http://127.0.0.1:22379"] });
 * await client.put("greeting", "hello");
 * const v = await client.getValue("greeting"); // Buffer "hello"
 * client.close();
 * ```
 */
export class Client {
  readonly lease: Lease;
  readonly cluster: Cluster;
  readonly maintenance: Maintenance;
  readonly auth: Auth;
  /** @internal */
  readonly conn: Connection;
  private readonly kv: KV;
  private readonly watches: WatchManager;

  constructor(opts: ClientOptions) {
    const endpoints =
      typeof opts.endpoints === "string"
        ? opts.endpoints
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== "")
        : opts.endpoints;
    this.conn = new Connection({
      endpoints,
      auth: opts.auth,
      requestTimeoutMs: opts.requestTimeoutMs,
      requireLeader: opts.requireLeader,
      credentials: opts.credentials,
      channelOptions: opts.channelOptions,
      maxRetryDelayMs: opts.maxRetryDelayMs,
    });
    this.kv = new KV(this.conn);
    this.lease = new Lease(this.conn);
    this.cluster = new Cluster(this.conn);
    this.maintenance = new Maintenance(this.conn);
    this.auth = new Auth(this.conn);
    this.watches = new WatchManager(this.conn);
  }

  /** The endpoints' URLs, normalized ("http://host:port"). */
  get endpoints(): string[] {
    return this.conn.pool.urls();
  }

  /** The endpoint requests currently go to. */
  get activeEndpoint(): string {
    return this.conn.pool.currentEndpoint().url;
  }

  /** Replaces the endpoint list (open streams move when they next fail). */
  setEndpoints(endpoints: readonly string[]): void {
    this.conn.pool.setEndpoints(endpoints);
  }

  /** Replaces the endpoints with the client URLs of the cluster's current members. */
  async sync(opts: CallOptions = {}): Promise<string[]> {
    const r = await this.cluster.memberList(opts);
    const urls = r.members.flatMap((m) => m.clientURLs);
    if (urls.length > 0) this.setEndpoints(urls);
    return this.endpoints;
  }

  /** Reads `key`, or a range of keys with prefix/fromKey/rangeEnd (see GetOptions). */
  get(key: Bytes, opts?: GetOptions & CallOptions): Promise<GetResponse> {
    return this.kv.get(key, opts);
  }

  /** The value of `key`, or undefined when it does not exist. */
  getValue(key: Bytes, opts?: GetOptions & CallOptions): Promise<Buffer | undefined> {
    return this.kv.getValue(key, opts);
  }

  /** Sets `key` to `value`. */
  put(key: Bytes, value: Bytes, opts?: PutOptions & CallOptions): Promise<PutResponse> {
    return this.kv.put(key, value, opts);
  }

  /** Deletes `key`, or a range of keys. */
  delete(key: Bytes, opts?: DeleteOptions & CallOptions): Promise<DeleteResponse> {
    return this.kv.delete(key, opts);
  }

  /** A transaction: `client.txn().if(...).then(...).else(...).commit()`. */
  txn(): Txn {
    return this.kv.txn();
  }

  /** Discards history before `revision`. */
  compact(revision: Int64, opts?: CompactOptions): Promise<CompactResponse> {
    return this.kv.compact(revision, opts);
  }

  /**
   * Watches `key` (or a range); resolves once the watch is established. The watch survives failover:
   * it resumes where it left off, without losing or repeating events.
   */
  watch(key: Bytes, opts?: WatchOptions & CallOptions): Promise<Watcher> {
    return this.watches.watch(key, opts);
  }

  /** Asks for a progress notification on every watch of this client. */
  requestWatchProgress(): void {
    this.watches.requestProgress();
  }

  /** Ends every watch and keep-alive and closes the connections. Idempotent. */
  close(): void {
    if (this.conn.isClosed) return;
    this.watches.close();
    this.lease.close();
    this.conn.close();
  }
}
