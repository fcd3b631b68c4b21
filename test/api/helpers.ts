// Shared pieces of the API tests: a fake member served on a loopback port, and the real etcdctl.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { ClientApi, type ClientApiOptions } from "../../src/api/index.js";
import { FakeEtcd } from "./fake_server.js";

export interface Served {
  fake: FakeEtcd;
  api: ClientApi;
  /** "http://127.0.0.1:<port>" */
  endpoint: string;
  /** "127.0.0.1:<port>" */
  hostPort: string;
  close(): Promise<void>;
}

/** A FakeEtcd served on 127.0.0.1 with an ephemeral port. */
export async function serve(opts: Partial<ClientApiOptions> = {}): Promise<Served> {
  const fake = new FakeEtcd();
  const api = await ClientApi.start(fake, { urls: ["http://127.0.0.1:0"], ...opts });
  const a = api.addresses[0]!;
  fake.clientUrls = [a.boundUrl];
  return {
    fake,
    api,
    endpoint: a.boundUrl,
    hostPort: `127.0.0.1:${a.port}`,
    close: async () => {
      await api.stop(100);
      fake.close();
    },
  };
}

/** The path of etcdctl on PATH, or undefined. */
export function findEtcdctl(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const p = `${dir}/etcdctl`;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs etcdctl (API v3) against `endpoint`, asynchronously (the server answering it runs on this event
 * loop), with `input` on stdin. etcdctl reads every ETCDCTL_* variable as a flag: none is passed but
 * the API version.
 */
export function etcdctl(bin: string, endpoint: string, args: string[], input?: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ETCDCTL_API: "3" };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ETCDCTL_")) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(
      bin,
      ["--endpoints", endpoint, "--dial-timeout=5s", "--command-timeout=5s", ...args],
      {
        env,
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

/** Polls `cond` every 10 ms until true or `ms` passed (then throws). */
export async function waitFor(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const b64 = (s: string): string => Buffer.from(s).toString("base64");
export const unb64 = (s: string): string => Buffer.from(s, "base64").toString();
