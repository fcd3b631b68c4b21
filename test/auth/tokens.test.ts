import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { type JwtMethod, JwtTokenProvider } from "../../src/auth/jwt.js";
import { parseAuthTokenSpec, parseGoDurationMs } from "../../src/auth/options.js";
import { FailureLimiter } from "../../src/auth/rate_limit.js";
import { simpleTokenIndex } from "../../src/auth/simple_token.js";

function pem(kind: "rsa" | "ec" | "ed25519", curve?: string) {
  const { publicKey, privateKey } =
    kind === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : kind === "ec"
        ? generateKeyPairSync("ec", { namedCurve: curve! })
        : generateKeyPairSync("ed25519");
  return {
    pub: Buffer.from(publicKey.export({ type: "spki", format: "pem" }) as string),
    priv: Buffer.from(privateKey.export({ type: "pkcs8", format: "pem" }) as string),
  };
}

const rsa = pem("rsa");
const keysFor: Record<string, { pub?: Buffer; priv: Buffer }> = {
  RS256: rsa,
  RS512: rsa,
  PS256: rsa,
  ES256: pem("ec", "prime256v1"),
  ES384: pem("ec", "secp384r1"),
  EdDSA: pem("ed25519"),
  HS256: { priv: randomBytes(32) },
};

describe("JWT tokens", () => {
  for (const [method, k] of Object.entries(keysFor)) {
    test(`${method}: issued tokens verify and carry user and revision; tampering is refused`, async () => {
      const p = new JwtTokenProvider({
        method: method as JwtMethod,
        publicKey: k.pub,
        privateKey: k.priv,
        ttlMs: 60_000,
      });
      const t = p.assign("alice", 7);
      const [h, c] = t
        .split(".")
        .slice(0, 2)
        .map((x) => JSON.parse(Buffer.from(x, "base64url").toString()));
      assert.deepEqual(h, { alg: method, typ: "JWT" });
      assert.deepEqual(Object.keys(c), ["exp", "revision", "username"]);
      assert.deepEqual(await p.info(t), { username: "alice", revision: 7 });
      const forged = Buffer.from(JSON.stringify({ ...c, username: "root" })).toString("base64url");
      const parts = t.split(".");
      assert.equal(await p.info(`${parts[0]}.${forged}.${parts[2]}`), undefined);
      assert.equal(await p.info("a.b"), undefined);
    });
  }

  test("expired tokens are refused; a verify-only member verifies but cannot issue", async () => {
    let now = 1_700_000_000_000;
    const signer = new JwtTokenProvider(
      { method: "RS256", privateKey: rsa.priv, ttlMs: 1000 },
      undefined,
      () => now,
    );
    const verifier = new JwtTokenProvider(
      { method: "RS256", publicKey: rsa.pub, ttlMs: 1000 },
      undefined,
      () => now,
    );
    assert.equal(verifier.verifyOnly, true);
    assert.throws(() => verifier.assign("a", 1), {
      message: "auth: token signing attempted with verify-only key",
    });
    const t = signer.assign("bob", 3);
    assert.deepEqual(await verifier.info(t), { username: "bob", revision: 3 });
    now += 2000;
    assert.equal(await verifier.info(t), undefined);
  });

  test("a token signed with another method or key is refused", async () => {
    const rs = new JwtTokenProvider({ method: "RS256", privateKey: rsa.priv, ttlMs: 60_000 });
    const other = new JwtTokenProvider({ method: "RS256", privateKey: pem("rsa").priv, ttlMs: 60_000 });
    const hs = new JwtTokenProvider({ method: "HS256", privateKey: randomBytes(16), ttlMs: 60_000 });
    assert.equal(await rs.info(other.assign("x", 1)), undefined);
    assert.equal(await rs.info(hs.assign("x", 1)), undefined);
  });

  test("key errors at start: etcd's texts", () => {
    assert.throws(() => new JwtTokenProvider({ method: "RS256", ttlMs: 1 }), {
      message: "auth: missing key data",
    });
    assert.throws(
      () =>
        new JwtTokenProvider({ method: "RS256", publicKey: pem("rsa").pub, privateKey: rsa.priv, ttlMs: 1 }),
      {
        message: "auth: public and private keys don't match",
      },
    );
    assert.throws(
      () => new JwtTokenProvider({ method: "ES256", privateKey: rsa.priv, ttlMs: 1 }),
      /invalid key/,
    );
    assert.throws(
      () => new JwtTokenProvider({ method: "RS256", privateKey: Buffer.from("not a key"), ttlMs: 1 }),
      /invalid key/,
    );
  });
});

describe("--auth-token options", () => {
  test("type and options; malformed or repeated options are refused", () => {
    const s = parseAuthTokenSpec("jwt,pub-key=a.pem,priv-key=b.pem,sign-method=RS256");
    assert.equal(s.type, "jwt");
    assert.deepEqual(
      [...s.opts],
      [
        ["pub-key", "a.pem"],
        ["priv-key", "b.pem"],
        ["sign-method", "RS256"],
      ],
    );
    assert.throws(() => parseAuthTokenSpec("jwt,pub-key"), { message: "auth: invalid auth options" });
    assert.throws(() => parseAuthTokenSpec("jwt,a=1,a=2"), { message: "auth: invalid auth options" });
    assert.equal(parseAuthTokenSpec("simple").type, "simple");
  });

  test("Go durations", () => {
    assert.equal(parseGoDurationMs("5m"), 300_000);
    assert.equal(parseGoDurationMs("1h30m"), 5_400_000);
    assert.equal(parseGoDurationMs("250ms"), 250);
    assert.equal(parseGoDurationMs("1.5s"), 1500);
    assert.equal(parseGoDurationMs("0"), 0);
    assert.equal(parseGoDurationMs("5"), undefined);
    assert.equal(parseGoDurationMs("m"), undefined);
  });

  test("simple token shape: <prefix>.<index>", () => {
    assert.equal(simpleTokenIndex("abcdefghijklmnop.42"), 42);
    assert.equal(simpleTokenIndex("abc"), undefined);
    assert.equal(simpleTokenIndex("a.b.c"), undefined);
    assert.equal(simpleTokenIndex("a.-1"), undefined);
  });
});

describe("failed-authentication limiter", () => {
  test("a burst of failures, then one attempt per refill interval; other names unaffected", () => {
    let now = 0;
    const l = new FailureLimiter({ burst: 3, refillMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.equal(l.allows("alice"), true);
      l.failed("alice");
    }
    assert.equal(l.allows("alice"), false);
    assert.equal(l.allows("bob"), true);
    now += 999;
    assert.equal(l.allows("alice"), false);
    now += 1;
    assert.equal(l.allows("alice"), true);
    l.failed("alice");
    assert.equal(l.allows("alice"), false);
    now += 10_000;
    assert.equal(l.allows("alice"), true);
    assert.equal(l.size, 0, "a full bucket is forgotten");
  });

  test("at most maxNames names are tracked", () => {
    const l = new FailureLimiter({ burst: 1, maxNames: 100, now: () => 0 });
    for (let i = 0; i < 1000; i++) l.failed(`user${i}`);
    assert.equal(l.size, 100);
    assert.equal(l.allows("user999"), false);
    assert.equal(l.allows("user0"), true, "the oldest were dropped");
  });
});
