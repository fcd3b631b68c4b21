// etcdctl's connection to the cluster: one gRPC channel per endpoint, used in order with fail-over.
//
// Endpoint choice: calls go to the endpoint that last answered; an endpoint whose connection is not READY
// within --dial-timeout (or fails to connect) is passed over for the next one, round the list, with a short
// backoff between rounds, until the call's deadline (--command-timeout). A call that fails with UNAVAILABLE
// moves on too when it is safe to send again: reads, or any call the server never received (no
// connection). Errors are converted as clientv3 converts them (errors.ts).
//
// Auth: with --user, Authenticate runs first (bounded by --dial-timeout) and every call carries the token
// as `token` metadata; a call refused with "invalid auth token" re-authenticates once and is sent again.
// "authentication is not enabled" means no token, as clientv3 treats it.

import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { AuthService } from "../../api/gen/etcdserverpb/rpc.js";
import { deadlineError, fromGrpc, RpcError } from "./errors.js";

export interface TlsOptions {
  cert?: string;
  key?: string;
  cacert?: string;
  /** Server name to verify (--discovery-srv domain). */
  serverName?: string;
  insecureSkipVerify: boolean;
}

export interface ConnConfig {
  endpoints: string[];
  dialTimeoutMs: number;
  keepAliveTimeMs: number;
  keepAliveTimeoutMs: number;
  /** TLS for endpoints without a scheme (set when a TLS flag is given or --insecure-transport=false). */
  tls: TlsOptions | undefined;
  auth?: { username: string; password: string };
}

/** A streaming method of a generated service definition (e.g. `WatchService.watch`). */
export interface StreamDef<Req, Res> extends MethodDef<Req, Res> {
  responseStream: true;
}

/** A method of a generated service definition (e.g. `KVService.range`): its path and codecs. */
export interface MethodDef<Req, Res> {
  path: string;
  requestSerialize: (value: Req) => Buffer;
  responseDeserialize: (value: Buffer) => Res;
}

export interface CallOpts {
  /** Absolute deadline (ms since epoch); undefined waits as long as it takes. */
  deadline: number | undefined;
  /** Safe to send again after UNAVAILABLE (reads). */
  idempotent?: boolean;
  /** Send to this endpoint only (maintenance calls addressed to one member), waiting for it to be ready. */
  endpoint?: string;
}

/** clientv3's endpoint interpretation: gRPC target and whether TLS is required, forbidden or optional. */
export function interpretEndpoint(ep: string): { target: string; creds: "drop" | "require" | "optional" } {
  if (ep.startsWith("unix:") || ep.startsWith("unixs:")) {
    const secure = ep.startsWith("unixs:") ? "require" : "drop";
    if (ep.startsWith("unix:///") || ep.startsWith("unixs:///"))
      return { target: `unix://${ep.slice(ep.indexOf("://") + 3)}`, creds: secure };
    if (ep.includes("://")) return { target: `unix:${ep.slice(ep.indexOf("://") + 3)}`, creds: secure };
    return { target: `unix:${ep.slice(ep.indexOf(":") + 1)}`, creds: secure };
  }
  const m = /^(https?):\/\/([^/?#]*)/.exec(ep);
  if (m) return { target: m[2]!, creds: m[1] === "https" ? "require" : "drop" };
  return { target: ep, creds: "optional" };
}

class Endpoint {
  readonly channel: grpc.Channel;
  readonly client: grpc.Client;

  constructor(
    readonly name: string,
    target: string,
    creds: grpc.ChannelCredentials,
    options: grpc.ChannelOptions,
  ) {
    this.channel = new grpc.Channel(target, creds, options);
    this.client = new grpc.Client(target, creds, { ...options, channelOverride: this.channel });
  }

  close(): void {
    this.client.close();
    this.channel.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A never-sent failure: the call found no connection, so sending it again cannot apply it twice. */
function neverSent(e: grpc.ServiceError): boolean {
  return (
    e.code === grpc.status.UNAVAILABLE &&
    /No connection established|ECONNREFUSED|failed to connect|Name resolution/i.test(e.details ?? "")
  );
}

export class Conn {
  private readonly eps: Endpoint[];
  private readonly extra = new Map<string, Endpoint>();
  private cur = 0;
  private token: string | undefined;
  private closed = false;

  constructor(readonly cfg: ConnConfig) {
    grpc.setLogVerbosity(grpc.logVerbosity.NONE);
    // grpc-js sets the TLS server name to the endpoint's host even when it is an IP literal, and node
    // then prints a DEP0123 deprecation warning on stderr, which etcdctl's output must not carry.
    process.noDeprecation = true;
    this.eps = cfg.endpoints.map((e) => this.makeEndpoint(e));
  }

  endpoints(): string[] {
    return [...this.cfg.endpoints];
  }

  private channelCredentials(creds: "drop" | "require" | "optional"): grpc.ChannelCredentials {
    const tls = this.cfg.tls;
    if (creds === "drop" || (creds === "optional" && tls === undefined))
      return grpc.credentials.createInsecure();
    const t = tls ?? { insecureSkipVerify: false };
    const read = (p: string | undefined) => (p ? readFileSync(p) : null);
    const verify: grpc.VerifyOptions = {};
    if (t.insecureSkipVerify) {
      verify.rejectUnauthorized = false;
      verify.checkServerIdentity = () => undefined;
    }
    return grpc.credentials.createSsl(read(t.cacert), read(t.key), read(t.cert), verify);
  }

  private makeEndpoint(ep: string): Endpoint {
    const { target, creds } = interpretEndpoint(ep);
    // grpc-go raises a client keepalive time under 10 s to 10 s; etcdctl's 2 s default is effectively 10 s.
    const options: grpc.ChannelOptions = {
      "grpc.keepalive_time_ms": Math.max(this.cfg.keepAliveTimeMs, 10_000),
      "grpc.keepalive_timeout_ms": this.cfg.keepAliveTimeoutMs,
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
      "grpc.max_receive_message_length": 2 ** 31 - 1,
      "grpc.max_send_message_length": 2 * 1024 * 1024,
    };
    if (this.cfg.tls?.serverName) options["grpc.ssl_target_name_override"] = this.cfg.tls.serverName;
    return new Endpoint(ep, target, this.channelCredentials(creds), options);
  }

  /** Authenticates when --user was given (clientv3 does it when the client is created). */
  async authenticate(): Promise<void> {
    const a = this.cfg.auth;
    if (a === undefined || a.username === "" || a.password === "") return;
    try {
      const res = await this.unary(
        AuthService.authenticate,
        { name: a.username, password: a.password },
        { deadline: Date.now() + this.cfg.dialTimeoutMs, idempotent: true },
        false,
      );
      this.token = res.token;
    } catch (e) {
      if (e instanceof RpcError && e.is("etcdserver: authentication is not enabled")) {
        this.token = undefined;
        return;
      }
      throw e;
    }
  }

  /** Call metadata: the auth token, and `extra` pairs. */
  metadata(extra: Record<string, string> = {}, waitForReady = false): grpc.Metadata {
    const md = new grpc.Metadata({ waitForReady });
    if (this.token) md.set("token", this.token);
    for (const [k, v] of Object.entries(extra)) md.set(k, v);
    return md;
  }

  private endpointNamed(name: string): Endpoint {
    const known = this.eps.find((e) => e.name === name) ?? this.extra.get(name);
    if (known) return known;
    const ep = this.makeEndpoint(name);
    this.extra.set(name, ep);
    return ep;
  }

  /**
   * Waits until `ep` is connected; false if it fails to connect or is not connected by `deadline`.
   */
  private async ready(ep: Endpoint, deadline: number): Promise<boolean> {
    const C = grpc.connectivityState;
    for (;;) {
      const st = ep.channel.getConnectivityState(true);
      if (st === C.READY) return true;
      if (st === C.TRANSIENT_FAILURE || st === C.SHUTDOWN) return false;
      if (Date.now() >= deadline) return false;
      const changed = await new Promise<boolean>((resolve) =>
        ep.channel.watchConnectivityState(st, deadline, (err) => resolve(err === undefined)),
      );
      if (!changed) return false;
    }
  }

  /**
   * An endpoint ready for a new call or stream, trying them in turn from the last good one; undefined once
   * `deadline` passes.
   */
  async pick(deadline: number | undefined): Promise<Endpoint | undefined> {
    let backoff = 50;
    for (;;) {
      for (let k = 0; k < this.eps.length; k++) {
        if (this.closed) return undefined;
        const i = (this.cur + k) % this.eps.length;
        const until = Math.min(deadline ?? Number.POSITIVE_INFINITY, Date.now() + this.cfg.dialTimeoutMs);
        if (await this.ready(this.eps[i]!, until)) {
          this.cur = i;
          return this.eps[i];
        }
      }
      const left = (deadline ?? Number.POSITIVE_INFINITY) - Date.now();
      if (left <= 0 || this.closed) return undefined;
      await sleep(Math.min(backoff, left));
      backoff = Math.min(backoff * 2, 1000);
    }
  }

  /** Passes over the current endpoint: the next pick starts after it. */
  skip(ep: Endpoint): void {
    const i = this.eps.indexOf(ep);
    if (i >= 0 && i === this.cur) this.cur = (i + 1) % this.eps.length;
  }

  private invokeOn<Req, Res>(
    ep: Endpoint,
    def: MethodDef<Req, Res>,
    req: Req,
    deadline: number | undefined,
    waitForReady: boolean,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      const opts: grpc.CallOptions = {};
      if (deadline !== undefined) opts.deadline = deadline;
      ep.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        req,
        this.metadata({}, waitForReady),
        opts,
        (err, res) => (err ? reject(err) : resolve(res as Res)),
      );
    });
  }

  /** One unary call with fail-over (see the file comment); rejects with an RpcError. */
  async unary<Req, Res>(def: MethodDef<Req, Res>, req: Req, o: CallOpts, retryAuth = true): Promise<Res> {
    if (o.endpoint !== undefined) {
      try {
        return await this.invokeOn(this.endpointNamed(o.endpoint), def, req, o.deadline, true);
      } catch (e) {
        const re = fromGrpc(e);
        if (retryAuth && this.cfg.auth && re.is("etcdserver: invalid auth token")) {
          await this.authenticate();
          return this.unary(def, req, o, false);
        }
        throw re;
      }
    }
    for (;;) {
      const ep = await this.pick(o.deadline);
      if (ep === undefined) throw deadlineError();
      try {
        return await this.invokeOn(ep, def, req, o.deadline, false);
      } catch (e) {
        const ge = e as grpc.ServiceError;
        if (ge.code === grpc.status.UNAVAILABLE && (o.idempotent || neverSent(ge))) {
          this.skip(ep);
          if (o.deadline !== undefined && Date.now() >= o.deadline) throw deadlineError();
          continue;
        }
        const re = fromGrpc(e);
        if (retryAuth && this.cfg.auth && re.is("etcdserver: invalid auth token")) {
          await this.authenticate();
          return this.unary(def, req, o, false);
        }
        throw re;
      }
    }
  }

  /** A bidirectional stream on a ready endpoint; undefined once `deadline` passes. */
  async bidi<Req, Res>(
    def: StreamDef<Req, Res>,
    deadline: number | undefined,
    extra: Record<string, string> = {},
  ): Promise<grpc.ClientDuplexStream<Req, Res> | undefined> {
    const ep = await this.pick(deadline);
    if (ep === undefined) return undefined;
    return ep.client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      this.metadata(extra),
      {},
    );
  }

  /** A server stream on a ready endpoint (or the named one); undefined once `deadline` passes. */
  async serverStream<Req, Res>(
    def: StreamDef<Req, Res>,
    req: Req,
    deadline: number | undefined,
    endpoint?: string,
  ): Promise<grpc.ClientReadableStream<Res> | undefined> {
    const ep = endpoint !== undefined ? this.endpointNamed(endpoint) : await this.pick(deadline);
    if (ep === undefined) return undefined;
    const opts: grpc.CallOptions = {};
    if (deadline !== undefined) opts.deadline = deadline;
    return ep.client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      req,
      this.metadata({}, endpoint !== undefined),
      opts,
    );
  }

  close(): void {
    this.closed = true;
    for (const e of this.eps) e.close();
    for (const e of this.extra.values()) e.close();
  }
}
