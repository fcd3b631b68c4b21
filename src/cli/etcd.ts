// bin/etcd: starts a member from etcd's flags, ETCD_* environment variables or --config-file.
// Exits non-zero with etcd's message on bad configuration; SIGTERM/SIGINT stop it cleanly.

import { existsSync } from "node:fs";
import { clientApiListeners } from "../embed/client_api.js";
import { startEtcd } from "../embed/etcd.js";
import { createLogger, fieldsFirst } from "../pkg/logger.js";
import { memberDirs } from "../server/raft_storage.js";
import { parseEtcdConfig } from "./etcd/index.js";

async function main(): Promise<void> {
  const parsed = parseEtcdConfig(process.argv.slice(2), process.env, {
    isMemberInitialized: (dataDir, walDir) => existsSync(memberDirs(dataDir, walDir).walDir),
  });
  if (parsed.exit !== undefined) {
    if (parsed.exit.stdout) process.stdout.write(parsed.exit.stdout);
    if (parsed.exit.stderr) process.stderr.write(parsed.exit.stderr);
    process.exit(parsed.exit.code);
  }
  const cfg = parsed.config!;
  const log = createLogger(cfg.logLevel, cfg.logOutputs);
  for (const w of parsed.warnings) log.warn(w);
  const logger = fieldsFirst(log);
  let etcd: Awaited<ReturnType<typeof startEtcd>>;
  try {
    etcd = await startEtcd(cfg, logger, clientApiListeners(logger));
  } catch (e) {
    log.fatal({ error: e instanceof Error ? e.message : String(e) }, "failed to start etcd");
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "received signal; shutting down");
    etcd.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ error: String(e) }, "error while shutting down");
        process.exit(1);
      },
    );
  };
  // A member removed from the cluster (or failed) stops by itself: close the listeners and exit.
  void etcd.server.done.then(async ({ code }) => {
    if (stopping) return;
    stopping = true;
    await etcd.close().catch(() => {});
    process.exit(code);
  });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
