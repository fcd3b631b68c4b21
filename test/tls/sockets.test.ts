// TLS on real loopback sockets, in process: the client listener (gRPC and HTTP/1.1 on one https:// port,
// ALPN, an http:// URL beside it, the verified client certificate's CN as the API layer sees it, CRL and
// allowed-hostname refusals) and the TLS PeerNet (peer client-cert auth, allowed CNs, the client SAN
// check, server verification when dialing, peerFetch).

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { ClientListener } from "../../src/api/listener.js";
import { ClientTls, ServerTls } from "../../src/pkg/tls/context.js";
import { grpcCallCommonName, verifiedCommonName } from "../../src/pkg/tls/identity.js";
import { emptyTlsInfo, type TlsInfo } from "../../src/pkg/tls/info.js";
import { peerFetch } from "../../src/pkg/tls/peer_fetch.js";
import { TlsPeerNet } from "../../src/transport/net.js";
import { type Ca, type CertFiles, TestPki } from "./pki.js";

let dir = "";
let pki: TestPki;
let ca: Ca;
let other: Ca;
let server: CertFiles;
let alice: CertFiles;
let revoked: CertFiles;
let crlFile = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tls-sockets-"));
  pki = new TestPki(join(dir, "pki"));
  ca = pki.ca("ca");
  other = pki.ca("other");
  server = pki.issue(ca, { cn: "server", ips: ["127.0.0.1"] });
  alice = pki.issue(ca, { cn: "alice", file: "alice" });
  revoked = pki.issue(ca, { cn: "mallory", file: "mallory" });
  crlFile = pki.revoke(ca, revoked);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const info = (o: Partial<TlsInfo>): TlsInfo => ({ ...emptyTlsInfo(), ...o });
const pem = (p: string) => readFileSync(p);

// A one-method gRPC service answering the caller's verified CN.
const WHO = {
  path: "/test.Who/Name",
  requestStream: false,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

function grpcWho(target: string, creds: grpc.ChannelCredentials): Promise<string> {
  const client = new grpc.Client(target, creds);
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      WHO.path,
      WHO.requestSerialize,
      WHO.responseDeserialize,
      Buffer.alloc(0),
      { deadline: Date.now() + 3000 },
      (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(res!.toString());
      },
    );
  });
}

function get(
  url: string,
  opts: https.RequestOptions & { ALPNProtocols?: string[] } = {},
): Promise<{ status: number; body: string; alpn: string | false | null | undefined }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith("https:") ? https : http;
    const req = mod.get(url, { agent: false, timeout: 3000, ...opts }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body, alpn: (res.socket as tls.TLSSocket).alpnProtocol }),
      );
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

describe("client listener with TLS", () => {
  let listener: ClientListener;
  let grpcServer: grpc.Server;
  let httpsUrl = "";
  let httpUrl = "";

  before(async () => {
    grpcServer = new grpc.Server();
    grpcServer.addService(
      { Name: WHO },
      {
        Name: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
          cb(null, Buffer.from(grpcCallCommonName(call) ?? "<none>")),
      },
    );
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.end(verifiedCommonName(req.socket) ?? "<none>");
    };
    listener = await ClientListener.listen({
      urls: ["https://127.0.0.1:0", "http://127.0.0.1:0"],
      grpc: grpcServer,
      http: handler,
      tls: new ServerTls(
        info({
          certFile: server.certFile,
          keyFile: server.keyFile,
          trustedCaFile: ca.certFile,
          clientCertAuth: true,
          crlFile,
        }),
      ),
    });
    httpsUrl = listener.addresses[0]!.boundUrl;
    httpUrl = listener.addresses[1]!.boundUrl;
  });
  after(async () => {
    await listener.stop(0);
    grpcServer.forceShutdown();
  });

  test("gRPC over TLS (ALPN h2): the call sees the verified client certificate's CN", async () => {
    const creds = grpc.credentials.createSsl(pem(ca.certFile), pem(alice.keyFile), pem(alice.certFile));
    assert.equal(await grpcWho(new URL(httpsUrl).host, creds), "alice");
  });

  test("HTTP/1.1 over TLS on the same port: without ALPN, and when the client also offers h2", async () => {
    const base = { ca: pem(ca.certFile), cert: pem(alice.certFile), key: pem(alice.keyFile) };
    const plain = await get(`${httpsUrl}/who`, base);
    assert.equal(plain.body, "alice");
    const both = await get(`${httpsUrl}/who`, { ...base, ALPNProtocols: ["h2", "http/1.1"] });
    assert.equal(both.body, "alice");
    assert.equal(both.alpn, "http/1.1");
  });

  test("the http:// URL beside it: no TLS, no CN", async () => {
    assert.equal((await get(`${httpUrl}/who`)).body, "<none>");
    assert.equal(await grpcWho(new URL(httpUrl).host, grpc.credentials.createInsecure()), "<none>");
  });

  test("plain HTTP or an abrupt reset on the TLS port: closed, and the listener keeps serving", async () => {
    const { host, port } = new URL(httpsUrl);
    const closed = await new Promise<string>((resolve) => {
      const s = net.connect({ host: host.replace(/:\d+$/, ""), port: Number(port) }, () => {
        s.write("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");
      });
      let got = "";
      s.on("data", (d) => {
        got += d.toString("latin1");
      });
      s.on("error", () => {});
      s.on("close", () => resolve(got));
    });
    assert.doesNotMatch(closed, /alice|<none>/);
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port: Number(port) }, () => {
        s.resetAndDestroy();
        resolve();
      });
    });
    const base = { ca: pem(ca.certFile), cert: pem(alice.certFile), key: pem(alice.keyFile) };
    assert.equal((await get(`${httpsUrl}/who`, base)).body, "alice");
  });

  test("refused: no certificate, another CA's, a revoked one", async () => {
    const foreign = pki.issue(other, { cn: "alice", file: "foreign-alice" });
    for (const cert of [undefined, foreign, revoked]) {
      await assert.rejects(
        get(`${httpsUrl}/who`, {
          ca: pem(ca.certFile),
          cert: cert ? pem(cert.certFile) : undefined,
          key: cert ? pem(cert.keyFile) : undefined,
        }),
        `${cert?.certFile ?? "no certificate"} was accepted`,
      );
    }
    const creds = grpc.credentials.createSsl(pem(ca.certFile), pem(revoked.keyFile), pem(revoked.certFile));
    await assert.rejects(grpcWho(new URL(httpsUrl).host, creds));
  });
});

describe("client listener: --client-cert-allowed-hostname", () => {
  test("a client certificate not valid for an allowed host name is refused", async () => {
    const named = pki.issue(ca, { cn: "svc", dns: ["svc.example"], file: "svc" });
    const l = await ClientListener.listen({
      urls: ["https://127.0.0.1:0"],
      grpc: new grpc.Server(),
      http: (_req, res) => res.end("ok"),
      tls: new ServerTls(
        info({
          certFile: server.certFile,
          keyFile: server.keyFile,
          trustedCaFile: ca.certFile,
          clientCertAuth: true,
          allowedHostnames: ["svc.example"],
        }),
      ),
    });
    try {
      const url = l.addresses[0]!.boundUrl;
      const ok = await get(url, { ca: pem(ca.certFile), cert: pem(named.certFile), key: pem(named.keyFile) });
      assert.equal(ok.body, "ok");
      await assert.rejects(
        get(url, { ca: pem(ca.certFile), cert: pem(alice.certFile), key: pem(alice.keyFile) }),
      );
    } finally {
      await l.stop(0);
    }
  });

  test("an https:// URL without TLS settings is refused at listen", async () => {
    await assert.rejects(
      ClientListener.listen({ urls: ["https://127.0.0.1:0"], grpc: new grpc.Server(), http: () => {} }),
      /TLS key\/cert \(--cert-file, --key-file\) must be provided/,
    );
  });
});

describe("--cipher-suites and --tls-min/max-version", () => {
  async function listen(o: Partial<TlsInfo>): Promise<{ port: number; stop: () => Promise<void> }> {
    const l = await ClientListener.listen({
      urls: ["https://127.0.0.1:0"],
      grpc: new grpc.Server(),
      http: (_req, res) => res.end("ok"),
      tls: new ServerTls(info({ certFile: server.certFile, keyFile: server.keyFile, ...o })),
    });
    return { port: l.addresses[0]!.port, stop: () => l.stop(0) };
  }
  const handshake = (port: number, o: tls.ConnectionOptions = {}) =>
    new Promise<{ cipher: string; protocol: string | null }>((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port, ca: pem(ca.certFile), ...o }, () => {
        resolve({ cipher: s.getCipher().name, protocol: s.getProtocol() });
        s.end();
      });
      s.on("error", reject);
    });

  test("only the listed TLS 1.2 suites are negotiated", async () => {
    const l = await listen({
      cipherSuites: ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
      maxVersion: "TLS1.2",
    });
    try {
      assert.deepEqual(await handshake(l.port), {
        cipher: "ECDHE-ECDSA-AES256-GCM-SHA384",
        protocol: "TLSv1.2",
      });
      await assert.rejects(handshake(l.port, { ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" }));
    } finally {
      await l.stop();
    }
  });

  test("TLS 1.3 only: a TLS 1.2 client is refused", async () => {
    const l = await listen({ minVersion: "TLS1.3" });
    try {
      assert.equal((await handshake(l.port)).protocol, "TLSv1.3");
      await assert.rejects(handshake(l.port, { maxVersion: "TLSv1.2" }));
    } finally {
      await l.stop();
    }
  });
});

describe("TLS PeerNet", () => {
  const peerInfo = (o: Partial<TlsInfo> = {}) =>
    info({
      certFile: server.certFile,
      keyFile: server.keyFile,
      trustedCaFile: ca.certFile,
      clientCertAuth: true,
      ...o,
    });

  /** Starts a peer server on 127.0.0.1:0 for `serverInfo`; returns its URL and a closer. */
  async function peerServer(serverInfo: TlsInfo): Promise<{ url: URL; close: () => Promise<void> }> {
    const net = new TlsPeerNet({ server: new ServerTls(serverInfo), client: new ClientTls(serverInfo) });
    const url = new URL("https://127.0.0.1:0");
    const s = net.createServer(url, (req, res) => {
      res.setHeader("X-Etcd-Cluster-ID", "abc");
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((r) => s.listen({ host: "127.0.0.1", port: 0 }, () => r()));
    url.port = String((s.address() as AddressInfo).port);
    return {
      url,
      close: async () => {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
        net.close();
      },
    };
  }

  function dial(url: URL, clientInfo: TlsInfo): Promise<number> {
    const net = new TlsPeerNet({ server: undefined, client: new ClientTls(clientInfo) });
    return new Promise<number>((resolve, reject) => {
      const req = net.request(url, { method: "GET", path: "/probe" }, false);
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    }).finally(() => net.close());
  }

  const m1 = () => pki.issue(ca, { cn: "m1", ips: ["127.0.0.1"], file: `m1-${Math.random()}` });

  test("client-cert auth and --peer-cert-allowed-cn", async () => {
    const srv = await peerServer(peerInfo({ allowedCns: ["m1"] }));
    try {
      const good = m1();
      assert.equal(await dial(srv.url, info({ ...good, trustedCaFile: ca.certFile })), 200);
      const intruder = pki.issue(ca, { cn: "intruder", ips: ["127.0.0.1"], file: "intruder" });
      await assert.rejects(dial(srv.url, info({ ...intruder, trustedCaFile: ca.certFile })));
      const foreign = pki.issue(other, { cn: "m1", ips: ["127.0.0.1"], file: "m1-other" });
      await assert.rejects(dial(srv.url, info({ ...foreign, trustedCaFile: ca.certFile })));
      await assert.rejects(dial(srv.url, info({ trustedCaFile: ca.certFile })));
    } finally {
      await srv.close();
    }
  });

  test("a client certificate's SANs must name the address it comes from (unless skipped)", async () => {
    const elsewhere = pki.issue(ca, { cn: "m2", ips: ["10.9.9.9"], file: "m2-elsewhere" });
    const strict = await peerServer(peerInfo());
    const lax = await peerServer(peerInfo({ skipClientSanVerify: true }));
    try {
      await assert.rejects(dial(strict.url, info({ ...elsewhere, trustedCaFile: ca.certFile })));
      assert.equal(await dial(lax.url, info({ ...elsewhere, trustedCaFile: ca.certFile })), 200);
    } finally {
      await strict.close();
      await lax.close();
    }
  });

  test("--peer-crl-file", async () => {
    const bad = m1();
    const crlCa = ca;
    const crl = pki.revoke(crlCa, bad, join(ca.dir, "peer-crl.pem"));
    const srv = await peerServer(peerInfo({ crlFile: crl }));
    try {
      await assert.rejects(dial(srv.url, info({ ...bad, trustedCaFile: ca.certFile })));
      assert.equal(await dial(srv.url, info({ ...m1(), trustedCaFile: ca.certFile })), 200);
    } finally {
      await srv.close();
    }
  });

  test("the dialer verifies the server against --peer-trusted-ca-file (and not with auto TLS)", async () => {
    const srv = await peerServer(peerInfo({ clientCertAuth: false, trustedCaFile: "" }));
    try {
      const mine = m1();
      assert.equal(await dial(srv.url, info({ ...mine, trustedCaFile: ca.certFile })), 200);
      await assert.rejects(dial(srv.url, info({ ...mine, trustedCaFile: other.certFile })));
      assert.equal(
        await dial(srv.url, info({ ...mine, trustedCaFile: other.certFile, selfCert: true })),
        200,
      );
    } finally {
      await srv.close();
    }
  });

  test("peerFetch: https with the peer certificate, fetch()-like answers", async () => {
    const srv = await peerServer(peerInfo());
    try {
      const res = await peerFetch(
        new URL("/members", srv.url).href,
        { signal: AbortSignal.timeout(3000) },
        info({ ...m1(), trustedCaFile: ca.certFile }),
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("X-Etcd-Cluster-ID"), "abc");
      assert.deepEqual(await res.json(), { path: "/members" });
      await assert.rejects(
        peerFetch(new URL("/members", srv.url).href, {}, info({ trustedCaFile: ca.certFile })),
      );
    } finally {
      await srv.close();
    }
  });

  test("rotation: the peer port serves replaced certificate files to new connections", async () => {
    const live = { certFile: join(dir, "live.pem"), keyFile: join(dir, "live-key.pem") };
    copyFileSync(server.certFile, live.certFile);
    copyFileSync(server.keyFile, live.keyFile);
    const srv = await peerServer(peerInfo({ ...live, clientCertAuth: false, trustedCaFile: "" }));
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: Number(srv.url.port), ca: pem(ca.certFile) }, () => {
          resolve(s.getPeerCertificate().serialNumber);
          s.end();
        });
        s.on("error", reject);
      });
    try {
      const before = await serial();
      const next = pki.issue(ca, { cn: "server-next", ips: ["127.0.0.1"], file: "server-next" });
      copyFileSync(next.keyFile, live.keyFile);
      copyFileSync(next.certFile, live.certFile);
      const afterRotation = await serial();
      assert.notEqual(afterRotation, before);
      assert.equal(afterRotation, new X509Certificate(pem(next.certFile)).serialNumber);
    } finally {
      await srv.close();
    }
  });
});
