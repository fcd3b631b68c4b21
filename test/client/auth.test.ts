// Authentication against a small fake server (etcd-ts's server answers Auth with UNIMPLEMENTED for now):
// the client authenticates before its first request, sends the token as `token` metadata, and on
// "etcdserver: invalid auth token" authenticates again and repeats the request once, reads and writes.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import {
  type AuthenticateRequest,
  type AuthenticateResponse,
  AuthService,
  KVService,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
} from "../../src/api/gen/etcdserverpb/rpc.js";
import { Client, EtcdAuthFailedError, EtcdInvalidAuthTokenError } from "../../src/client/index.js";

const HEADER = { clusterId: 1n, memberId: 2n, revision: 3n, raftTerm: 4n };

class FakeAuthServer {
  server = new Server();
  valid = new Set<string>();
  authCalls = 0;
  rangeTokens: string[] = [];
  puts = 0;
  port = 0;

  tokenOf(md: Metadata): string {
    return String(md.get("token")[0] ?? "");
  }

  checkToken(md: Metadata): { code: number; details: string } | undefined {
    const t = this.tokenOf(md);
    return this.valid.has(t)
      ? undefined
      : { code: status.UNAUTHENTICATED, details: "etcdserver: invalid auth token" };
  }

  async start(): Promise<void> {
    this.server.addService(AuthService, {
      authenticate: (
        call: ServerUnaryCall<AuthenticateRequest, AuthenticateResponse>,
        cb: sendUnaryData<AuthenticateResponse>,
      ) => {
        this.authCalls++;
        if (call.request.name !== "root" || call.request.password !== "secret") {
          cb({
            code: status.INVALID_ARGUMENT,
            details: "etcdserver: authentication failed, invalid user ID or password",
          });
          return;
        }
        const token = `tok${this.authCalls}`;
        this.valid.add(token);
        cb(null, { header: HEADER, token });
      },
    });
    this.server.addService(KVService, {
      range: (call: ServerUnaryCall<RangeRequest, RangeResponse>, cb: sendUnaryData<RangeResponse>) => {
        this.rangeTokens.push(this.tokenOf(call.metadata));
        const bad = this.checkToken(call.metadata);
        if (bad) cb(bad);
        else cb(null, { header: HEADER, kvs: [], more: false, count: 0n });
      },
      put: (call: ServerUnaryCall<PutRequest, PutResponse>, cb: sendUnaryData<PutResponse>) => {
        const bad = this.checkToken(call.metadata);
        if (bad) {
          cb(bad);
          return;
        }
        this.puts++;
        cb(null, { header: HEADER, prevKv: undefined });
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.tryShutdown(() => r()));
  }
}

let fake: FakeAuthServer;

describe("client authentication", () => {
  before(async () => {
    fake = new FakeAuthServer();
    await fake.start();
  });
  after(() => fake.stop());

  test("authenticates once, sends the token, refreshes an invalid token and repeats the request", async () => {
    const c = new Client({
      endpoints: [`127.0.0.1:${fake.port}`],
      auth: { username: "root", password: "secret" },
    });
    try {
      await c.get("a");
      await c.get("b");
      assert.equal(fake.authCalls, 1);
      assert.deepEqual(fake.rangeTokens, ["tok1", "tok1"]);
      // The server forgets the token (a restarted member, an expired simple token).
      fake.valid.clear();
      await c.get("c");
      assert.equal(fake.authCalls, 2);
      assert.deepEqual(fake.rangeTokens.slice(2), ["tok1", "tok2"]);
      // Writes too: refused before execution, so repeating is safe.
      fake.valid.clear();
      await c.put("k", "v");
      assert.equal(fake.authCalls, 3);
      assert.equal(fake.puts, 1);
      // Concurrent requests share one re-authentication.
      fake.valid.clear();
      await Promise.all([c.get("x"), c.get("y"), c.get("z")]);
      assert.equal(fake.authCalls, 4);
    } finally {
      c.close();
    }
  });

  test("wrong credentials are EtcdAuthFailedError; without credentials an invalid token is reported", async () => {
    const c = new Client({
      endpoints: [`127.0.0.1:${fake.port}`],
      auth: { username: "root", password: "wrong" },
    });
    try {
      await assert.rejects(c.get("a"), EtcdAuthFailedError);
    } finally {
      c.close();
    }
    const noAuth = new Client({ endpoints: [`127.0.0.1:${fake.port}`] });
    try {
      await assert.rejects(noAuth.get("a"), EtcdInvalidAuthTokenError);
      assert.equal(await noAuth.auth.authenticate("root", "secret").then((t) => t.startsWith("tok")), true);
    } finally {
      noAuth.close();
    }
  });
});
