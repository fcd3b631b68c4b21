// `npm start`: a local 3-member cluster on 127.0.0.1 in the foreground, embedded in this process (no
// outside services). Client ports 2379, 22379, 32379; peer ports 2380, 22380, 32380. Prints the
// endpoints and the leader; Ctrl-C stops it cleanly and removes its data.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientApiListeners } from "../embed/client_api.js";
import { type Etcd, startEtcd } from "../embed/etcd.js";
import { createLogger, fieldsFirst } from "../pkg/logger.js";
import { defaultServerConfig } from "../server/config.js";
import { hexId } from "../server/ids.js";

const ports = [
  { client: 2379, peer: 2380 },
  { client: 22379, peer: 22380 },
  { client: 32379, peer: 32380 },
];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "etcd-ts-local-"));
  const log = createLogger(process.env.LOG_LEVEL ?? "warn", ["stderr"]);
  const initialCluster = ports.map((p, i) => ({
    name: `infra${i + 1}`,
    peerUrls: [`http://127.0.0.1:${p.peer}`],
  }));
  const members: Etcd[] = [];
  const stop = async () => {
    await Promise.allSettled(members.map((m) => m.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      ports.map(async (p, i) => {
        const name = `infra${i + 1}`;
        const cfg = {
          ...defaultServerConfig(),
          name,
          dataDir: join(dir, `${name}.etcd`),
          listenPeerUrls: [new URL(`http://127.0.0.1:${p.peer}`)],
          initialAdvertisePeerUrls: [new URL(`http://127.0.0.1:${p.peer}`)],
          listenClientUrls: [new URL(`http://127.0.0.1:${p.client}`)],
          advertiseClientUrls: [new URL(`http://127.0.0.1:${p.client}`)],
          initialCluster,
          initialClusterToken: "etcd-ts-local",
        };
        members.push(
          await startEtcd(
            cfg,
            fieldsFirst(log.child({ member: name })),
            clientApiListeners(fieldsFirst(log)),
          ),
        );
      }),
    );
  } catch (e) {
    console.error(`failed to start the local cluster: ${e instanceof Error ? e.message : String(e)}`);
    await stop();
    process.exit(1);
  }
  console.log("etcd-ts local cluster (3 members, data in %s)", dir);
  for (const m of members) {
    console.log(
      `  ${hexId(m.server.id)}  client ${m.clientUrls().map(String).join(",")}  peer ${m.peerUrls().map(String).join(",")}`,
    );
  }
  console.log("endpoints: 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379   (Ctrl-C stops the cluster)");
  let lastLeader = 0n;
  const watchLeader = setInterval(() => {
    const lead = members[0]?.server.leader() ?? 0n;
    if (lead !== lastLeader) {
      lastLeader = lead;
      console.log(lead === 0n ? "no leader" : `leader: ${hexId(lead)}`);
    }
  }, 100);
  const onSignal = () => {
    clearInterval(watchLeader);
    console.log("stopping...");
    stop().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

void main();
