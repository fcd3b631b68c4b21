// JWT tokens (--auth-token jwt,...,sign-method=RS256 with a key pair made by node:crypto) on a 3-member
// bin/etcd cluster: a token issued by one member is a real RS256 JWT, good at every member, also after
// its issuer died; a forged one is refused; a change of the auth state makes older tokens stale, as etcd.

import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EtcdGrpc } from "../auth/grpc_helpers.js";
import { Cluster, ctlOk, makeTempDir, removeTempDir, skipWithoutEtcdctl } from "./cluster.js";

describe("JWT tokens on a 3-member cluster", {
  skip: skipWithoutEtcdctl,
  concurrency: 1,
  timeout: 90_000,
}, () => {
  let c: Cluster | undefined;
  let keyDir: string | undefined;
  let publicPem = "";
  const clients: EtcdGrpc[] = [];
  const grpcAt = (i: number) => {
    const g = new EtcdGrpc(c!.members[i]!.endpoint);
    clients.push(g);
    return g;
  };

  before(async () => {
    keyDir = makeTempDir("etcd-jwt-keys-");
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
    writeFileSync(join(keyDir, "pub.pem"), publicPem);
    writeFileSync(join(keyDir, "priv.pem"), privateKey.export({ type: "pkcs8", format: "pem" }) as string);
    const spec = `jwt,pub-key=${join(keyDir, "pub.pem")},priv-key=${join(keyDir, "priv.pem")},sign-method=RS256,ttl=10m`;
    c = await Cluster.start({ size: 3, extraArgs: ["--auth-token", spec] });
    await ctlOk(["user", "add", "root:rootpw"], { endpoints: c.endpoints() });
    await ctlOk(["auth", "enable"], { endpoints: c.endpoints() });
  });

  after(async () => {
    for (const g of clients) g.close();
    await c?.destroy();
    if (keyDir !== undefined) removeTempDir(keyDir);
  });

  test("a token from one member is an RS256 JWT that every member accepts; forgeries are refused", async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await grpcAt(0).token("root", "rootpw");
    const [h, p, s] = token.split(".");
    assert.deepEqual(JSON.parse(Buffer.from(h!, "base64url").toString()), { alg: "RS256", typ: "JWT" });
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, number | string>;
    assert.equal(claims.username, "root");
    assert.equal(typeof claims.revision, "number");
    assert.ok(Math.abs((claims.exp as number) - (before + 600)) <= 5, `exp ${claims.exp} ~ now + ttl=10m`);
    assert.ok(
      verify("sha256", Buffer.from(`${h}.${p}`), createPublicKey(publicPem), Buffer.from(s!, "base64url")),
    );

    for (let i = 0; i < 3; i++) {
      assert.equal((await grpcAt(i).put(`/jwt/${i}`, "v", token)).ok, true);
      assert.deepEqual(await grpcAt(i).get(`/jwt/${(i + 2) % 3}`, token), {
        ok: true,
        value: i === 0 ? undefined : "v",
      });
    }
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, username: "admin" })).toString("base64url")}.${s}`;
    assert.deepEqual(await grpcAt(1).get("/jwt/0", forged), {
      ok: false,
      code: 16,
      message: "etcdserver: invalid auth token",
    });
    // etcdctl 3.4 authenticates and uses the JWT as any token.
    assert.equal(
      await ctlOk(["--user=root:rootpw", "get", "/jwt/1", "--print-value-only"], {
        endpoints: c!.endpoints([2]),
      }),
      "v\n",
    );
  });

  test("a change of users or roles makes older tokens stale; the issuer's death does not", async () => {
    const g = grpcAt(1);
    const old = await g.token("root", "rootpw");
    await ctlOk(["--user=root:rootpw", "role", "add", "extra"], { endpoints: c!.endpoints() });
    assert.deepEqual(await g.get("/jwt/1", old), {
      ok: false,
      code: 3,
      message: "etcdserver: revision of auth store is old",
    });
    const fresh = await g.token("root", "rootpw");
    await c!.members[1]!.kill("SIGKILL");
    for (const i of [0, 2]) assert.deepEqual(await grpcAt(i).get("/jwt/1", fresh), { ok: true, value: "v" });
  });
});
