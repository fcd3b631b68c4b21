// TLS end to end on bin/etcd processes, with certificates made by the openssl CLI (test/tls/pki.ts):
// a 3-member cluster with peer and client TLS, client-certificate auth, a client CRL and allowed peer CNs,
// driven by the real etcdctl 3.4; refusals (no client certificate, another CA's, an expired or revoked
// one); an http:// client URL beside the https:// one; certificate rotation without restart; a member
// whose peer certificate comes from another CA cannot join; bad certificate input stops the start; and
// --auto-tls / --peer-auto-tls.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { Client } from "../../src/client/index.js";
import { type Ca, type CertFiles, TestPki } from "../tls/pki.js";
import {
  type CtlResult,
  etcdctl,
  freePorts,
  Member,
  makeTempDir,
  ROOT,
  removeTempDir,
  skipWithoutEtcdctl,
  until,
} from "./cluster.js";

interface Layout {
  name: string;
  peer: string;
  client: string;
  /** member 0 also listens on a plain http:// client URL */
  plain?: string;
}

/** GET over TLS with the given client certificate; resolves status and body, rejects on a refused handshake. */
function httpsGet(url: string, ca: string, cert?: CertFiles): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ca: readFileSync(ca),
        cert: cert ? readFileSync(cert.certFile) : undefined,
        key: cert ? readFileSync(cert.keyFile) : undefined,
        agent: false,
        timeout: 2000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** The certificate a TLS port presents to a new connection (serial number, upper-case hex). */
function servedSerial(port: number, ca: string, cert: CertFiles): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: "127.0.0.1",
        port,
        ca: readFileSync(ca),
        cert: readFileSync(cert.certFile),
        key: readFileSync(cert.keyFile),
      },
      () => {
        const serial = s.getPeerCertificate().serialNumber;
        s.end();
        resolve(serial);
      },
    );
    s.on("error", reject);
  });
}

function serialOfFile(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).serialNumber;
}

/** Waits until `m` answers /health with health true over TLS; fails early if it exits. */
async function waitHealthy(m: Member, url: string, ca: string, cert: CertFiles): Promise<void> {
  await until(
    async () => {
      if (!m.running()) throw new Error(`${m.name} exited\n${m.logTail()}`);
      const r = await httpsGet(`${url}/health`, ca, cert).catch(() => undefined);
      return r?.status === 200 && JSON.parse(r.body).health === "true" ? true : undefined;
    },
    `${m.name} healthy`,
    20_000,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${m.logTail()}`);
  });
}

const fastFlags = ["--dial-timeout=1s", "--command-timeout=2s"];

describe("TLS cluster (peer + client TLS, client-cert-auth)", { skip: skipWithoutEtcdctl }, () => {
  let dir = "";
  let pki: TestPki;
  let ca: Ca;
  let other: Ca;
  let client: CertFiles; // CN=root, from ca
  let revoked: CertFiles;
  let crlFile = "";
  const memberCerts: CertFiles[] = [];
  const layout: Layout[] = [];
  const members: Member[] = [];
  let token = "";

  /** etcdctl with `cert` (or none) against `endpoints` (https). */
  const ctl = (args: string[], cert: CertFiles | undefined, endpoints?: string[]): Promise<CtlResult> =>
    etcdctl(
      [
        `--cacert=${ca.certFile}`,
        ...(cert ? [`--cert=${cert.certFile}`, `--key=${cert.keyFile}`] : []),
        ...args,
      ],
      { endpoints: endpoints ?? layout.map((l) => l.client) },
    );

  const ok = async (args: string[], endpoints?: string[]): Promise<string> => {
    const r = await ctl(args, client, endpoints);
    assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  /** The flags of member `i` (its own certificate for both ports; the member's files are copies). */
  function flags(
    i: number,
    peerCert: CertFiles,
    initialCluster: string,
    state: "new" | "existing",
  ): string[] {
    const l = layout[i]!;
    const own = join(dir, l.name);
    copyFileSync(memberCerts[i]!.certFile, `${own}-client.pem`);
    copyFileSync(memberCerts[i]!.keyFile, `${own}-client-key.pem`);
    return [
      `--name=${l.name}`,
      `--data-dir=${own}.etcd`,
      `--listen-peer-urls=${l.peer}`,
      `--initial-advertise-peer-urls=${l.peer}`,
      `--listen-client-urls=${[l.client, ...(l.plain ? [l.plain] : [])].join(",")}`,
      `--advertise-client-urls=${l.client}`,
      `--initial-cluster-token=${token}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${state}`,
      `--cert-file=${own}-client.pem`,
      `--key-file=${own}-client-key.pem`,
      `--trusted-ca-file=${ca.certFile}`,
      "--client-cert-auth",
      `--client-crl-file=${crlFile}`,
      `--peer-cert-file=${peerCert.certFile}`,
      `--peer-key-file=${peerCert.keyFile}`,
      `--peer-trusted-ca-file=${ca.certFile}`,
      "--peer-client-cert-auth",
      "--peer-cert-allowed-cn=m0,m1,m2,m3",
    ];
  }

  before(async () => {
    dir = makeTempDir("etcd-e2e-tls-");
    token = `tls-${process.pid}-${Date.now()}`;
    pki = new TestPki(join(dir, "pki"));
    ca = pki.ca("ca");
    other = pki.ca("other");
    client = pki.issue(ca, { cn: "root", file: "client" });
    revoked = pki.issue(ca, { cn: "root", file: "revoked" });
    crlFile = pki.revoke(ca, revoked);
    for (let i = 0; i < 4; i++) {
      memberCerts.push(pki.issue(ca, { cn: `m${i}`, ips: ["127.0.0.1"], dns: ["localhost"] }));
    }
    const ports = await freePorts(9);
    for (let i = 0; i < 4; i++) {
      layout.push({
        name: `m${i}`,
        peer: `https://127.0.0.1:${ports[2 * i]}`,
        client: `https://127.0.0.1:${ports[2 * i + 1]}`,
      });
    }
    layout[0]!.plain = `http://127.0.0.1:${ports[8]}`;
    const initial = layout
      .slice(0, 3)
      .map((l) => `${l.name}=${l.peer}`)
      .join(",");
    for (let i = 0; i < 3; i++) {
      const m = new Member({
        name: layout[i]!.name,
        args: flags(i, memberCerts[i]!, initial, "new"),
        cwd: dir,
        clientUrl: layout[i]!.client,
        logPath: join(dir, `m${i}.log`),
      });
      members.push(m);
      m.start();
    }
    await Promise.all(members.map((m, i) => waitHealthy(m, layout[i]!.client, ca.certFile, client)));
    layout.splice(3); // m3 joins later
  });

  after(async () => {
    await Promise.all(members.filter((m) => m.running()).map((m) => m.kill("SIGKILL")));
    if (dir) removeTempDir(dir);
  });

  test("etcdctl 3.4 with the CA and a client certificate: put/get, member list, endpoint health", async () => {
    assert.equal((await ok(["put", "tls-key", "v1"])).trim(), "OK");
    assert.equal(await ok(["get", "tls-key", "--print-value-only"]), "v1\n");
    const list = await ok(["member", "list"]);
    for (const l of layout) assert.ok(list.includes(`${l.name}, ${l.peer}, ${l.client}`), list);
    const health = await ctl(["endpoint", "health"], client);
    assert.equal(health.code, 0, health.stderr);
    for (const l of layout) assert.match(health.stdout + health.stderr, new RegExp(`${l.client} is healthy`));
  });

  test("refused: no client certificate, another CA's, an expired one, a revoked one", async () => {
    const foreign = pki.issue(other, { cn: "root", file: "foreign" });
    const expired = pki.issue(ca, {
      cn: "root",
      file: "expired",
      dates: ["20200101000000Z", "20200102000000Z"],
    });
    const one = [layout[0]!.client];
    const results = await Promise.all(
      [undefined, foreign, expired, revoked].map((cert) => ctl([...fastFlags, "get", "tls-key"], cert, one)),
    );
    for (const [i, r] of results.entries()) {
      assert.notEqual(r.code, 0, `case ${i} was not refused: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /v1/);
    }
    // The good certificate still works on the same endpoint.
    assert.equal(await ok(["get", "tls-key", "--print-value-only"], one), "v1\n");
    // The member logged why (etcd's "rejected connection" lines).
    const log = members[0]!.log();
    assert.match(log, /rejected connection/);
    assert.match(log, /certificate serial [0-9a-f]+ revoked/);
  });

  test("an http:// client URL beside the https:// one serves without TLS", async () => {
    const r = await etcdctl(["get", "tls-key", "--print-value-only"], { endpoints: [layout[0]!.plain!] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "v1\n");
    // And the https:// one answers HTTP/1.1 requests (curl-like) with a client certificate only.
    const h = await httpsGet(`${layout[0]!.client}/version`, ca.certFile, client);
    assert.equal(h.status, 200);
    assert.match(h.body, /"etcdserver"/);
    await assert.rejects(httpsGet(`${layout[0]!.client}/version`, ca.certFile));
  });

  test("bin/etcdctl with --cacert/--cert/--key, --insecure-skip-tls-verify; refused without a certificate", async () => {
    const ours = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(ROOT, "bin", "etcdctl"), `--endpoints=${layout[2]!.client}`, ...args],
          { timeout: 20_000 },
          (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const certs = [`--cert=${client.certFile}`, `--key=${client.keyFile}`];
    const put = await ours([`--cacert=${ca.certFile}`, ...certs, "put", "ours", "tls"]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout, "OK\n");
    assert.equal(put.stderr, "");
    const skip = await ours(["--insecure-skip-tls-verify", ...certs, "get", "ours", "--print-value-only"]);
    assert.equal(skip.stdout, "tls\n", skip.stderr);
    const refused = await ours([`--cacert=${ca.certFile}`, ...fastFlags, "get", "ours"]);
    assert.notEqual(refused.code, 0);
  });

  test("the TypeScript client with TLS credentials", async () => {
    const c = new Client({
      endpoints: layout.map((l) => l.client),
      credentials: grpc.credentials.createSsl(
        readFileSync(ca.certFile),
        readFileSync(client.keyFile),
        readFileSync(client.certFile),
      ),
      requestTimeoutMs: 5000,
    });
    try {
      await c.put("tls-client", "from-ts");
      assert.equal((await c.getValue("tls-client"))?.toString(), "from-ts");
    } finally {
      c.close();
    }
  });

  test("rotation: replaced certificate files are served to new connections without a restart", async () => {
    const port = Number(new URL(layout[1]!.client).port);
    const before = await servedSerial(port, ca.certFile, client);
    assert.equal(before, serialOfFile(memberCerts[1]!.certFile));
    const fresh = pki.issue(ca, { cn: "m1", ips: ["127.0.0.1"], file: "m1-rotated" });
    const own = join(dir, "m1");
    // Key first: the pair on disk does not match until the certificate follows, so the old pair stays
    // in use (and new connections still work) meanwhile.
    copyFileSync(fresh.keyFile, `${own}-client-key.pem`);
    assert.equal(await servedSerial(port, ca.certFile, client), before);
    copyFileSync(fresh.certFile, `${own}-client.pem`);
    const after = await servedSerial(port, ca.certFile, client);
    assert.equal(after, serialOfFile(fresh.certFile));
    assert.notEqual(after, before);
    // Still serving requests, same process.
    assert.equal(members[1]!.starts, 1);
    assert.equal(await ok(["get", "tls-key", "--print-value-only"], [layout[1]!.client]), "v1\n");
  });

  test("a member whose peer certificate comes from another CA cannot join", async () => {
    const [pp, cp] = await freePorts(2);
    const l: Layout = { name: "m3", peer: `https://127.0.0.1:${pp}`, client: `https://127.0.0.1:${cp}` };
    layout.push(l);
    const add = await until(async () => {
      const r = await ctl(
        ["member", "add", "m3", `--peer-urls=${l.peer}`],
        client,
        layout.slice(0, 3).map((x) => x.client),
      );
      if (r.code === 0) return r.stdout;
      assert.match(r.stderr, /unhealthy cluster/);
      return undefined;
    }, "member add m3");
    const initial = /ETCD_INITIAL_CLUSTER="([^"]*)"/.exec(add)![1]!;
    const wrong = pki.issue(other, { cn: "m3", ips: ["127.0.0.1"], file: "m3-other" });
    const m = new Member({
      name: "m3",
      args: flags(3, wrong, initial, "existing"),
      cwd: dir,
      clientUrl: l.client,
      logPath: join(dir, "m3.log"),
    });
    members.push(m);
    m.start();
    const st = await m.exited();
    assert.equal(st.code, 1, m.logTail());
    assert.match(m.log(), /could not retrieve cluster information/);
    // The members turned its handshakes away.
    await until(
      () => (members.slice(0, 3).some((x) => /rejected connection/.test(x.log())) ? true : undefined),
      "a rejected connection logged",
    );
    // The cluster is unharmed.
    assert.equal(
      (
        await ok(
          ["put", "after-join", "ok"],
          layout.slice(0, 3).map((x) => x.client),
        )
      ).trim(),
      "OK",
    );
  });

  test("with a certificate from the cluster's CA, the same member joins over TLS and serves", async () => {
    const l = layout[3]!;
    rmSync(join(dir, "m3.etcd"), { recursive: true, force: true });
    const initial = [...layout.map((x) => `${x.name}=${x.peer}`)].join(",");
    const m = new Member({
      name: "m3",
      args: flags(3, memberCerts[3]!, initial, "existing"),
      cwd: dir,
      clientUrl: l.client,
      logPath: join(dir, "m3-good.log"),
    });
    members.push(m);
    m.start();
    await waitHealthy(m, l.client, ca.certFile, client);
    // It caught up over the peer stream and serves reads and writes.
    assert.equal(await ok(["get", "after-join", "--print-value-only"], [l.client]), "ok\n");
    assert.equal((await ok(["put", "from-m3", "yes"], [l.client])).trim(), "OK");
    const list = await ok(["member", "list"], [layout[0]!.client]);
    assert.ok(list.includes(`m3, ${l.peer}, ${l.client}`), list);
  });
});

describe("bad certificate input stops the start", () => {
  let dir = "";
  let pki: TestPki;
  let ca: Ca;
  before(() => {
    dir = makeTempDir("etcd-e2e-tlsbad-");
    pki = new TestPki(join(dir, "pki"));
    ca = pki.ca("ca");
  });
  after(() => {
    if (dir) removeTempDir(dir);
  });

  test("malformed certificate, malformed key, mismatched pair, missing file: exit 1 with a clear message", async () => {
    const a = pki.issue(ca, { cn: "a", ips: ["127.0.0.1"] });
    const b = pki.issue(ca, { cn: "b", ips: ["127.0.0.1"] });
    const garbage = join(dir, "garbage.pem");
    writeFileSync(garbage, "this is not a certificate\n");
    const cases: { flags: string[]; want: RegExp }[] = [
      {
        flags: [`--cert-file=${garbage}`, `--key-file=${a.keyFile}`],
        want: /client TLS: tls: failed to find any PEM data in certificate input/,
      },
      {
        flags: [`--cert-file=${a.certFile}`, `--key-file=${garbage}`],
        want: /client TLS: tls: failed to find any PEM data in key input/,
      },
      {
        flags: [`--peer-cert-file=${a.certFile}`, `--peer-key-file=${b.keyFile}`],
        want: /peer TLS: tls: private key does not match public key/,
      },
      {
        flags: [`--cert-file=${join(dir, "missing.pem")}`, `--key-file=${a.keyFile}`],
        want: /open \S*missing.pem: no such file or directory/,
      },
      {
        flags: [`--cert-file=${a.certFile}`, `--key-file=${a.keyFile}`, `--trusted-ca-file=${garbage}`],
        want: /no certificates found in CA file/,
      },
      {
        flags: [`--cert-file=${a.certFile}`, `--key-file=${a.keyFile}`, "--cipher-suites=TLS_NOPE"],
        want: /unexpected TLS cipher suite .{0,2}TLS_NOPE/,
      },
    ];
    const ports = await freePorts(2 * cases.length);
    await Promise.all(
      cases.map(async (c, i) => {
        const peer = `https://127.0.0.1:${ports[2 * i]}`;
        const cl = `https://127.0.0.1:${ports[2 * i + 1]}`;
        const isPeer = c.flags.some((f) => f.startsWith("--peer-"));
        const m = new Member({
          name: `bad${i}`,
          args: [
            `--name=bad${i}`,
            `--data-dir=${join(dir, `bad${i}.etcd`)}`,
            `--listen-peer-urls=${isPeer ? peer : peer.replace("https", "http")}`,
            `--initial-advertise-peer-urls=${isPeer ? peer : peer.replace("https", "http")}`,
            `--initial-cluster=bad${i}=${isPeer ? peer : peer.replace("https", "http")}`,
            `--listen-client-urls=${isPeer ? cl.replace("https", "http") : cl}`,
            `--advertise-client-urls=${isPeer ? cl.replace("https", "http") : cl}`,
            ...c.flags,
          ],
          cwd: dir,
          clientUrl: cl,
          logPath: join(dir, `bad${i}.log`),
        });
        m.start();
        const st = await m.exited();
        assert.equal(st.code, 1, `case ${i}: ${m.logTail()}`);
        assert.match(m.log(), c.want, `case ${i}`);
        assert.match(m.log(), /failed to start etcd/);
        // Nothing was created for the member.
        assert.ok(!existsSync(join(dir, `bad${i}.etcd`, "member")), `case ${i} left a member dir`);
      }),
    );
  });
});

// etcdctl 3.4 applies --insecure-skip-tls-verify only with --insecure-transport=false.
const skipVerify = ["--insecure-transport=false", "--insecure-skip-tls-verify"];

describe("--auto-tls and --peer-auto-tls", { skip: skipWithoutEtcdctl }, () => {
  let dir = "";
  const members: Member[] = [];
  const clients: string[] = [];
  after(async () => {
    await Promise.all(members.filter((m) => m.running()).map((m) => m.kill("SIGKILL")));
    if (dir) removeTempDir(dir);
  });

  test("a 2-member cluster on self-signed certificates: peers talk, etcdctl --insecure-skip-tls-verify works", async () => {
    dir = makeTempDir("etcd-e2e-autotls-");
    const ports = await freePorts(4);
    const peers = [0, 1].map((i) => `https://127.0.0.1:${ports[2 * i]}`);
    const initial = peers.map((p, i) => `a${i}=${p}`).join(",");
    for (let i = 0; i < 2; i++) {
      clients.push(`https://127.0.0.1:${ports[2 * i + 1]}`);
      const m = new Member({
        name: `a${i}`,
        args: [
          `--name=a${i}`,
          `--data-dir=${join(dir, `a${i}.etcd`)}`,
          `--listen-peer-urls=${peers[i]}`,
          `--initial-advertise-peer-urls=${peers[i]}`,
          `--initial-cluster=${initial}`,
          `--listen-client-urls=${clients[i]}`,
          `--advertise-client-urls=${clients[i]}`,
          "--auto-tls",
          "--peer-auto-tls",
        ],
        cwd: dir,
        clientUrl: clients[i]!,
        logPath: join(dir, `a${i}.log`),
      });
      members.push(m);
      m.start();
    }
    // Both must be up and connected for a write to commit (quorum of 2).
    const out = await until(async () => {
      for (const m of members) if (!m.running()) throw new Error(`${m.name} exited\n${m.logTail()}`);
      const r = await etcdctl([...skipVerify, ...fastFlags, "put", "auto", "tls"], {
        endpoints: clients,
      });
      return r.code === 0 ? r.stdout : undefined;
    }, "a write on the auto-TLS cluster");
    assert.equal(out.trim(), "OK");
    const r = await etcdctl([...skipVerify, "get", "auto", "--print-value-only"], {
      endpoints: [clients[1]!],
    });
    assert.equal(r.stdout, "tls\n");
    for (let i = 0; i < 2; i++) {
      for (const side of ["client", "peer"]) {
        assert.ok(existsSync(join(dir, `a${i}.etcd`, "fixtures", side, "cert.pem")), `a${i} ${side} cert`);
        assert.ok(existsSync(join(dir, `a${i}.etcd`, "fixtures", side, "key.pem")), `a${i} ${side} key`);
      }
    }
    // Without skipping verification, the self-signed certificate is not trusted.
    const refused = await etcdctl([...fastFlags, "get", "auto"], { endpoints: [clients[0]!] });
    assert.notEqual(refused.code, 0);
  });
});
