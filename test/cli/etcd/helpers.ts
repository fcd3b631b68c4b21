// Shared helpers of the `etcd` configuration tests.

import assert from "node:assert/strict";
import { type ParseOptions, type ParseResult, parseEtcdConfig } from "../../../src/cli/etcd/index.js";
import type { ServerConfig } from "../../../src/server/config.js";

export const NOW = new Date("2024-01-02T03:04:05.678Z");

export function parse(
  argv: string[],
  env: Record<string, string> = {},
  opts: ParseOptions = {},
): ParseResult {
  return parseEtcdConfig(argv, env, { now: () => NOW, ...opts });
}

/** Parses and expects a configuration (no exit). */
export function config(
  argv: string[],
  env: Record<string, string> = {},
  opts: ParseOptions = {},
): ServerConfig {
  const r = parse(argv, env, opts);
  assert.equal(r.exit, undefined, `unexpected exit: ${JSON.stringify(r.exit)}`);
  assert.ok(r.config);
  return r.config;
}

/** Parses and expects a configuration error (exit code 1) with exactly this message. */
export function configError(
  argv: string[],
  message: string,
  env: Record<string, string> = {},
  opts: ParseOptions = {},
) {
  const r = parse(argv, env, opts);
  assert.equal(r.config, undefined);
  assert.ok(r.exit, `expected an exit for ${argv.join(" ")}`);
  assert.equal(r.exit.error, message);
  assert.equal(r.exit.code, 1);
  return r;
}

/** Parses and expects a flag error (exit code 2): the message, then etcd's usage, on stderr. */
export function flagError(argv: string[], message: string): ParseResult {
  const r = parse(argv);
  assert.equal(r.config, undefined);
  assert.equal(r.exit?.code, 2, `exit of ${argv.join(" ")}: ${JSON.stringify(r.exit)}`);
  assert.equal(r.exit?.error, message);
  assert.ok(r.exit?.stderr?.startsWith(`${message}\nUsage:\n`));
  return r;
}

export const urlStrings = (urls: URL[]): string[] => urls.map((u) => String(u));
