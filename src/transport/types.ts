// Options, callbacks, statistics and wire constants of the peer transport.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { RaftLogger } from "../raft/logger.js";
import type { Message } from "../raft/types.js";
import type { BackoffOptions } from "./backoff.js";
import type { PeerNet } from "./net.js";

/** What the transport delivers to, and asks of, the member that owns it. */
export interface TransportHandlers {
  /** A message from a peer, for Raft. Called in the order the sender sent, per sender. */
  onMessage(m: Message): void;
  /**
   * A MsgSnap with the backend snapshot that follows it. Resolve once the data is durably saved
   * (the sender then reports success); reject to report failure. `data` fails if the sender's stream
   * breaks before its end.
   */
  onSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
  /** True for a member removed from the cluster: its requests are answered 410 Gone. */
  isRemoved(id: bigint): boolean;
  /** Other peer endpoints (GET /members, GET /version): return true when the request was handled. */
  httpHandler?(req: IncomingMessage, res: ServerResponse): boolean;
}

export interface PeerTransportOptions {
  memberId: bigint;
  /** 0n while a joining member does not know it yet (see setClusterId). */
  clusterId: bigint;
  /** Every --listen-peer-urls URL; port 0 picks a free port (read the result from listenUrls()). */
  listenUrls: URL[];
  handlers: TransportHandlers;
  /** Default: warnings and errors to stderr. */
  logger?: RaftLogger;
  /** Messages queued per peer before sends are dropped. Default 4096 (etcd's stream buffer). */
  queueLimit?: number;
  /** Encoded bytes queued per peer before sends are dropped. Default 64 MiB. */
  queueBytesLimit?: number;
  /** Connect and get the stream accepted within this, or give up the attempt. Default 1000 ms. */
  dialTimeoutMs?: number;
  /** A stream that brings nothing (not even a heartbeat) for this long is dead. Default 5000 ms. */
  connReadTimeoutMs?: number;
  /** Idle streams send a heartbeat this often. Default connReadTimeoutMs / 3. */
  heartbeatMs?: number;
  /** RTT probe period per peer; 0 disables probing. Default 1000 ms. */
  probeIntervalMs?: number;
  /** Reconnection backoff. Default 100 ms doubling to 5 s, 20% jitter. */
  backoff?: BackoffOptions;
  /** Random source in [0, 1) for the backoff jitter. Default Math.random. */
  random?: () => number;
  /** A snapshot transfer with no socket activity for this long fails. Default 30000 ms. */
  snapshotIdleTimeoutMs?: number;
  /** Largest frame accepted on an incoming stream. Default 512 MiB. */
  maxFrameBytes?: number;
  /**
   * This member's advertised peer URLs, sent as X-PeerURLs: a member that does not know this one yet
   * (it has not applied the conf change adding it) dials them to answer.
   */
  advertiseUrls?: string[];
  /** Sent as X-Server-Version. */
  serverVersion?: string;
  /** Listener and dialer; default plain HTTP. */
  net?: PeerNet;
}

/** Per-peer counters, from this member's point of view. */
export interface PeerStats {
  id: bigint;
  /** The peer's URLs, and the one in use (or tried next). */
  urls: string[];
  url: string;
  /** Whether the outgoing stream is up, and since when (ms since the epoch). */
  active: boolean;
  activeSince: number | undefined;
  /** Messages and bytes written to the outgoing stream. */
  sentMessages: number;
  sentBytes: number;
  /** Messages dropped (queue full, or peer unreachable). */
  droppedMessages: number;
  /** Messages waiting in the queue, their encoded bytes, and bytes the socket has not flushed yet. */
  queuedMessages: number;
  queuedBytes: number;
  bufferedBytes: number;
  /** Failed connection attempts and broken streams. */
  errors: number;
  /** Messages and bytes received from this peer on its incoming stream. */
  receivedMessages: number;
  receivedBytes: number;
  /** Smoothed RTT of the probes in seconds (undefined before the first answer), last sample, failures. */
  rttSeconds: number | undefined;
  lastRttSeconds: number | undefined;
  probeFailures: number;
  /** Snapshots sent to this peer: succeeded, failed. */
  snapshotsSent: number;
  snapshotsFailed: number;
}

export const HEADER_CLUSTER_ID = "x-etcd-cluster-id";
export const HEADER_FROM = "x-server-from";
export const HEADER_TO = "x-raft-to";
/** Accepted as a synonym of X-Raft-To. */
export const HEADER_TO_ALT = "x-server-to";
export const HEADER_PEER_URLS = "x-peerurls";
export const HEADER_SERVER_VERSION = "x-server-version";

export const PATH_STREAM = "/raft/stream/";
export const PATH_SNAPSHOT = "/raft/snapshot";
export const PATH_PROBING = "/raft/probing";

/** etcd's texts. */
export const TEXT_CLUSTER_ID_MISMATCH = "cluster ID mismatch";
export const TEXT_TO_MISMATCH = "to field mismatch";
export const TEXT_MEMBER_REMOVED = "the member has been permanently removed from the cluster";

/** Member and cluster IDs on the wire: lowercase hex without padding, as etcd's types.ID prints them. */
export function idToHex(id: bigint): string {
  return id.toString(16);
}

/** Parses a hex ID; undefined if it is not 1-16 hex digits. */
export function idFromHex(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt(`0x${s}`);
}
