// --auth-token: "simple" (default), or "jwt,pub-key=<file>,priv-key=<file>,sign-method=<method>[,ttl=<dur>]"
// (etcd's decomposeOpts and jwtOptions), turned into a token provider. Bad options stop the member at
// start with etcd's error texts.

import { parseGoDurationMs } from "../pkg/duration.js";
import {
  AuthOptionsError,
  ERR_INVALID_AUTH_METHOD,
  ERR_INVALID_AUTH_OPTS,
  JWT_DEFAULT_TTL_MS,
  JWT_METHODS,
  type JwtLogger,
  type JwtMethod,
  type JwtOptions,
  JwtTokenProvider,
  readKeyFile,
} from "./jwt.js";
import { SimpleTokenProvider } from "./simple_token.js";
import type { TokenProvider } from "./types.js";

export interface AuthTokenSpec {
  type: string;
  opts: Map<string, string>;
}

/** Splits "type,k=v,k=v"; throws on a malformed or repeated option (etcd's ErrInvalidAuthOpts). */
export function parseAuthTokenSpec(spec: string): AuthTokenSpec {
  const [type = "", ...rest] = spec.split(",");
  const opts = new Map<string, string>();
  for (const kv of rest) {
    const pair = kv.split("=");
    if (pair.length !== 2 || opts.has(pair[0]!)) throw new AuthOptionsError(ERR_INVALID_AUTH_OPTS);
    opts.set(pair[0]!, pair[1]!);
  }
  return { type, opts };
}

export { parseGoDurationMs };

/** The JWT options of an --auth-token spec, key files read. */
export function jwtOptionsOf(spec: AuthTokenSpec): JwtOptions {
  let ttlMs = JWT_DEFAULT_TTL_MS;
  const ttl = spec.opts.get("ttl") ?? "";
  if (ttl !== "") {
    const ms = parseGoDurationMs(ttl);
    if (ms === undefined) throw new AuthOptionsError(ERR_INVALID_AUTH_OPTS);
    ttlMs = ms;
  }
  const pub = spec.opts.get("pub-key") ?? "";
  const priv = spec.opts.get("priv-key") ?? "";
  const method = spec.opts.get("sign-method") ?? "";
  const o: JwtOptions = { method: method as JwtMethod, ttlMs };
  if (pub !== "") o.publicKey = readKeyFile(pub);
  if (priv !== "") o.privateKey = readKeyFile(priv);
  if (!(JWT_METHODS as readonly string[]).includes(method))
    throw new AuthOptionsError(ERR_INVALID_AUTH_METHOD);
  return o;
}

export interface TokenProviderOptions {
  /** --auth-token. */
  spec: string;
  /** --auth-token-ttl in seconds (simple tokens). */
  ttlSeconds: number;
  /** Resolves once the member has applied the entry at `index` (simple tokens name it). */
  waitApplied(index: number): Promise<boolean>;
  logger?: JwtLogger;
}

/** The token provider --auth-token asks for. Throws AuthOptionsError with etcd's texts. */
export function createTokenProvider(o: TokenProviderOptions): TokenProvider {
  const spec = parseAuthTokenSpec(o.spec);
  switch (spec.type) {
    case "simple":
      o.logger?.warn({}, "simple token is not cryptographically signed");
      return new SimpleTokenProvider({ ttlSeconds: o.ttlSeconds, waitApplied: o.waitApplied });
    case "jwt":
      return new JwtTokenProvider(jwtOptionsOf(spec), o.logger);
    default:
      throw new AuthOptionsError(ERR_INVALID_AUTH_OPTS);
  }
}
