// The TLS flags, ETCD_* variables and --config-file keys land in ServerConfig.tls as etcd's TLSInfo holds
// them, with no "not implemented" warning.

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEtcdConfig } from "../../src/cli/etcd/index.js";

test("flags: client and peer TLSInfo, shared cipher suites and versions", () => {
  const r = parseEtcdConfig(
    [
      "--cert-file=/c.pem",
      "--key-file=/c-key.pem",
      "--client-cert-file=/cc.pem",
      "--client-key-file=/cc-key.pem",
      "--trusted-ca-file=/ca.pem",
      "--client-cert-auth",
      "--client-crl-file=/c.crl",
      "--client-cert-allowed-hostname=svc.example",
      "--auto-tls",
      "--peer-cert-file=/p.pem",
      "--peer-key-file=/p-key.pem",
      "--peer-trusted-ca-file=/pca.pem",
      "--peer-client-cert-auth",
      "--peer-crl-file=/p.crl",
      "--peer-cert-allowed-cn=m1,m2",
      "--peer-auto-tls",
      "--self-signed-cert-validity=3",
      "--experimental-peer-skip-client-san-verification",
      "--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "--tls-max-version=TLS1.3",
    ],
    {},
  );
  assert.equal(r.exit, undefined);
  const t = r.config!.tls!;
  assert.deepEqual(t.client, {
    certFile: "/c.pem",
    keyFile: "/c-key.pem",
    clientCertFile: "/cc.pem",
    clientKeyFile: "/cc-key.pem",
    trustedCaFile: "/ca.pem",
    clientCertAuth: true,
    crlFile: "/c.crl",
    allowedCns: [],
    allowedHostnames: ["svc.example"],
    skipClientSanVerify: false,
    insecureSkipVerify: false,
    cipherSuites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
    minVersion: "TLS1.2",
    maxVersion: "TLS1.3",
    selfCert: false,
  });
  assert.equal(t.peer.certFile, "/p.pem");
  assert.equal(t.peer.trustedCaFile, "/pca.pem");
  assert.equal(t.peer.clientCertAuth, true);
  assert.equal(t.peer.crlFile, "/p.crl");
  assert.deepEqual(t.peer.allowedCns, ["m1", "m2"]);
  assert.equal(t.peer.skipClientSanVerify, true);
  assert.deepEqual(t.peer.cipherSuites, t.client.cipherSuites);
  assert.equal(t.clientAutoTls, true);
  assert.equal(t.peerAutoTls, true);
  assert.equal(t.selfSignedCertValidity, 3);
  assert.ok(!r.warnings.some((w) => /not implemented/.test(w)), r.warnings.join("\n"));
});

test("ETCD_* variables and --config-file keys", () => {
  const env = parseEtcdConfig([], { ETCD_PEER_CERT_FILE: "/p.pem", ETCD_PEER_CLIENT_CERT_AUTH: "true" });
  assert.equal(env.config?.tls?.peer.certFile, "/p.pem");
  assert.equal(env.config?.tls?.peer.clientCertAuth, true);
  const yaml = [
    "name: infra1",
    "client-transport-security:",
    "  cert-file: /c.pem",
    "  key-file: /c-key.pem",
    "  client-cert-auth: true",
    "  trusted-ca-file: /ca.pem",
    "  auto-tls: false",
    "peer-transport-security:",
    "  cert-file: /p.pem",
    "  key-file: /p-key.pem",
    "  client-cert-auth: true",
    "  trusted-ca-file: /pca.pem",
    "  allowed-cn:",
    "    - m1",
    "  auto-tls: true",
    "",
  ].join("\n");
  const file = parseEtcdConfig(["--config-file=/etc/etcd.yml"], {}, { readFile: () => yaml });
  assert.equal(file.exit, undefined, JSON.stringify(file.exit));
  const t = file.config!.tls!;
  assert.equal(t.client.certFile, "/c.pem");
  assert.equal(t.client.clientCertAuth, true);
  assert.equal(t.client.trustedCaFile, "/ca.pem");
  assert.equal(t.peer.keyFile, "/p-key.pem");
  assert.deepEqual(t.peer.allowedCns, ["m1"]);
  assert.equal(t.peerAutoTls, true);
  assert.equal(t.clientAutoTls, false);
});

test("https client URLs need a certificate (etcd's check at parse time)", () => {
  const r = parseEtcdConfig(
    ["--listen-client-urls=https://127.0.0.1:2379", "--advertise-client-urls=https://127.0.0.1:2379"],
    {},
  );
  assert.match(r.exit?.error ?? "", /TLS key\/cert \(--cert-file, --key-file\) must be provided/);
});
