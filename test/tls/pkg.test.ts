// src/pkg/tls without sockets: key pair and CA loading with Go's error texts, the self-signed certificate
// (checked by openssl), CRL parsing (lists made by `openssl ca`), host name and SAN matching, cipher suite
// and version mapping, and prepareTls (auto TLS files, bad input refused).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { PeerCertificate } from "node:tls";
import { certValidForHost, checkCertSan, commonNameOf } from "../../src/pkg/tls/checks.js";
import { checkCrl, parseCrlSerials } from "../../src/pkg/tls/crl.js";
import { defaultTlsConfig, nodeTlsVersion, opensslCiphers } from "../../src/pkg/tls/info.js";
import { loadCaBundle, loadKeyPair } from "../../src/pkg/tls/load.js";
import { ipBytes, makeSelfSignedCert, selfCert } from "../../src/pkg/tls/selfcert.js";
import { prepareTls } from "../../src/pkg/tls/setup.js";
import { type Ca, type CertFiles, serialOf, TestPki } from "./pki.js";

let dir = "";
let pki: TestPki;
let ca: Ca;
let a: CertFiles;
let b: CertFiles;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tls-pkg-"));
  pki = new TestPki(join(dir, "pki"));
  ca = pki.ca("ca");
  a = pki.issue(ca, { cn: "alpha", ips: ["127.0.0.1", "::1"], dns: ["alpha.example", "*.wild.example"] });
  b = pki.issue(ca, { cn: "beta" });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("key pairs and CA files", () => {
  test("a good pair loads; its leaf is the certificate", () => {
    const kp = loadKeyPair(a.certFile, a.keyFile);
    assert.equal(kp.leaf.subject, "CN=alpha");
  });

  test("Go's errors for bad input", () => {
    const garbage = file("garbage.pem", "not PEM at all\n");
    const cases: [string, string, string][] = [
      [garbage, a.keyFile, "tls: failed to find any PEM data in certificate input"],
      [a.certFile, garbage, "tls: failed to find any PEM data in key input"],
      [a.certFile, b.keyFile, "tls: private key does not match public key"],
      [a.certFile, a.certFile, "tls: found a certificate rather than a key in the PEM for the private key"],
      [a.keyFile, a.keyFile, 'tls: failed to find "CERTIFICATE" PEM block in certificate input'],
      [join(dir, "nope.pem"), a.keyFile, `open ${join(dir, "nope.pem")}: no such file or directory`],
    ];
    for (const [cert, key, want] of cases) {
      assert.throws(
        () => loadKeyPair(cert, key),
        (e: Error) => e.message.startsWith(want),
        want,
      );
    }
    const broken = file("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assert.throws(() => loadKeyPair(broken, a.keyFile), /x509: malformed certificate/);
    const badKey = file("badkey.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    assert.throws(() => loadKeyPair(a.certFile, badKey), /tls: failed to parse private key/);
  });

  test("CA bundles: every block a certificate, at least one", () => {
    assert.equal(loadCaBundle(ca.certFile).certs.length, 1);
    assert.throws(() => loadCaBundle(file("empty-ca.pem", "")), /no certificates found in CA file/);
  });
});

describe("self-signed certificates (auto TLS)", () => {
  test("well formed: openssl verifies it against itself, SANs from the hosts", () => {
    const r = makeSelfSignedCert(["127.0.0.1:2380", "node1.example:2380", "[::1]:2379"], 2);
    const certFile = file("self.pem", r.certPem);
    const out = execFileSync("openssl", ["verify", "-CAfile", certFile, certFile]).toString();
    assert.match(out, /OK/);
    const x = new X509Certificate(r.certPem);
    assert.equal(x.subject, "O=etcd");
    assert.match(x.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
    assert.match(x.subjectAltName ?? "", /DNS:node1\.example/);
    const years = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / (365 * 86400_000);
    assert.ok(Math.abs(years - 2) < 0.01, String(years));
  });

  test("selfCert writes cert.pem and key.pem (key 0600) once and reuses them", () => {
    const d = join(dir, "fixtures", "peer");
    const first = selfCert(d, ["127.0.0.1:1"], 1);
    assert.ok(first.created);
    const mode = execFileSync("stat", ["-c", "%a", first.keyFile]).toString().trim();
    assert.equal(mode, "600");
    const pem = readFileSync(first.certFile, "utf8");
    const second = selfCert(d, ["127.0.0.1:1"], 1);
    assert.equal(second.created, false);
    assert.equal(readFileSync(second.certFile, "utf8"), pem);
    assert.throws(() => selfCert(join(dir, "x"), [], 0), /selfSignedCertValidity is invalid/);
  });

  test("IP literals to bytes", () => {
    assert.deepEqual([...ipBytes("10.1.2.3")], [10, 1, 2, 3]);
    assert.equal(ipBytes("::1").toString("hex"), "00000000000000000000000000000001");
    assert.equal(ipBytes("fe80::1:2").toString("hex"), "fe800000000000000000000000010002");
    assert.equal(ipBytes("::ffff:1.2.3.4").toString("hex"), "00000000000000000000ffff01020304");
  });
});

describe("CRLs", () => {
  test("revoked serials of an openssl CRL (PEM and DER); checkCrl refuses them", () => {
    const crlCa = pki.ca("crlca");
    const good = pki.issue(crlCa, { cn: "good" });
    const bad = pki.issue(crlCa, { cn: "bad" });
    const emptyCrl = pki.crl(crlCa, join(crlCa.dir, "empty.pem"));
    assert.equal(parseCrlSerials(readFileSync(emptyCrl)).size, 0);
    const crl = pki.revoke(crlCa, bad);
    const serials = parseCrlSerials(readFileSync(crl));
    assert.deepEqual([...serials], [serialOf(bad.certFile).toLowerCase().replace(/^0+/, "")]);
    const der = join(crlCa.dir, "crl.der");
    execFileSync("openssl", ["crl", "-in", crl, "-outform", "DER", "-out", der]);
    assert.deepEqual(parseCrlSerials(readFileSync(der)), serials);
    assert.equal(checkCrl(crl, [serialOf(good.certFile)]), undefined);
    assert.match(
      checkCrl(crl, [serialOf(bad.certFile)]) ?? "",
      /^transport: certificate serial [0-9a-f]+ revoked$/,
    );
    assert.match(checkCrl(join(dir, "none.crl"), ["01"]) ?? "", /no such file or directory/);
  });
});

describe("host names and SANs", () => {
  const cert = () => {
    const x = new X509Certificate(readFileSync(a.certFile));
    return { subject: { CN: "alpha" }, subjectaltname: x.subjectAltName } as unknown as PeerCertificate;
  };

  test("VerifyHostname: IPs against IP SANs, names against DNS SANs with wildcards", () => {
    const c = cert();
    assert.ok(certValidForHost(c, "127.0.0.1"));
    assert.ok(certValidForHost(c, "::1"));
    assert.ok(certValidForHost(c, "[::1]"));
    assert.ok(certValidForHost(c, "alpha.example"));
    assert.ok(certValidForHost(c, "x.wild.example"));
    assert.ok(!certValidForHost(c, "a.b.wild.example"));
    assert.ok(!certValidForHost(c, "10.0.0.1"));
    assert.ok(!certValidForHost(c, "alpha")); // no CN fallback
    assert.equal(commonNameOf(c), "alpha");
  });

  test("a peer's client certificate must name the address it connects from", async () => {
    const c = cert();
    assert.equal(await checkCertSan(c, "127.0.0.1"), undefined);
    assert.equal(await checkCertSan(c, "::ffff:127.0.0.1"), undefined);
    const ipOnly = { subjectaltname: "IP Address:10.9.9.9" } as PeerCertificate;
    assert.match((await checkCertSan(ipOnly, "127.0.0.1")) ?? "", /not 127\.0\.0\.1/);
    // No SANs at all: nothing to check (as etcd).
    assert.equal(await checkCertSan({} as PeerCertificate, "127.0.0.1"), undefined);
    // A DNS SAN that resolves to the address.
    const named = { subjectaltname: "DNS:localhost" } as PeerCertificate;
    assert.equal(await checkCertSan(named, "127.0.0.1"), undefined);
  });
});

describe("flags to node:tls", () => {
  test("cipher suites by Go name; TLS 1.3 suites stay; unknown ones refused", () => {
    assert.equal(opensslCiphers([]), undefined);
    const s = opensslCiphers([
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
      "TLS_AES_128_GCM_SHA256",
    ]);
    assert.equal(
      s,
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
    );
    assert.throws(() => opensslCiphers(["TLS_FOO"]), /unexpected TLS cipher suite "TLS_FOO"/);
  });

  test("versions", () => {
    assert.equal(nodeTlsVersion("", "min"), "TLSv1.2");
    assert.equal(nodeTlsVersion("", "max"), undefined);
    assert.equal(nodeTlsVersion("TLS1.3", "max"), "TLSv1.3");
    assert.throws(() => nodeTlsVersion("TLS1.1", "min"), /unexpected TLS version/);
  });
});

describe("prepareTls", () => {
  const urls = (...u: string[]) => u.map((x) => new URL(x));
  const warnings: string[] = [];
  const logger = { warn: (_f: Record<string, unknown>, msg: string) => warnings.push(msg) };

  test("no TLS: nothing served, a dialer without certificate", () => {
    const p = prepareTls({
      tls: defaultTlsConfig(),
      dataDir: join(dir, "none"),
      listenClientUrls: urls("http://127.0.0.1:2379"),
      listenPeerUrls: urls("http://127.0.0.1:2380"),
      logger,
    });
    assert.equal(p.clientServer, undefined);
    assert.equal(p.peerServer, undefined);
    assert.ok(p.peerClient.verify);
  });

  test("auto TLS: fixtures under the data dir, self-signed, the dialer skips verification", () => {
    const t = defaultTlsConfig();
    t.clientAutoTls = true;
    t.peerAutoTls = true;
    t.peer.clientCertAuth = true; // replaced by the generated settings, as etcd does
    const dataDir = join(dir, "auto.etcd");
    const p = prepareTls({
      tls: t,
      dataDir,
      listenClientUrls: urls("https://127.0.0.1:2379"),
      listenPeerUrls: urls("https://127.0.0.1:2380"),
      logger,
    });
    assert.ok(existsSync(join(dataDir, "fixtures", "client", "cert.pem")));
    assert.ok(existsSync(join(dataDir, "fixtures", "peer", "key.pem")));
    assert.equal(p.config.peer.selfCert, true);
    assert.equal(p.config.peer.clientCertAuth, false);
    assert.ok(p.clientServer && p.peerServer);
    assert.equal(p.peerClient.verify, false);
    assert.equal(p.peerServer.requestCert, false);
  });

  test("auto TLS is ignored when certificates are given", () => {
    const t = defaultTlsConfig();
    t.clientAutoTls = true;
    t.client.certFile = a.certFile;
    t.client.keyFile = a.keyFile;
    warnings.length = 0;
    const p = prepareTls({
      tls: t,
      dataDir: join(dir, "given.etcd"),
      listenClientUrls: urls("https://127.0.0.1:2379"),
      listenPeerUrls: urls("http://127.0.0.1:2380"),
      logger,
    });
    assert.equal(p.config.client.certFile, a.certFile);
    assert.ok(warnings.includes("ignoring client auto TLS since certs given"));
    assert.ok(!existsSync(join(dir, "given.etcd")));
  });

  test("refused: https peer URL without a certificate, half a client pair, bad CRL, both allowed lists", () => {
    const base = () => {
      const t = defaultTlsConfig();
      t.peer.certFile = a.certFile;
      t.peer.keyFile = a.keyFile;
      return t;
    };
    const run = (t: ReturnType<typeof defaultTlsConfig>, peer = "https://127.0.0.1:2380") =>
      prepareTls({
        tls: t,
        dataDir: join(dir, "r.etcd"),
        listenClientUrls: urls("http://127.0.0.1:2379"),
        listenPeerUrls: urls(peer),
        logger,
      });
    assert.throws(
      () => run(defaultTlsConfig()),
      /cannot listen on TLS for 127\.0\.0\.1:2380: KeyFile and CertFile are not presented/,
    );
    const half = base();
    half.peer.clientCertFile = b.certFile;
    assert.throws(() => run(half), /--peer-client-key-file and --peer-client-cert-file must both be present/);
    const crl = base();
    crl.peer.crlFile = file("bad.crl", "garbage");
    assert.throws(() => run(crl), /peer TLS: --peer-crl-file=/);
    const both = base();
    both.peer.allowedCns = ["a"];
    both.peer.allowedHostnames = ["b"];
    assert.throws(() => run(both), /mutually exclusive/);
    const noKey = base();
    noKey.peer.keyFile = "";
    assert.throws(() => run(noKey), /must both be present/);
  });
});
