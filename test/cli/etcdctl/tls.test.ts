// TLS flags (--cacert, --cert, --key, --insecure-skip-tls-verify, --insecure-transport, https:// and
// plain host:port endpoints): the real etcdctl and ours against one bin/etcd member and one etcd 3.4
// member, both serving clients over TLS with client-certificate authentication (certificates from
// test/tls/pki.ts). A second, plain http listener is used to see when the members are ready.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePorts, Member, makeTempDir, REAL_ETCD, removeTempDir } from "../../e2e/cluster.js";
import { type CertFiles, TestPki } from "../../tls/pki.js";
import { pair, runCtl, skipWithoutReal } from "./harness.js";

describe("etcdctl TLS flags, ours vs the real etcdctl", { skip: skipWithoutReal }, () => {
  let dir = "";
  const members: Member[] = [];
  const https: string[] = [];
  let ca: CertFiles;
  let client: CertFiles;

  before(async () => {
    dir = makeTempDir("etcdctl-tls-");
    const pki = new TestPki(join(dir, "pki"));
    const authority = pki.ca("ca");
    ca = authority;
    client = pki.issue(authority, { cn: "root", file: "client" });
    const server = pki.issue(authority, { cn: "server", ips: ["127.0.0.1"], dns: ["localhost"] });
    for (const [i, real] of [false, true].entries()) {
      const [peer, tlsPort, plain] = await freePorts(3);
      const name = real ? "real" : "ours";
      https.push(`https://127.0.0.1:${tlsPort}`);
      const m = new Member({
        name,
        command: real ? [REAL_ETCD] : undefined,
        args: [
          `--name=${name}`,
          `--data-dir=${join(dir, `${name}.etcd`)}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=${name}=http://127.0.0.1:${peer}`,
          `--listen-client-urls=https://127.0.0.1:${tlsPort},http://127.0.0.1:${plain}`,
          `--advertise-client-urls=https://127.0.0.1:${tlsPort}`,
          `--cert-file=${server.certFile}`,
          `--key-file=${server.keyFile}`,
          `--trusted-ca-file=${authority.certFile}`,
          "--client-cert-auth",
        ],
        cwd: dir,
        clientUrl: `http://127.0.0.1:${plain}`,
        logPath: join(dir, `${name}-${i}.log`),
      });
      m.start();
      members.push(m);
    }
    await Promise.all(members.map((m) => m.waitHealthy()));
  });
  after(async () => {
    await Promise.all(members.filter((m) => m.running()).map((m) => m.kill()));
    if (dir) removeTempDir(dir);
  });

  test("certificates, skipped verification, missing certificates, bad files", async () => {
    await Promise.all(
      https.map(async (ep) => {
        const full = [`--cacert=${ca.certFile}`, `--cert=${client.certFile}`, `--key=${client.keyFile}`];
        const cert = [`--cert=${client.certFile}`, `--key=${client.keyFile}`];
        const hostPort = ep.replace("https://", "");
        const fast = ["--dial-timeout=500ms", "--command-timeout=1s"];
        await pair([ep], [...full, "put", "k", "v"], { sequential: true });
        await Promise.all([
          pair([ep], [...full, "get", "k", "-w", "json"], { norm: { revisions: true } }),
          pair([ep], ["--insecure-skip-tls-verify", ...cert, "get", "k"]),
          // host:port with TLS asked for (a TLS flag, or --insecure-transport=false).
          pair([hostPort], [...full, "get", "k", "--print-value-only"]),
          pair([hostPort], ["--insecure-transport=false", "--insecure-skip-tls-verify", ...cert, "get", "k"]),
          // Refused handshakes (unknown server CA, no client certificate): the command times out.
          pair([ep], [...fast, `--cacert=${ca.certFile}`, "get", "k"]),
          pair([ep], [...fast, ...cert, "get", "k"]),
          // Bad TLS arguments exit 128 before any connection.
          pair([ep], [`--cert=${client.certFile}`, "get", "k"]),
          pair([ep], [`--cacert=${join(dir, "nope.pem")}`, "get", "k"]),
          pair([ep], ["--cert=", "get", "k"]),
        ]);
      }),
    );
    const r = await runCtl(
      "ours",
      [
        `--cacert=${ca.certFile}`,
        `--cert=${client.certFile}`,
        `--key=${client.keyFile}`,
        "get",
        "k",
        "--print-value-only",
      ],
      {
        endpoints: [https[0]!],
      },
    );
    assert.deepEqual([r.code, r.stdout], [0, "v\n"]);
  });
});
