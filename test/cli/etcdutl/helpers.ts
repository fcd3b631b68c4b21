// Helpers of the etcdutl tests: running bin/etcdutl as a process, and members started on data dirs the
// tests prepare themselves (restored or backed-up dirs), cleaned up with the e2e harness's registry.

import { spawn } from "node:child_process";
import { join } from "node:path";
import {
  BIN_ETCD,
  type ClusterLayout,
  ctlOk,
  Member,
  memberConfig,
  parseJsonBig,
  ROOT,
} from "../../e2e/cluster.js";

export const BIN_ETCDUTL = join(ROOT, "bin", "etcdutl");

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const BIN_ETCDCTL = join(ROOT, "bin", "etcdctl");

/** Runs bin/etcdutl (or `bin`, e.g. bin/etcdctl for its deprecated aliases) with `args` in `cwd`. */
export function etcdutl(
  args: string[],
  cwd: string,
  timeoutMs = 30_000,
  bin = BIN_ETCDUTL,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    p.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs bin/etcdutl and fails with its output unless it exits 0; returns stdout. */
export async function etcdutlOk(args: string[], cwd: string): Promise<string> {
  const r = await etcdutl(args, cwd);
  if (r.code !== 0) {
    throw new Error(`etcdutl ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stdout;
}

/** `etcdutl snapshot restore <file>` for member `m` of `layout` into `<dir>/<m.name>.etcd`. */
export async function restoreMember(
  file: string,
  layout: ClusterLayout,
  m: ClusterLayout["members"][number],
  dir: string,
  extra: string[] = [],
): Promise<string> {
  return etcdutlOk(
    [
      "snapshot",
      "restore",
      file,
      "--name",
      m.name,
      "--initial-cluster",
      layout.members.map((x) => `${x.name}=${x.peerUrl}`).join(","),
      "--initial-cluster-token",
      layout.token,
      "--initial-advertise-peer-urls",
      m.peerUrl,
      "--data-dir",
      join(dir, `${m.name}.etcd`),
      ...extra,
    ],
    dir,
  );
}

/**
 * bin/etcd members of `layout` with the guide's flags, working in `dir` (so member `n`'s data dir is
 * `<dir>/<n>.etcd`, where the test put it), plus `extraArgs`. Not started.
 */
export function membersOf(layout: ClusterLayout, dir: string, extraArgs: string[] = []): Member[] {
  return layout.members.map((m, i) => {
    const args = memberConfig(layout, i, {}, dir).flatMap(([k, v]) => [`--${k}`, v]);
    return new Member({
      name: m.name,
      command: [process.execPath, BIN_ETCD],
      args: [...args, ...extraArgs],
      cwd: dir,
      clientUrl: m.clientUrl,
      logPath: join(dir, `${m.name}.log`),
    });
  });
}

/** Key -> value of every key under `prefix`, read through the real etcdctl. */
export async function readPrefix(endpoints: string[], prefix: string): Promise<Map<string, string>> {
  const out = await ctlOk(["get", prefix, "--prefix", "-w", "json"], { endpoints });
  const r = parseJsonBig(out) as { kvs?: { key: string; value: string }[] };
  const m = new Map<string, string>();
  for (const kv of r.kvs ?? []) {
    m.set(Buffer.from(kv.key, "base64").toString(), Buffer.from(kv.value, "base64").toString());
  }
  return m;
}

/** The member list as etcdctl reports it: IDs (hex) and names. */
export async function memberList(
  endpoints: string[],
): Promise<{ id: string; name: string; peer: string[] }[]> {
  const out = await ctlOk(["member", "list", "-w", "json"], { endpoints });
  const r = parseJsonBig(out) as { members: { ID: string; name: string; peerURLs: string[] }[] };
  return r.members
    .map((m) => ({ id: BigInt(m.ID).toString(16), name: m.name, peer: m.peerURLs }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
