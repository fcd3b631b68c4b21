// Start and stop a member inside a Node process: the public API for programs and tests. It wires the
// server (src/server) to its peer transport (src/transport) and its client listeners (src/api).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerTls } from "../pkg/tls/context.js";
import { defaultTlsConfig } from "../pkg/tls/info.js";
import { prepareTls } from "../pkg/tls/setup.js";
import { PEER_STATUS_PATH, statusJson } from "../server/cluster_status.js";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION, type ServerConfig } from "../server/config.js";
import { PEER_HASHKV_PATH, type PeerHashKVBody } from "../server/corruption/index.js";
import { hexId } from "../server/ids.js";
import type { ReconfigRequest } from "../server/reconfigure.js";
import { EtcdServer, type ServerLogger } from "../server/server.js";
import { PeerTransport } from "../transport/index.js";
import { TlsPeerNet } from "../transport/net.js";

export interface ClientListeners {
  /** The addresses actually bound (port 0 resolved). */
  urls(): URL[];
  close(): Promise<void>;
}

/**
 * Starts the client API on every --listen-client-urls URL (gRPC and HTTP/1.1 on the same port); `tls`
 * serves the https:// and unixs:// ones.
 */
export type ClientListenerFactory = (
  server: EtcdServer,
  urls: URL[],
  tls?: ServerTls,
) => Promise<ClientListeners>;

export interface Etcd {
  server: EtcdServer;
  peerUrls(): URL[];
  clientUrls(): URL[];
  close(): Promise<void>;
}

function peerHttpHandler(getServer: () => EtcdServer | undefined) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const s = getServer();
    if (s === undefined) return false;
    if (req.method === "POST" && (req.url === "/leases/renew" || req.url === "/leases/ttl")) {
      serveLeaseForward(s, req, res, req.url === "/leases/renew");
      return true;
    }
    if (req.method === "POST" && req.url === "/members/reconfig") {
      serveReconfig(s, req, res);
      return true;
    }
    if (req.method === "POST" && req.url === PEER_HASHKV_PATH) {
      servePeerHashKV(s, req, res);
      return true;
    }
    if (req.method !== "GET") return false;
    if (req.url === "/version") {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION }));
      return true;
    }
    if (req.url === PEER_STATUS_PATH) {
      s.status().then(
        (st) => replyJson(res, statusJson(st)),
        (e: unknown) => {
          res.statusCode = 500;
          replyJson(res, { error: e instanceof Error ? e.message : String(e) });
        },
      );
      return true;
    }
    if (req.url === "/members") {
      res.setHeader("Content-Type", "application/json");
      res.setHeader("X-Etcd-Cluster-ID", hexId(s.clusterId));
      res.end(
        JSON.stringify(
          s.members().map((m) => ({
            id: hexId(m.id),
            name: m.name,
            peerURLs: m.peerUrls,
            clientURLs: m.clientUrls,
            isLearner: m.isLearner,
          })),
        ),
      );
      return true;
    }
    return false;
  };
}

/** Reads a JSON request body; answers 400 and returns undefined if it is not JSON. */
function readJson(req: IncomingMessage, res: ServerResponse, then: (body: unknown) => void): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => {
    body += c;
  });
  req.on("end", () => {
    let v: unknown;
    try {
      v = JSON.parse(body);
    } catch {
      res.statusCode = 400;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ error: "bad request" }));
      return;
    }
    then(v);
  });
}

function replyJson(res: ServerResponse, o: object): void {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(o));
}

/** A peer's corruption check asks for this member's hash at a revision (etcd's /members/hashkv). */
function servePeerHashKV(s: EtcdServer, req: IncomingMessage, res: ServerResponse): void {
  readJson(req, res, (body) => {
    const revision = Number((body as { revision?: unknown }).revision ?? 0);
    s.hashKV({ revision: BigInt(Number.isSafeInteger(revision) ? revision : 0) }).then(
      (h) =>
        replyJson(res, {
          memberId: hexId(s.id),
          hash: h.hash,
          compactRevision: Number(h.compactRevision),
          hashRevision: Number(h.hashRevision),
        } satisfies PeerHashKVBody),
      (e: unknown) => replyJson(res, { error: e instanceof Error ? e.message : String(e) }),
    );
  });
}

/** Membership changes other members forward to the leader, which admits and proposes them. */
function serveReconfig(s: EtcdServer, req: IncomingMessage, res: ServerResponse): void {
  readJson(req, res, (body) => {
    s.reconfigureAsLeader(body as ReconfigRequest).then(
      (r) => replyJson(res, r),
      (e: unknown) => replyJson(res, { error: e instanceof Error ? e.message : String(e) }),
    );
  });
}

/** Lease calls followers forward to the leader (the only member that runs lease clocks). */
function serveLeaseForward(s: EtcdServer, req: IncomingMessage, res: ServerResponse, renew: boolean): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => {
    body += c;
  });
  req.on("end", () => {
    const reply = (o: object) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(o));
    };
    let id: bigint;
    try {
      id = BigInt((JSON.parse(body) as { id: string }).id);
    } catch {
      res.statusCode = 400;
      reply({ error: "bad request" });
      return;
    }
    // Only the leader answers; a member that lost leadership meanwhile says so and the caller retries.
    const call = s.isLeader()
      ? renew
        ? s.leaseRenew(id)
        : s.leaseRemainingTtl(id).then(BigInt)
      : Promise.reject(new Error("etcdserver: not leader"));
    call.then(
      (ttl) => reply({ ttl: ttl.toString() }),
      (e: unknown) => reply({ error: e instanceof Error ? e.message : String(e) }),
    );
  });
}

export async function startEtcd(
  config: ServerConfig,
  logger: ServerLogger,
  clientListeners: ClientListenerFactory,
): Promise<Etcd> {
  // TLS first: auto TLS resolved, every certificate file checked, before anything is created or bound.
  const tls = prepareTls({
    tls: config.tls ?? defaultTlsConfig(),
    dataDir: config.dataDir,
    listenClientUrls: config.listenClientUrls,
    listenPeerUrls: config.listenPeerUrls,
    logger,
  });
  const cfg: ServerConfig = { ...config, tls: tls.config };
  let transport: PeerTransport | undefined;
  let srv: EtcdServer | undefined;
  const server = await EtcdServer.start(cfg, logger, async (s) => {
    srv = s;
    transport = new PeerTransport({
      memberId: s.id,
      clusterId: s.clusterId,
      listenUrls: cfg.listenPeerUrls,
      advertiseUrls: cfg.initialAdvertisePeerUrls.map((u) => u.toString().replace(/\/$/, "")),
      serverVersion: ETCD_SERVER_VERSION,
      net: new TlsPeerNet({ server: tls.peerServer, client: tls.peerClient, logger }),
      // A restarted peer must be found again within an election timeout, not after a long backoff.
      backoff: { initialMs: 100, maxMs: Math.max(200, Math.floor(cfg.electionMs / 4)) },
      logger: {
        debug: (msg, f) => logger.debug(f ?? {}, msg),
        info: (msg, f) => logger.info(f ?? {}, msg),
        warn: (msg, f) => logger.warn(f ?? {}, msg),
        error: (msg, f) => logger.error(f ?? {}, msg),
      },
      handlers: {
        onMessage: (m) => s.stepPeer(m),
        onSnapshot: (m, data) => s.receiveSnapshot(m, data),
        isRemoved: (id) => s.cluster.removed.has(id),
        httpHandler: peerHttpHandler(() => srv),
      },
    });
    transport.onUnreachable = (id) => s.reportUnreachable(id);
    transport.onPeerDown = (id) => s.reportPeerDown(id);
    transport.onClusterMismatch = (id, theirs) => s.reportClusterMismatch(id, theirs);
    transport.onRemoved = () => s.removedFromCluster("a peer answered that this member was removed");
    transport.onSnapshotStatus = (id, ok) => s.reportSnapshot(id, ok);
    transport.onProbe = (id, rtt) => s.metrics.peerRtt.observe({ To: hexId(id) }, rtt);
    await transport.start();
    return transport;
  });
  let listeners: ClientListeners;
  try {
    listeners = await clientListeners(server, cfg.listenClientUrls, tls.clientServer);
  } catch (e) {
    await server.stop();
    server.discardDataDir();
    throw e;
  }
  logger.info(
    {
      "local-member-id": hexId(server.id),
      "client-urls": listeners.urls().map(String),
      "peer-urls": transport!.listenUrls().map(String),
    },
    "ready to serve client requests",
  );
  return {
    server,
    peerUrls: () => transport!.listenUrls(),
    clientUrls: () => listeners.urls(),
    close: async () => {
      await listeners.close();
      await server.stop();
    },
  };
}
