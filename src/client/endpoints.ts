// The client's endpoints: one gRPC channel per member URL, the generated service clients on it, and
// which endpoint requests go to. Requests stick to the current endpoint until it fails; then the pool
// moves to the next endpoint that has not failed recently (round robin), so a dead or leaderless member
// is left at once and retried only after a cool-down that grows with its consecutive failures.

import {
  type ChannelCredentials,
  type ChannelOptions,
  connectivityState,
  Channel as GrpcChannel,
  credentials as grpcCredentials,
} from "@grpc/grpc-js";
import {
  AuthClient,
  ClusterClient,
  KVClient,
  LeaseClient,
  MaintenanceClient,
  WatchClient,
} from "../api/gen/etcdserverpb/rpc.js";

/** One member URL and its channel. */
export class Endpoint {
  /** The URL as normalized: "http://host:port". */
  readonly url: string;
  /** "host:port", what the channel dials. */
  readonly target: string;
  readonly channel: GrpcChannel;
  readonly kv: KVClient;
  readonly watch: WatchClient;
  readonly lease: LeaseClient;
  readonly cluster: ClusterClient;
  readonly maintenance: MaintenanceClient;
  readonly auth: AuthClient;
  /** performance.now() of the last failure, or undefined while healthy. */
  failedAt: number | undefined;
  /** Failures since the last success (scales the cool-down). */
  failures = 0;

  constructor(url: string, creds: ChannelCredentials, options: ChannelOptions) {
    const u = parseEndpoint(url);
    this.url = u.url;
    this.target = u.target;
    this.channel = new GrpcChannel(this.target, creds, options);
    const o = { channelOverride: this.channel };
    this.kv = new KVClient(this.target, creds, o);
    this.watch = new WatchClient(this.target, creds, o);
    this.lease = new LeaseClient(this.target, creds, o);
    this.cluster = new ClusterClient(this.target, creds, o);
    this.maintenance = new MaintenanceClient(this.target, creds, o);
    this.auth = new AuthClient(this.target, creds, o);
  }

  /** True while the channel is in TRANSIENT_FAILURE (its last connection attempt failed). */
  connectFailing(): boolean {
    return this.channel.getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
  }

  close(): void {
    this.channel.close();
  }
}

/**
 * "http://h:p", "https://h:p", "h:p" or "unix:..." as { url, target, secure }. A missing port is etcd's
 * client port 2379.
 */
export function parseEndpoint(s: string): { url: string; target: string; secure: boolean } {
  const raw = s.trim();
  if (raw.startsWith("unix:") || raw.startsWith("unixs:")) {
    return { url: raw, target: raw.replace(/^unixs:/, "unix:"), secure: raw.startsWith("unixs:") };
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  const u = new URL(withScheme);
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(`unsupported endpoint scheme ${u.protocol} in ${s} (use http:// or https://)`);
  }
  const port = u.port === "" ? "2379" : u.port;
  const target = `${u.hostname}:${port}`;
  return { url: `${u.protocol}//${target}`, target, secure: u.protocol === "https:" };
}

export interface PoolOptions {
  /** Credentials for every channel (default: insecure for http://, system roots for https://). */
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
  /** Cool-down after a first failure; doubles per consecutive failure up to maxCooldownMs. */
  cooldownMs?: number;
  maxCooldownMs?: number;
}

/** Channel options: quick reconnects (members restart within seconds), etcd's message size limits. */
const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1000,
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
  // Each endpoint gets its own connection, not one shared with other Client instances: closing one
  // client must not disturb another's streams.
  "grpc.use_local_subchannel_pool": 1,
};

export class EndpointPool {
  private endpoints: Endpoint[] = [];
  private current = 0;
  private readonly cooldownMs: number;
  private readonly maxCooldownMs: number;

  constructor(
    urls: readonly string[],
    private readonly opts: PoolOptions = {},
  ) {
    if (urls.length === 0) throw new TypeError("etcd client: no endpoints given");
    this.cooldownMs = opts.cooldownMs ?? 500;
    this.maxCooldownMs = opts.maxCooldownMs ?? 5000;
    this.setEndpoints(urls);
  }

  /** The endpoints' URLs, in order. */
  urls(): string[] {
    return this.endpoints.map((e) => e.url);
  }

  /** The endpoint requests currently go to. */
  currentEndpoint(): Endpoint {
    return this.endpoints[this.current]!;
  }

  /** The endpoint with this URL (normalized), if the pool has it. */
  find(url: string): Endpoint | undefined {
    const n = parseEndpoint(url).url;
    return this.endpoints.find((e) => e.url === n);
  }

  all(): readonly Endpoint[] {
    return this.endpoints;
  }

  /**
   * The endpoint for the next request: the current one unless it is cooling down after a failure (or its
   * channel cannot connect), else the next healthy one in order; if none is healthy, the one that failed
   * longest ago (so a whole-cluster outage still probes every member in turn).
   */
  pick(): Endpoint {
    const n = this.endpoints.length;
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      const idx = (this.current + i) % n;
      const e = this.endpoints[idx]!;
      if (this.healthy(e, now)) {
        this.current = idx;
        return e;
      }
    }
    let best = this.current;
    for (let i = 0; i < n; i++) {
      if ((this.endpoints[i]!.failedAt ?? 0) < (this.endpoints[best]!.failedAt ?? 0)) best = i;
    }
    this.current = best;
    return this.endpoints[best]!;
  }

  /** Records a failure of `e`: it cools down, and the next pick() moves on if it was current. */
  failed(e: Endpoint): void {
    e.failedAt = performance.now();
    e.failures++;
    if (this.endpoints[this.current] === e && this.endpoints.length > 1) {
      this.current = (this.current + 1) % this.endpoints.length;
    }
  }

  /** Records a success of `e` (clears its failure count). */
  succeeded(e: Endpoint): void {
    e.failedAt = undefined;
    e.failures = 0;
  }

  /**
   * Replaces the endpoint list (e.g. from MemberList). Endpoints that stay keep their channels; removed
   * ones are closed; the current endpoint stays current if it is still listed.
   */
  setEndpoints(urls: readonly string[]): void {
    if (urls.length === 0) throw new TypeError("etcd client: no endpoints given");
    const cur = this.endpoints[this.current];
    const next: Endpoint[] = [];
    for (const raw of urls) {
      const url = parseEndpoint(raw).url;
      if (next.some((e) => e.url === url)) continue;
      next.push(this.endpoints.find((e) => e.url === url) ?? this.make(raw));
    }
    for (const e of this.endpoints) if (!next.includes(e)) e.close();
    this.endpoints = next;
    const keep = cur === undefined ? -1 : next.indexOf(cur);
    this.current = Math.max(keep, 0);
  }

  close(): void {
    for (const e of this.endpoints) e.close();
  }

  private healthy(e: Endpoint, now: number): boolean {
    if (e.failedAt !== undefined) {
      const cool = Math.min(this.maxCooldownMs, this.cooldownMs * 2 ** Math.max(0, e.failures - 1));
      if (now - e.failedAt < cool) return false;
    }
    return !e.connectFailing();
  }

  private make(raw: string): Endpoint {
    const { secure } = parseEndpoint(raw);
    const creds =
      this.opts.credentials ?? (secure ? grpcCredentials.createSsl() : grpcCredentials.createInsecure());
    return new Endpoint(raw, creds, { ...DEFAULT_CHANNEL_OPTIONS, ...this.opts.channelOptions });
  }
}
