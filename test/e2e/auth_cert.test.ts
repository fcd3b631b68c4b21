// --client-cert-auth with auth enabled: the common name of the client's verified certificate is the user
// (etcd's AuthInfoFromTLS), unless the request carries a token, which wins. One bin/etcd member on an
// https:// client URL, certificates made by the openssl CLI (test/tls/pki.ts), the real etcdctl 3.4.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { EtcdGrpc } from "../auth/grpc_helpers.js";
import { type Ca, type CertFiles, TestPki } from "../tls/pki.js";
import {
  type CtlResult,
  etcdctl,
  freePorts,
  Member,
  makeTempDir,
  removeTempDir,
  skipWithoutEtcdctl,
  until,
} from "./cluster.js";

describe("client certificates name users", {
  skip: skipWithoutEtcdctl,
  concurrency: 1,
  timeout: 60_000,
}, () => {
  let dir = "";
  let ca: Ca;
  const certs: Record<string, CertFiles> = {};
  let member: Member | undefined;
  let endpoint = "";

  /** etcdctl with the client certificate of `cn` (no --user unless given). */
  const ctl = (cn: string, args: string[]): Promise<CtlResult> =>
    etcdctl(
      [`--cacert=${ca.certFile}`, `--cert=${certs[cn]!.certFile}`, `--key=${certs[cn]!.keyFile}`, ...args],
      {
        endpoints: [endpoint],
      },
    );
  const ok = async (cn: string, args: string[]): Promise<string> => {
    const r = await ctl(cn, args);
    assert.equal(r.code, 0, `etcdctl ${args.join(" ")} as ${cn}: ${r.stderr}`);
    return r.stdout;
  };
  const denied = async (cn: string, args: string[]): Promise<void> => {
    const r = await ctl(cn, args);
    assert.equal(r.code, 1, `etcdctl ${args.join(" ")} as ${cn} should be refused: ${r.stdout}`);
    assert.match(r.stderr, /Error: etcdserver: permission denied/);
  };

  before(async () => {
    dir = makeTempDir("etcd-e2e-authcert-");
    const pki = new TestPki(join(dir, "pki"));
    ca = pki.ca("ca");
    const server = pki.issue(ca, { cn: "m0", ips: ["127.0.0.1"], file: "server" });
    for (const cn of ["root", "alice", "nobody", "svc"]) certs[cn] = pki.issue(ca, { cn });
    const [peer, client] = await freePorts(2);
    endpoint = `https://127.0.0.1:${client}`;
    member = new Member({
      name: "m0",
      args: [
        "--name=m0",
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=m0=http://127.0.0.1:${peer}`,
        `--listen-client-urls=${endpoint}`,
        `--advertise-client-urls=${endpoint}`,
        `--cert-file=${server.certFile}`,
        `--key-file=${server.keyFile}`,
        `--trusted-ca-file=${ca.certFile}`,
        "--client-cert-auth",
      ],
      cwd: dir,
      clientUrl: endpoint,
      logPath: join(dir, "m0.log"),
    });
    member.start();
    await until(
      async () => ((await ctl("root", ["endpoint", "health"])).code === 0 ? true : undefined),
      "m0 healthy",
    );
  });

  after(async () => {
    if (member?.running()) await member.kill("SIGKILL");
    if (dir) removeTempDir(dir);
  });

  test("the CN is the user; a token wins over the certificate", async () => {
    await ok("root", ["user", "add", "root:rootpw"]);
    assert.equal(await ok("root", ["auth", "enable"]), "Authentication Enabled\n");
    // No --user: the certificate's CN "root" has the root role.
    await ok("root", ["role", "add", "reader"]);
    await ok("root", ["role", "grant-permission", "reader", "read", "--prefix", "/app/"]);
    await ok("root", ["user", "add", "alice:alicepw"]);
    await ok("root", ["user", "grant-role", "alice", "reader"]);
    assert.equal(await ok("root", ["put", "/app/a", "1"]), "OK\n");
    assert.equal(await ok("root", ["put", "/other", "x"]), "OK\n");

    assert.equal(await ok("alice", ["get", "/app/a", "--print-value-only"]), "1\n");
    await denied("alice", ["get", "/other"]);
    await denied("alice", ["put", "/app/a", "2"]);
    await denied("alice", ["user", "list"]);
    // A CN that names no user may do nothing.
    await denied("nobody", ["get", "/app/a"]);
    // With a token, the token's user counts, not the certificate's.
    assert.equal(await ok("alice", ["--user=root:rootpw", "get", "/other", "--print-value-only"]), "x\n");
    await denied("root", ["--user=alice:alicepw", "get", "/other"]);
  });

  test("a --no-password user: its certificate works, a password never does", async () => {
    // etcdctl 3.4 has no --no-password: the request is made over gRPC, with root's certificate.
    const creds = (cn: string) =>
      grpc.credentials.createSsl(
        readFileSync(ca.certFile),
        readFileSync(certs[cn]!.keyFile),
        readFileSync(certs[cn]!.certFile),
      );
    const asRoot = new EtcdGrpc(endpoint.replace("https://", ""), creds("root"));
    const asSvc = new EtcdGrpc(endpoint.replace("https://", ""), creds("svc"));
    try {
      assert.equal((await asRoot.userAdd("svc", "", true)).ok, true);
      assert.equal((await asRoot.userGrantRole("svc", "reader")).ok, true);
      assert.deepEqual(await asSvc.get("/app/a"), { ok: true, value: "1" });
      assert.deepEqual(await asSvc.put("/app/a", "2"), {
        ok: false,
        code: 7,
        message: "etcdserver: permission denied",
      });
      assert.deepEqual(await asSvc.authenticate("svc", "anything"), {
        ok: false,
        code: 2,
        message: "auth: authentication failed, password was given for no password user",
      });
      assert.equal(await ok("root", ["user", "get", "svc"]), "User: svc\nRoles: reader\n");
    } finally {
      asRoot.close();
      asSvc.close();
    }
  });
});
