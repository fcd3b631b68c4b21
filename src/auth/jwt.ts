// JWT tokens (--auth-token jwt,pub-key=...,priv-key=...,sign-method=...[,ttl=...]), with node:crypto: a
// token carries its user name, the auth revision it was issued at, and an expiry (default 5 minutes),
// signed with the configured key. Any member holding the same key verifies it, so JWT tokens need no
// state and survive leader changes and member replacement by construction. As in etcd, a token whose
// revision is older than the store's fails with "revision of auth store is old" and the client
// authenticates again.

import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
  timingSafeEqual,
} from "node:crypto";
import { readFileSync } from "node:fs";
import type { AuthInfo, TokenProvider } from "./types.js";

/** The JWT signing methods etcd accepts (golang-jwt's names). */
export const JWT_METHODS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "HS256",
  "HS384",
  "HS512",
] as const;
export type JwtMethod = (typeof JWT_METHODS)[number];

/** etcd's errors for bad JWT options (its texts); startup fails with them. */
export class AuthOptionsError extends Error {
  override name = "AuthOptionsError";
}
export const ERR_INVALID_AUTH_OPTS = "auth: invalid auth options";
export const ERR_INVALID_AUTH_METHOD = "auth: invalid auth signature method";
export const ERR_MISSING_KEY = "auth: missing key data";
export const ERR_KEY_MISMATCH = "auth: public and private keys don't match";
/** Issuing a token with only a public key (a verify-only member). */
export const ERR_VERIFY_ONLY = "auth: token signing attempted with verify-only key";

/** The default lifetime of a JWT token (etcd's jwt DefaultTTL). */
export const JWT_DEFAULT_TTL_MS = 5 * 60 * 1000;

export interface JwtOptions {
  method: JwtMethod;
  /** PEM of the public key (asymmetric methods). */
  publicKey?: Uint8Array;
  /** PEM of the private key, or the shared secret for HS*. */
  privateKey?: Uint8Array;
  ttlMs: number;
}

interface Keys {
  sign?: KeyObject | Uint8Array;
  verify: KeyObject | Uint8Array;
}

const HASH: Record<string, string> = { "256": "sha256", "384": "sha384", "512": "sha512" };
const EC_CURVE: Record<string, string> = { ES256: "prime256v1", ES384: "secp384r1", ES512: "secp521r1" };

function b64url(b: Uint8Array | string): string {
  return Buffer.from(b).toString("base64url");
}

function keyTypeOk(method: JwtMethod, k: KeyObject): boolean {
  const t = k.asymmetricKeyType;
  if (method.startsWith("RS") || method.startsWith("PS")) return t === "rsa" || t === "rsa-pss";
  if (method.startsWith("ES")) return t === "ec" && k.asymmetricKeyDetails?.namedCurve === EC_CURVE[method];
  return t === "ed25519";
}

/** Loads and checks the keys as etcd's jwtOptions.Key() does. Throws AuthOptionsError. */
function loadKeys(o: JwtOptions): Keys {
  if (o.method.startsWith("HS")) {
    if (o.privateKey === undefined || o.privateKey.length === 0) throw new AuthOptionsError(ERR_MISSING_KEY);
    return { sign: o.privateKey, verify: o.privateKey };
  }
  let priv: KeyObject | undefined;
  let pub: KeyObject | undefined;
  try {
    if (o.privateKey !== undefined && o.privateKey.length > 0)
      priv = createPrivateKey(Buffer.from(o.privateKey));
    if (o.publicKey !== undefined && o.publicKey.length > 0) pub = createPublicKey(Buffer.from(o.publicKey));
  } catch (err) {
    throw new AuthOptionsError(`invalid key: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const k of [priv, pub]) {
    if (k !== undefined && !keyTypeOk(o.method, k)) {
      throw new AuthOptionsError(`invalid key: the key does not suit sign-method ${o.method}`);
    }
  }
  if (priv === undefined) {
    if (pub === undefined) throw new AuthOptionsError(ERR_MISSING_KEY);
    return { verify: pub };
  }
  const derived = createPublicKey(priv);
  if (pub !== undefined) {
    const a = derived.export({ format: "der", type: "spki" });
    const b = pub.export({ format: "der", type: "spki" });
    if (!a.equals(b)) throw new AuthOptionsError(ERR_KEY_MISMATCH);
  }
  return { sign: priv, verify: pub ?? derived };
}

/** Signs `input` with the method's algorithm (JOSE encodings: raw r||s for ECDSA, PSS salt = hash). */
function signBytes(method: JwtMethod, key: KeyObject | Uint8Array, input: Buffer): Buffer {
  const hash = HASH[method.slice(2)];
  if (method.startsWith("HS"))
    return createHmac(hash!, key as Uint8Array)
      .update(input)
      .digest();
  const k = key as KeyObject;
  if (method === "EdDSA") return cryptoSign(null, input, k);
  if (method.startsWith("ES")) return cryptoSign(hash!, input, { key: k, dsaEncoding: "ieee-p1363" });
  if (method.startsWith("PS")) {
    return cryptoSign(hash!, input, {
      key: k,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  return cryptoSign(hash!, input, k);
}

function verifyBytes(method: JwtMethod, key: KeyObject | Uint8Array, input: Buffer, sig: Buffer): boolean {
  const hash = HASH[method.slice(2)];
  if (method.startsWith("HS")) {
    const want = createHmac(hash!, key as Uint8Array)
      .update(input)
      .digest();
    return want.length === sig.length && timingSafeEqual(want, sig);
  }
  const k = key as KeyObject;
  if (method === "EdDSA") return cryptoVerify(null, input, k, sig);
  if (method.startsWith("ES")) return cryptoVerify(hash!, input, { key: k, dsaEncoding: "ieee-p1363" }, sig);
  if (method.startsWith("PS")) {
    return cryptoVerify(
      hash!,
      input,
      { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
      sig,
    );
  }
  return cryptoVerify(hash!, input, k, sig);
}

export interface JwtLogger {
  warn(fields: object, msg: string): void;
}

export class JwtTokenProvider implements TokenProvider {
  readonly type = "jwt" as const;
  private readonly keys: Keys;
  private readonly now: () => number;

  constructor(
    private readonly opts: JwtOptions,
    private readonly logger?: JwtLogger,
    now?: () => number,
  ) {
    this.keys = loadKeys(opts);
    this.now = now ?? Date.now;
  }

  /** True when this member holds only the public key: it verifies tokens but cannot issue them. */
  get verifyOnly(): boolean {
    return this.keys.sign === undefined;
  }

  enable(): void {}
  disable(): void {}
  invalidateUser(): void {}
  close(): void {}

  genTokenPrefix(): string {
    return "";
  }

  assign(user: string, revision: number): string {
    if (this.keys.sign === undefined) throw new Error(ERR_VERIFY_ONLY);
    const header = b64url(JSON.stringify({ alg: this.opts.method, typ: "JWT" }));
    // Claims in Go's map order (sorted keys), as etcd's tokens carry them.
    const exp = Math.floor((this.now() + this.opts.ttlMs) / 1000);
    const claims = b64url(JSON.stringify({ exp, revision, username: user }));
    const input = `${header}.${claims}`;
    return `${input}.${b64url(signBytes(this.opts.method, this.keys.sign, Buffer.from(input)))}`;
  }

  async info(token: string): Promise<AuthInfo | undefined> {
    const parts = token.split(".");
    if (parts.length !== 3) return this.refuse("token contains an invalid number of segments");
    let header: { alg?: unknown };
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as { alg?: unknown };
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      return this.refuse("malformed token");
    }
    if (header.alg !== this.opts.method) return this.refuse("invalid signing method");
    const input = Buffer.from(`${parts[0]}.${parts[1]}`);
    let ok: boolean;
    try {
      ok = verifyBytes(this.opts.method, this.keys.verify, input, Buffer.from(parts[2]!, "base64url"));
    } catch {
      ok = false;
    }
    if (!ok) return this.refuse("signature is invalid");
    const nowSec = this.now() / 1000;
    if (typeof claims.exp === "number" && nowSec > claims.exp) return this.refuse("token is expired");
    if (typeof claims.nbf === "number" && nowSec < claims.nbf) return this.refuse("token is not valid yet");
    if (typeof claims.username !== "string")
      return this.refuse("failed to obtain user claims from jwt token");
    if (typeof claims.revision !== "number" || claims.revision < 0) {
      return this.refuse("failed to obtain revision claims from jwt token");
    }
    return { username: claims.username, revision: Math.floor(claims.revision) };
  }

  private refuse(why: string): undefined {
    this.logger?.warn({ error: why }, "failed to parse a JWT token");
    return undefined;
  }
}

/** Reads the key files named by the --auth-token options (errors: etcd's invalid-options error). */
export function readKeyFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new AuthOptionsError(
      `${ERR_INVALID_AUTH_OPTS}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
