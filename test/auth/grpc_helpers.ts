// Raw gRPC calls for the auth end-to-end tests: authenticate at one member, then use the token (metadata
// "token", as clientv3 sends it) at any member, with no client library re-authenticating behind our back.

import * as grpc from "@grpc/grpc-js";
import * as pb from "../../src/api/gen/etcdserverpb/rpc.js";

/** A call's outcome: the response, or the gRPC status code and message. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: number; message: string };

function call<T>(fn: (cb: (err: grpc.ServiceError | null, res?: T) => void) => void): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    fn((err, res) => {
      if (err) resolve({ ok: false, code: err.code, message: err.details });
      else resolve({ ok: true, value: res as T });
    });
  });
}

export class EtcdGrpc {
  private readonly kv: pb.KVClient;
  private readonly auth: pb.AuthClient;

  /** `endpoint`: host:port of a member's client URL; `creds`: TLS ones for an https:// URL. */
  constructor(endpoint: string, creds: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.kv = new pb.KVClient(endpoint, creds);
    this.auth = new pb.AuthClient(endpoint, creds);
  }

  private static md(token?: string): grpc.Metadata {
    const md = new grpc.Metadata();
    if (token !== undefined) md.set("token", token);
    return md;
  }

  private static opts(): Partial<grpc.CallOptions> {
    return { deadline: Date.now() + 10_000 };
  }

  authenticate(name: string, password: string): Promise<Outcome<pb.AuthenticateResponse>> {
    return call((cb) => this.auth.authenticate({ name, password }, EtcdGrpc.md(), EtcdGrpc.opts(), cb));
  }

  /** Adds a user (with `noPassword`: one that only a client certificate can stand for). */
  userAdd(
    name: string,
    password: string,
    noPassword: boolean,
    token?: string,
  ): Promise<Outcome<pb.AuthUserAddResponse>> {
    const req = pb.AuthUserAddRequest.fromPartial({ name, password, options: { noPassword } });
    return call((cb) => this.auth.userAdd(req, EtcdGrpc.md(token), EtcdGrpc.opts(), cb));
  }

  userGrantRole(user: string, role: string, token?: string): Promise<Outcome<pb.AuthUserGrantRoleResponse>> {
    return call((cb) => this.auth.userGrantRole({ user, role }, EtcdGrpc.md(token), EtcdGrpc.opts(), cb));
  }

  /** The token, or throws with the server's message. */
  async token(name: string, password: string): Promise<string> {
    const r = await this.authenticate(name, password);
    if (!r.ok) throw new Error(`authenticate ${name}: ${r.message}`);
    return r.value.token;
  }

  /** The value of `key` (undefined if absent), read with `token`. */
  async get(key: string, token?: string): Promise<Outcome<string | undefined>> {
    const req = pb.RangeRequest.fromPartial({ key: Buffer.from(key) });
    const r = await call<pb.RangeResponse>((cb) =>
      this.kv.range(req, EtcdGrpc.md(token), EtcdGrpc.opts(), cb),
    );
    if (!r.ok) return r;
    const kv = r.value.kvs[0];
    return { ok: true, value: kv === undefined ? undefined : Buffer.from(kv.value).toString() };
  }

  put(key: string, value: string, token?: string): Promise<Outcome<pb.PutResponse>> {
    const req = pb.PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(value) });
    return call((cb) => this.kv.put(req, EtcdGrpc.md(token), EtcdGrpc.opts(), cb));
  }

  close(): void {
    this.kv.close();
    this.auth.close();
  }
}
