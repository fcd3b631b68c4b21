// EtcdServer: one member. It owns the Raft node and its loop, the storage layers (WAL, backend, MVCC,
// lessor, watch), the membership, and the waits that turn proposals into responses.
//
// Write path: a request gets a unique ID, is encoded as an InternalRaftRequest and proposed; applying
// the committed entry runs it against the MVCC store (with the consistent index in the same backend
// batch) and resolves the waiter registered under the ID. Reads are linearizable by ReadIndex (batched:
// one Raft round serves every read that arrived before it started) unless serializable.

import { randomInt } from "node:crypto";
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InternalRaftRequest } from "../api/gen/etcdserverpb/raft_internal.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import { AlarmRequest_AlarmAction, AlarmType } from "../api/gen/etcdserverpb/rpc.js";
import { checkAuthOptions, MemberAuth, memberAuthOptions } from "../auth/member.js";
import type { AuthInfo } from "../auth/types.js";
import { Backend } from "../backend/index.js";
import { discoverInitialCluster } from "../discovery/index.js";
import { Lessor } from "../lease/index.js";
import { KVStore } from "../mvcc/index.js";
import { WatchableStore } from "../mvcc/watch/index.js";
import { peerFetch } from "../pkg/tls/peer_fetch.js";
import { decodeConfChange } from "../raft/codec.js";
import { ProposalDroppedError } from "../raft/errors.js";
import { RawNode, type SoftState, StateType } from "../raft/rawnode.js";
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type Snapshot,
} from "../raft/types.js";
import { AlarmStore, alarmMemberString } from "./alarms.js";
import { applyRequest } from "./apply.js";
import { BackupScheduler } from "./backup/index.js";
import { type ClusterMemberView, clusterStatus } from "./cluster_status.js";
import { type Compactor, compactionPolicy, newCompactor } from "./compactor/index.js";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION, type ServerConfig } from "./config.js";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  rangeRequestFromPb,
  rangeResponseToPb,
} from "./convert.js";
import { CorruptionChecker, fetchPeerHash } from "./corruption/index.js";
import {
  catalogEntry,
  ErrGRPCBadLeaderTransferee,
  ErrGRPCLeaseNotFound,
  ErrGRPCNoLeader,
  ErrGRPCNoSpace,
  ErrGRPCNotLeader,
  ErrGRPCRequestTooLarge,
  ErrGRPCStopped,
  ErrGRPCTimeout,
  ErrGRPCTimeoutDueToLeaderFail,
  EtcdError,
  toEtcdError,
} from "./errors.js";
import { computeClusterId, computeMemberId, hexId, RequestIdGenerator, urlString } from "./ids.js";
import { fetchRemoteCluster, findSelf, type RemoteCluster, remotePeerUrls } from "./join.js";
import { decodeChangeContext, type Member, RaftCluster } from "./membership.js";
import { type PeerTraffic, ServerMetrics } from "./metrics.js";
import { BackendQuota } from "./quota.js";
import { RaftLoop } from "./raft_loop.js";
import {
  createJoiningRaftStorage,
  createRaftStorage,
  memberDirs,
  type OpenedRaftStorage,
  openRaftStorage,
  type WalMetadata,
  walExists,
} from "./raft_storage.js";
import { ReadRounds } from "./read_rounds.js";
import { ReceivedSnapshots, snapshotDbPath, snapshotDbToRecover } from "./received_snapshots.js";
import { type ReconfigRequest, type ReconfigResult, Reconfigurer } from "./reconfigure.js";
import { realTimers } from "./timers.js";
import { Wait } from "./wait.js";

export interface ServerLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** Applying an entry yields either a response or an error for the waiting request. */
export type ApplyResult = { ok: true; resp: unknown } | { ok: false; err: unknown };

/** What the server needs from the peer transport (src/transport). */
export interface Transport {
  send(msgs: readonly Message[]): void;
  sendSnapshot(m: Message, data: () => AsyncIterable<Uint8Array>): void;
  addPeer(id: bigint, urls: string[]): void;
  updatePeer(id: bigint, urls: string[]): void;
  removePeer(id: bigint): void;
  /** When the stream to `id` came up (ms since the epoch); undefined while it is down. */
  activeSince(id: bigint): number | undefined;
  /** Per-peer traffic counters (for the etcd_network_peer_* metrics). */
  stats?(): PeerTraffic[];
  close(): Promise<void>;
}

/** An error answered by the leader, rebuilt from its message (the catalog is keyed by message). */
function catalogError(message: string): EtcdError {
  const e = catalogEntry(message);
  return e !== undefined ? e() : new EtcdError(2 /* UNKNOWN */, message);
}

export type TransportFactory = (server: EtcdServer) => Promise<Transport>;

export class EtcdServer {
  readonly id: bigint;
  clusterId: bigint;
  cluster: RaftCluster;
  backend: Backend;
  kv: KVStore;
  lessor: Lessor;
  watchable: WatchableStore;
  readonly rn: RawNode;
  private readonly loop: RaftLoop;
  private transport: Transport | undefined;
  private readonly wait = new Wait<ApplyResult>();
  /** Databases received with snapshots, by snapshot index, waiting for Raft to apply the snapshot. */
  private readonly receivedDbs = new ReceivedSnapshots();
  private readonly reqIds: RequestIdGenerator;
  private readonly ticker: NodeJS.Timeout;
  private appliedIndex: number;
  private appliedTerm = 0;
  /** Index of the newest raft snapshot (log compaction point). */
  private snapshotIndex: number;
  private confState: ConfState;
  private readonly reads: ReadRounds;
  private appliedWaiters: { index: number; resolve: () => void }[] = [];
  private stopped = false;
  /** This process created the data dir (a first start): discardDataDir() may remove it. */
  private freshStart = false;
  private lastLeader = 0n;
  /** Peers that answered "cluster ID mismatch" (see reportClusterMismatch). */
  private readonly clusterMismatch = new Set<bigint>();
  private readonly reconfig: Reconfigurer;
  /** Automatic compaction; runs on every member, compacts only while this one leads. */
  private compactor: Compactor | undefined;
  /** Scheduled backups of this member's data (--backup-interval). */
  private backups: BackupScheduler | undefined;
  private readonly corruption = new CorruptionChecker(this.corruptionHost());
  /** Settles when the member stops by itself: removed from the cluster (code 0) or a fatal error (1). */
  readonly done: Promise<{ code: number; reason: string }>;
  private finish: (r: { code: number; reason: string }) => void = () => {};
  readonly reqTimeoutMs: number;
  readonly metrics = new ServerMetrics(
    () => (this.backend.isClosed ? 0 : this.backend.size()),
    () => (this.backend.isClosed ? 0 : this.backend.sizeInUse()),
  );
  /** Active alarms (replicated state, kept in the backend's alarm bucket). */
  alarms: AlarmStore;
  readonly quota: BackendQuota;
  /** Users, roles, tokens and the checks they make (src/auth); its store follows the backend. */
  readonly auth: MemberAuth;

  private constructor(
    readonly cfg: ServerConfig,
    readonly logger: ServerLogger,
    private readonly rs: OpenedRaftStorage,
  ) {
    this.id = rs.metadata.nodeId;
    this.clusterId = rs.metadata.clusterId;
    const dirs = memberDirs(cfg.dataDir, cfg.walDir);
    this.auth = new MemberAuth(memberAuthOptions(cfg), this.authHost(), logger);
    let st = this.openState(dirs.dbPath);
    // Stopped after saving a received snapshot and before swapping its database in: swap it in now.
    let recover: string | undefined;
    try {
      recover = snapshotDbToRecover(dirs.snapDir, rs.snapshot?.metadata.index ?? 0, st.kv.consistentIndex());
    } catch (e) {
      st.backend.close();
      throw e;
    }
    if (recover !== undefined) {
      logger.warn(
        {
          "snapshot-index": rs.snapshot?.metadata.index,
          "consistent-index": st.kv.consistentIndex(),
          db: recover,
        },
        "the backend is behind the raft snapshot: recovering the database received with it",
      );
      st.backend.close();
      renameSync(recover, dirs.dbPath);
      rmSync(`${recover}-lock`, { force: true });
      st = this.openState(dirs.dbPath);
    }
    this.backend = st.backend;
    this.lessor = st.lessor;
    this.kv = st.kv;
    this.watchable = st.watchable;
    this.cluster = st.cluster;
    this.alarms = st.alarms;
    this.reqIds = new RequestIdGenerator(this.id, Date.now());
    this.quota = new BackendQuota({
      quotaBackendBytes: cfg.quotaBackendBytes,
      size: () => this.backend.size(),
      raiseAlarm: () =>
        this.propose({
          alarm: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: this.id, alarm: AlarmType.NOSPACE },
        }),
      registry: this.metrics.registry,
      logger,
    });
    this.reqTimeoutMs = 5000 + 2 * cfg.electionMs;
    this.reads = new ReadRounds(
      {
        nextCtx: () => this.reqIds.next(),
        sendReadIndex: (ctx) => {
          this.rn.readIndex(ctx);
          this.loop.kick();
        },
        whenApplied: (index, f) => this.whenApplied(index, f),
        timeoutError: () => (this.leader() === 0n ? ErrGRPCNoLeader() : ErrGRPCTimeout()),
        timers: realTimers,
        warn: (f, msg) => this.logger.warn(f, msg),
      },
      this.reqTimeoutMs,
    );

    const hs = rs.hardState;
    const snapIndex = rs.snapshot?.metadata.index ?? 0;
    this.appliedIndex = Math.max(snapIndex, Math.min(this.kv.consistentIndex(), hs.commit));
    this.snapshotIndex = snapIndex;
    this.appliedTerm = Math.max(rs.snapshot?.metadata.term ?? 0, this.kv.consistentTerm());
    this.confState = rs.snapshot?.metadata.confState ?? {
      voters: [],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    this.rn = new RawNode({
      id: this.id,
      electionTick: Math.max(2, Math.round(cfg.electionMs / cfg.heartbeatMs)),
      heartbeatTick: 1,
      storage: rs.storage,
      // Raft restarts from the snapshot, not from the backend's consistent index: the conf changes
      // after the snapshot must be applied to Raft again to rebuild its membership (applyEntries skips
      // what the backend already holds).
      applied: snapIndex,
      checkQuorum: true,
      preVote: cfg.preVote,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 4096 / 8,
      maxUncommittedEntriesSize: 1 << 30,
      rand: { intn: (n: number) => randomInt(n) },
    });
    this.loop = new RaftLoop(this.rn, rs.storage, rs.wal, rs.snapshotter, {
      send: (msgs) => this.sendMessages(msgs),
      onSoftState: (ss) => this.onSoftState(ss),
      onReadStates: (states) => this.reads.onReadStates(states),
      applySnapshot: (s) => this.applySnapshot(s),
      applyEntries: (ents) => this.applyEntries(ents),
      afterReady: () => this.afterReady(),
      onFatal: (err) => this.fatal(err),
      fsyncObserved: (sec) => this.metrics.walFsync.observe(sec),
    });
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
    this.reconfig = new Reconfigurer(this.reconfigHost());
    this.ticker = setInterval(() => {
      this.rn.tick();
      this.loop.kick();
      if (cfg.addVotersAsLearners) this.reconfig.autoPromote();
    }, cfg.heartbeatMs);
    this.ticker.unref();
  }

  /** Opens the state machine on the backend file at `path`: backend, lessor, MVCC, watch, membership. */
  private openState(path: string, reuseWatchable?: WatchableStore) {
    const cfg = this.cfg;
    const backend = Backend.open(path, {
      batchIntervalMs: cfg.backendBatchIntervalMs,
      batchLimit: cfg.backendBatchLimit,
    });
    const lessor = new Lessor(backend, {
      clock: { now: () => performance.now() },
      minTtl: Math.ceil((Math.floor((3 * cfg.electionMs) / cfg.heartbeatMs / 2) * cfg.heartbeatMs) / 1000),
      onExpired: (ids) => this.revokeExpired(ids),
      onCheckpoint: (cps) => this.proposeCheckpoints(cps),
    });
    const kv = new KVStore(backend, { maxTxnOps: cfg.maxTxnOps });
    kv.setLessor(lessor);
    lessor.setRangeDeleter(() => kv.write());
    // A snapshot install keeps the watch streams: the existing store follows the new key space.
    if (reuseWatchable !== undefined) reuseWatchable.restore(kv);
    const watchable =
      reuseWatchable ??
      new WatchableStore(kv, {
        logger: {
          info: (msg, f) => this.logger.info(f ?? {}, msg),
          warn: (msg, f) => this.logger.warn(f ?? {}, msg),
        },
      });
    const cluster = new RaftCluster(backend);
    cluster.recover();
    cluster.clusterId = this.clusterId;
    const alarms = new AlarmStore(backend, this.logger);
    this.auth.open(backend);
    return { backend, lessor, kv, watchable, cluster, alarms };
  }

  /** Starts a member from its configuration: a new member of a static cluster, or a restart. */
  static async start(
    cfg: ServerConfig,
    logger: ServerLogger,
    transport: TransportFactory,
  ): Promise<EtcdServer> {
    checkAuthOptions(cfg); // bad --auth-token options stop the start before any storage is touched
    const compaction = compactionPolicy(cfg.autoCompactionMode, cfg.autoCompactionRetention);
    const dirs = memberDirs(cfg.dataDir, cfg.walDir);
    let rs: OpenedRaftStorage;
    let remote: RemoteCluster | undefined;
    const fresh = !walExists(dirs);
    // Discovery (v2/v3 registry, DNS SRV) gives a new member its initial cluster before anything is written.
    if (fresh && cfg.initialClusterState === "new") cfg = await discoverInitialCluster(cfg, logger);
    if (!fresh) {
      if (cfg.initialClusterState === "new" && cfg.initialCluster.length > 0) {
        logger.warn(
          { "data-dir": cfg.dataDir },
          "ignoring --initial-cluster-state and --initial-cluster: the member has a data directory",
        );
      }
      rs = await openRaftStorage(dirs, { forceNewCluster: cfg.forceNewCluster });
      logger.info(
        {
          "local-member-id": hexId(rs.metadata.nodeId),
          "cluster-id": hexId(rs.metadata.clusterId),
          "commit-index": rs.hardState.commit,
        },
        "restarting local member",
      );
    } else if (cfg.initialClusterState === "existing") {
      remote = await fetchRemoteCluster(remotePeerUrls(cfg), 2 * cfg.electionMs, cfg.tls?.peer);
      const self = findSelf(cfg, remote);
      rs = await createJoiningRaftStorage(dirs, { nodeId: self.id, clusterId: remote.clusterId });
      logger.info(
        { "local-member-id": hexId(self.id), "cluster-id": hexId(remote.clusterId), from: remote.from },
        "joining an existing cluster",
      );
    } else {
      const members: Member[] = cfg.initialCluster.map((m) => ({
        id: computeMemberId(m.peerUrls, cfg.initialClusterToken),
        name: m.name,
        peerUrls: m.peerUrls.map(urlString),
        clientUrls: [],
        isLearner: false,
      }));
      const self = members.find((m) => m.name === cfg.name);
      if (self === undefined) {
        throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
      }
      const clusterId = computeClusterId(members.map((m) => m.id));
      rs = await createRaftStorage(dirs, { nodeId: self.id, clusterId }, members);
      logger.info(
        { "local-member-id": hexId(self.id), "cluster-id": hexId(clusterId) },
        "starting local member of a new cluster",
      );
    }
    const s = new EtcdServer(cfg, logger, rs);
    s.freshStart = fresh;
    try {
      if (!fresh) checkDataDirOwner(cfg, rs.metadata, s.cluster);
      if (cfg.backupIntervalMs > 0) {
        s.backups = new BackupScheduler(
          {
            dir: cfg.backupDir !== "" ? cfg.backupDir : join(cfg.dataDir, "backups"),
            intervalMs: cfg.backupIntervalMs,
            retention: cfg.backupRetention,
          },
          s.backupHost(),
        );
        s.backups.start(); // an unusable backup dir stops the start
      }
      // A restarted member compares its key space with its peers' before it serves anything, and
      // before its transport starts: no message (a leader's snapshot swapping the backend) arrives
      // while it hashes. Peers are asked over their own peer URLs.
      if (!fresh && cfg.initialCorruptCheck) await s.corruption.initialCheck();
      s.transport = await transport(s);
    } catch (e) {
      await s.backups?.stop();
      await s.transport?.close();
      await s.closeStorage();
      if (fresh) s.discardDataDir();
      throw e;
    }
    for (const m of s.cluster.members.values()) if (m.id !== s.id) s.transport.addPeer(m.id, m.peerUrls);
    // A joining member knows the others from their answer until the log (or a snapshot) brings the
    // membership; messages from the leader arrive as soon as the leader has applied this member's add.
    for (const m of remote?.members ?? []) {
      if (m.id !== s.id && !s.cluster.members.has(m.id)) s.transport.addPeer(m.id, m.peerUrls);
    }
    s.lessor.start();
    s.metrics.serverId.set({ server_id: hexId(s.id) }, 1);
    s.metrics.watchPeers(() => s.transport?.stats?.() ?? []);
    s.metrics.serverVersion.set({ server_version: ETCD_SERVER_VERSION }, 1);
    s.compactor = newCompactor(compaction, s.compactorHost());
    s.compactor?.run();
    if (s.isLeader()) s.compactor?.resume(); // leadership may have come while the transport started
    if (cfg.corruptCheckTimeMs > 0) s.corruption.startPeriodic(cfg.corruptCheckTimeMs);
    s.loop.kick();
    void s.publish();
    return s;
  }

  /**
   * A first start that failed (e.g. a port in use) leaves no half-initialised data dir behind: the
   * next attempt bootstraps afresh. Only for a stopped member created by this process.
   */
  discardDataDir(): void {
    if (!this.freshStart) return;
    const dirs = memberDirs(this.cfg.dataDir, this.cfg.walDir);
    rmSync(dirs.memberDir, { recursive: true, force: true });
    if (this.cfg.walDir !== "") rmSync(dirs.walDir, { recursive: true, force: true });
  }

  // ---- identity and status -------------------------------------------------------------------

  header(): pb.ResponseHeader {
    return {
      clusterId: this.clusterId,
      memberId: this.id,
      revision: BigInt(this.kv.rev()),
      raftTerm: BigInt(this.rn.raft.term),
    };
  }

  leader(): bigint {
    return this.rn.raft.lead;
  }

  isLeader(): boolean {
    return this.rn.raft.state === StateType.Leader;
  }

  isLearner(): boolean {
    return this.cluster.members.get(this.id)?.isLearner ?? false;
  }

  applied(): number {
    return this.appliedIndex;
  }

  members(): Member[] {
    return this.cluster.sorted();
  }

  // ---- proposals -----------------------------------------------------------------------------

  /** Proposes a request and waits until it is applied; rejects with etcd's errors on timeout. */
  async propose(req: Partial<InternalRaftRequest>, ai?: AuthInfo): Promise<unknown> {
    if (this.stopped) throw ErrGRPCStopped();
    const id = this.reqIds.next();
    const full = InternalRaftRequest.fromPartial({
      ...req,
      header: { ID: id, username: ai?.username ?? "", authRevision: BigInt(ai?.revision ?? 0) },
    });
    const data = InternalRaftRequest.encode(full).finish();
    if (data.length > this.cfg.maxRequestBytes) throw ErrGRPCRequestTooLarge();
    const deadline = performance.now() + this.reqTimeoutMs;
    const result = this.wait.register(id, this.rn.raft.term);
    // The waiter may be failed (timeout) while this call still waits for a leader: never unhandled.
    result.catch(() => {});
    const timer = setTimeout(() => this.wait.fail(id, ErrGRPCTimeout()), this.reqTimeoutMs);
    try {
      for (;;) {
        try {
          this.rn.propose(data);
          this.loop.kick();
          break;
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
          // No leader (or a transfer in progress): wait for one until the request times out.
          const left = deadline - performance.now();
          if (left <= 0 || !(await this.waitLeader(left))) throw ErrGRPCTimeout();
        }
      }
      const r = await result;
      if (!r.ok) throw r.err;
      return r.resp;
    } catch (e) {
      this.wait.fail(id, e);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves true once a leader is known, false after ms. */
  private waitLeader(ms: number): Promise<boolean> {
    return this.waitSoftState((ss) => ss.lead !== 0n, ms);
  }

  // ---- linearizable reads (ReadIndex) --------------------------------------------------------

  /** Resolves once this member has applied everything committed before the call (linearizable). */
  linearizableReadNotify(): Promise<void> {
    if (this.stopped) return Promise.reject(ErrGRPCStopped());
    return this.reads.notify();
  }

  private whenApplied(index: number, f: () => void): void {
    if (this.appliedIndex >= index) f();
    else this.appliedWaiters.push({ index, resolve: f });
  }

  // ---- Raft loop hooks -----------------------------------------------------------------------

  private sendMessages(msgs: Message[]): void {
    const out: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) this.sendSnapshot(m);
      else out.push(m);
    }
    this.transport?.send(out);
  }

  /**
   * Sends a follower the whole state machine: the raft snapshot's metadata is replaced by the applied
   * index, term and membership, and the data is the backend as of now, which is exactly that state
   * (etcd's merged snapshot message).
   */
  private sendSnapshot(m: Message): void {
    const merged: Message = {
      ...m,
      snapshot: {
        data: new Uint8Array(0),
        metadata: { index: this.appliedIndex, term: this.appliedTerm, confState: this.confState },
      },
    };
    const backend = this.backend.snapshot();
    this.logger.info({ to: hexId(m.to), index: this.appliedIndex }, "sending database snapshot");
    if (this.transport === undefined) return;
    this.transport.sendSnapshot(merged, () => backend);
  }

  /** A snapshot from the leader: its database is restored next to ours before Raft sees the message. */
  async receiveSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const index = m.snapshot?.metadata.index ?? 0;
    const path = snapshotDbPath(memberDirs(this.cfg.dataDir, this.cfg.walDir).snapDir, index);
    const be = await Backend.restoreFrom(data, path, { overwrite: true });
    be.close();
    this.receivedDbs.add(index, path);
    this.logger.info({ from: hexId(m.from), index }, "received and saved database snapshot");
    this.stepPeer(m);
  }

  /** Delivers a message received from a peer. */
  stepPeer(m: Message): void {
    if (this.stopped) return;
    try {
      this.rn.step(m);
    } catch (e) {
      this.logger.debug({ error: String(e), from: hexId(m.from) }, "dropped peer message");
      return;
    }
    this.loop.kick();
  }

  reportUnreachable(id: NodeId): void {
    this.rn.reportUnreachable(id);
    this.loop.kick();
  }

  /**
   * Peer `id` says it belongs to another cluster. Once every other member says so and none has ever
   * accepted this member's stream, this data dir is not of their cluster: stop with a clear error
   * rather than retry forever (etcd only logs).
   */
  reportClusterMismatch(id: NodeId, theirs: string): void {
    this.clusterMismatch.add(id);
    const others = [...this.cluster.members.keys()].filter((x) => x !== this.id);
    if (others.length === 0 || !others.every((x) => this.clusterMismatch.has(x))) return;
    if (others.some((x) => this.transport?.activeSince(x) !== undefined)) return;
    const msg =
      `the data dir ${this.cfg.dataDir} belongs to cluster ${hexId(this.clusterId)}, but every other ` +
      `member answers for cluster ${theirs || "(another)"}: this member is not part of their cluster; ` +
      "remove its data dir and add it again with `etcdctl member add`";
    this.logger.error({ "local-member-id": hexId(this.id), "remote-cluster-id": theirs }, msg);
    void this.stop().finally(() => this.finish({ code: 1, reason: msg }));
  }

  /** Peer `id`'s process is gone (its URLs refuse connections); if it led, campaign early. */
  reportPeerDown(id: NodeId): void {
    this.rn.reportLeaderDown(id);
    this.loop.kick();
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.rn.reportSnapshot(id, ok);
    this.loop.kick();
  }

  private onSoftState(ss: SoftState): void {
    for (const w of [...this.softStateWaiters]) if (w.pred(ss)) w.done(true);
    this.metrics.hasLeader.set(ss.lead !== 0n ? 1 : 0);
    this.metrics.isLeader.set(ss.raftState === StateType.Leader ? 1 : 0);
    if (ss.lead !== 0n && ss.lead !== this.lastLeader) {
      this.metrics.leaderChanges.inc();
      // A read index request in flight to the previous leader may be lost with it; reads are safe to
      // ask again, so ask the new leader rather than wait for the timeout.
      this.reads.restart();
    }
    this.lastLeader = ss.lead;
    if (ss.raftState === StateType.Leader) this.compactor?.resume();
    else this.compactor?.pause();
    if (ss.raftState === StateType.Leader) {
      this.lessor.promote(this.cfg.electionMs);
      this.logger.info({ "local-member-id": hexId(this.id), term: this.rn.raft.term }, "became leader");
    } else {
      this.lessor.demote();
    }
    if (ss.lead === 0n) this.logger.warn({ "local-member-id": hexId(this.id) }, "no leader");
  }

  private applySnapshot(s: Snapshot): void {
    // A newer snapshot's database may have arrived meanwhile: it stays for its own turn.
    const path = this.receivedDbs.take(s.metadata.index);
    if (path === undefined) {
      this.fatal(new Error(`no database received for snapshot at index ${s.metadata.index}`));
      return;
    }
    // Swap the state machine: close the old backend, move the received one in place, reopen.
    const dbPath = memberDirs(this.cfg.dataDir, this.cfg.walDir).dbPath;
    this.lessor.stop();
    this.backend.close();
    renameSync(path, dbPath);
    rmSync(`${path}-lock`, { force: true });
    const st = this.openState(dbPath, this.watchable);
    this.backend = st.backend;
    this.lessor = st.lessor;
    this.kv = st.kv;
    this.watchable = st.watchable;
    this.cluster = st.cluster;
    this.alarms = st.alarms;
    this.lessor.start();
    for (const m of this.cluster.members.values()) {
      if (m.id !== this.id) this.transport?.addPeer(m.id, m.peerUrls);
    }
    this.logger.info({ index: s.metadata.index }, "applied database snapshot from the leader");
    this.appliedIndex = s.metadata.index;
    this.appliedTerm = s.metadata.term;
    this.confState = s.metadata.confState;
  }

  private applyEntries(ents: Entry[]): void {
    for (const e of ents) {
      if (e.index <= this.appliedIndex && e.type !== EntryType.ConfChange) continue;
      if (e.term > this.appliedTerm) {
        // A new leader's log is authoritative from its first entry on: a proposal made in an earlier
        // term that is not applied by now was lost with its leader (or, rarely, re-forwarded and still
        // to come). Answer at once with etcd's indeterminate error rather than at the request timeout.
        this.wait.failBefore(e.term, ErrGRPCTimeoutDueToLeaderFail);
      }
      if (e.type === EntryType.ConfChange) this.applyConfChange(e);
      else if (e.data.length > 0 && e.index > this.kv.consistentIndex()) this.applyRequest(e);
      if (e.index > this.kv.consistentIndex()) this.kv.setConsistentIndex(e.index, e.term);
      this.appliedIndex = Math.max(this.appliedIndex, e.index);
      this.appliedTerm = e.term;
    }
    this.metrics.proposalsApplied.set(this.appliedIndex);
    this.metrics.proposalsCommitted.set(this.rn.raft.raftLog.committed);
    if (this.appliedWaiters.length > 0) {
      const ready = this.appliedWaiters.filter((w) => w.index <= this.appliedIndex);
      this.appliedWaiters = this.appliedWaiters.filter((w) => w.index > this.appliedIndex);
      for (const w of ready) w.resolve();
    }
  }

  private applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    this.confState = this.rn.applyConfChange(cc);
    const ctx = cc.context.length > 0 ? decodeChangeContext(cc.context) : undefined;
    // Membership already recorded in the backend (re-applied after a restart) is left as it is.
    if (e.index > this.kv.consistentIndex()) {
      for (const ch of cc.changes) this.applyMemberChange(ch.type, ch.nodeId, ctx);
    }
    if (ctx?.reqId !== undefined) this.wait.trigger(ctx.reqId, { ok: true, resp: e.index });
    if (cc.changes.some((ch) => ch.type === ConfChangeType.RemoveNode && ch.nodeId === this.id)) {
      this.removedFromCluster("applied the conf change removing this member");
    }
  }

  private applyMemberChange(
    type: ConfChangeType,
    id: bigint,
    ctx: ReturnType<typeof decodeChangeContext> | undefined,
  ): void {
    switch (type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode: {
        if (ctx?.isPromote) {
          this.cluster.update(id, (m) => {
            m.isLearner = false;
            delete m.autoPromote;
          });
          this.logger.info({ "promoted-member-id": hexId(id) }, "promoted a learner member to voter");
          return;
        }
        if (ctx === undefined) return;
        const m = ctx.member;
        m.isLearner = type === ConfChangeType.AddLearnerNode;
        this.cluster.add(m);
        if (m.id !== this.id) this.transport?.addPeer(m.id, m.peerUrls);
        this.logger.info(
          { "added-member-id": hexId(m.id), "added-member-peer-urls": m.peerUrls, "is-learner": m.isLearner },
          "added member",
        );
        return;
      }
      case ConfChangeType.RemoveNode:
        this.cluster.remove(id);
        if (id !== this.id) this.transport?.removePeer(id);
        this.logger.info({ "removed-member-id": hexId(id) }, "removed member");
        return;
      case ConfChangeType.UpdateNode: {
        if (ctx === undefined) return;
        const urls = ctx.member.peerUrls;
        this.cluster.update(id, (cur) => {
          cur.peerUrls = urls;
        });
        if (id !== this.id) this.transport?.updatePeer(id, urls);
        this.logger.info({ "updated-member-id": hexId(id), "updated-peer-urls": urls }, "updated member");
        return;
      }
    }
  }

  /**
   * This member was removed (it applied its own removal, or a peer answered that it is removed): it
   * stops for good, as etcd does, and the process exits with status 0.
   */
  removedFromCluster(how: string): void {
    if (this.stopped) return;
    this.logger.warn(
      { "local-member-id": hexId(this.id), how },
      "the member has been permanently removed from the cluster",
    );
    this.logger.warn({ "data-dir": this.cfg.dataDir }, "the data-dir used by this member must be removed");
    // Stop after the current Ready is done (this runs inside the apply step).
    setImmediate(() => {
      void this.stop().finally(() =>
        this.finish({ code: 0, reason: "the member has been permanently removed from the cluster" }),
      );
    });
  }

  // ---- membership changes --------------------------------------------------------------------

  private corruptionHost() {
    return {
      id: () => this.id,
      ownHash: async () => {
        const h = await this.kv.hashKVAsync(0);
        return {
          id: this.id,
          hash: h.hash,
          compactRevision: h.compactRevision,
          hashRevision: h.hashRevision,
        };
      },
      peers: () =>
        [...this.cluster.members.values()]
          .filter((m) => m.id !== this.id)
          .map((m) => ({ id: m.id, urls: m.peerUrls })),
      peerHash: (id: bigint, urls: string[], revision: number) =>
        fetchPeerHash(id, urls, revision, {
          clusterId: hexId(this.clusterId),
          from: hexId(this.id),
          timeoutMs: this.reqTimeoutMs,
          tls: this.cfg.tls?.peer,
        }),
      raiseCorruptAlarm: async (id: bigint) => {
        await this.propose({
          alarm: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: id, alarm: AlarmType.CORRUPT },
        });
      },
      isLeader: () => this.isLeader(),
      timers: realTimers,
      info: (f: object, msg: string) => this.logger.info(f, msg),
      warn: (f: object, msg: string) => this.logger.warn(f, msg),
      error: (f: object, msg: string) => this.logger.error(f, msg),
    };
  }

  private backupHost() {
    const m = this.metrics;
    return {
      member: this.cfg.name,
      appliedIndex: () => this.appliedIndex,
      revision: () => this.kv.rev(),
      snapshot: () => this.backend.snapshot(),
      wallClock: () => Date.now(),
      timers: realTimers,
      info: (f: object, msg: string) => this.logger.info(f, msg),
      warn: (f: object, msg: string) => this.logger.warn(f, msg),
      observe: (r: { ok: boolean; seconds: number; bytes?: number; wallMs: number }) => {
        m.backupDuration.observe(r.seconds);
        if (!r.ok) {
          m.backupFailures.inc();
          return;
        }
        m.backupLastSuccess.set(r.wallMs / 1000);
        m.backupLastSize.set(r.bytes ?? 0);
      },
    };
  }

  private compactorHost() {
    return {
      rev: () => this.kv.rev(),
      compact: async (rev: number) => {
        await this.compact({ revision: BigInt(rev), physical: false });
      },
      info: (f: object, msg: string) => this.logger.info(f, msg),
      warn: (f: object, msg: string) => this.logger.warn(f, msg),
      timers: realTimers,
    };
  }

  private reconfigHost() {
    return {
      id: this.id,
      cluster: () => this.cluster,
      cfg: this.cfg,
      isLeader: () => this.isLeader(),
      leader: () => this.leader(),
      activeSince: (id: bigint) => this.transport?.activeSince(id),
      progress: () => this.rn.status().progress,
      nextRequestId: () => this.reqIds.next(),
      confChangeSettled: () => this.confChangeSettled(),
      proposeConfChange: (cc: ConfChange, reqId: bigint) => this.proposeConfChange(cc, reqId),
      appliedTo: (index: number) => new Promise<void>((r) => this.whenApplied(index, r)),
      forward: async (req: ReconfigRequest) =>
        (await this.forwardToLeader("/members/reconfig", req)) as unknown as ReconfigResult,
      now: () => Date.now(),
    };
  }

  /** Resolves once every conf change this leader knows of has been applied. */
  private async confChangeSettled(): Promise<void> {
    const pending = this.rn.raft.pendingConfIndex;
    if (pending > this.appliedIndex) await new Promise<void>((r) => this.whenApplied(pending, r));
  }

  /** Proposes a conf change; resolves with its index once applied. */
  private async proposeConfChange(cc: ConfChange, reqId: bigint): Promise<number> {
    if (this.stopped) throw ErrGRPCStopped();
    const result = this.wait.register(reqId, this.rn.raft.term);
    result.catch(() => {});
    const timer = setTimeout(() => this.wait.fail(reqId, ErrGRPCTimeout()), this.reqTimeoutMs);
    try {
      this.rn.proposeConfChange(cc);
      this.loop.kick();
      const r = await result;
      if (!r.ok) throw r.err;
      return r.resp as number;
    } catch (e) {
      this.wait.fail(reqId, e);
      if (e instanceof ProposalDroppedError) throw ErrGRPCNotLeader();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The leader's side of a change forwarded by another member (peer POST /members/reconfig). */
  reconfigureAsLeader(req: ReconfigRequest): Promise<ReconfigResult> {
    return this.reconfig.lead(req);
  }

  private membersResponse(): { header: pb.ResponseHeader; members: pb.Member[] } {
    return { header: this.header(), members: this.memberListPb() };
  }

  async memberAdd(r: pb.MemberAddRequest): Promise<pb.MemberAddResponse> {
    const res = await this.reconfig.run({ op: "add", peerUrls: r.peerURLs, isLearner: r.isLearner });
    const m = res.member!;
    return {
      ...this.membersResponse(),
      member: {
        ID: BigInt(`0x${m.id}`),
        name: "",
        peerURLs: m.peerUrls,
        clientURLs: [],
        isLearner: m.isLearner,
      },
    };
  }

  async memberRemove(r: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse> {
    await this.reconfig.run({ op: "remove", id: hexId(r.ID) });
    return this.membersResponse();
  }

  async memberUpdate(r: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse> {
    await this.reconfig.run({ op: "update", id: hexId(r.ID), peerUrls: r.peerURLs });
    return this.membersResponse();
  }

  async memberPromote(r: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse> {
    await this.reconfig.run({ op: "promote", id: hexId(r.ID) });
    return this.membersResponse();
  }

  private applyRequest(e: Entry): void {
    let req: InternalRaftRequest;
    try {
      req = InternalRaftRequest.decode(e.data);
    } catch (err) {
      this.logger.error(
        { index: e.index, error: String(err) },
        "cannot decode a committed entry; skipping it",
      );
      return;
    }
    const id = req.header?.ID ?? req.ID;
    this.countApplied(req);
    let result: ApplyResult;
    try {
      result = { ok: true, resp: this.applier(req, e.index) };
    } catch (err) {
      result = { ok: false, err };
    }
    if (!result.ok && ErrGRPCNoSpace.matches(result.err) && !this.alarms.has(AlarmType.NOSPACE)) {
      // Past the quota when applied: raise the alarm first, then answer (as etcd).
      const r = result;
      setImmediate(() => void this.quota.raiseAlarmFromApply().finally(() => this.wait.trigger(id, r)));
      return;
    }
    this.wait.trigger(id, result);
  }

  /** etcd_mvcc_{put,delete,txn}_total count the requests every member applies. */
  private countApplied(req: InternalRaftRequest): void {
    const m = this.metrics;
    if (req.put) m.mvccPut.inc();
    else if (req.deleteRange) m.mvccDelete.inc();
    else if (req.txn) m.mvccTxn.inc();
  }

  private applier(req: InternalRaftRequest, index: number): unknown {
    return applyRequest(
      {
        kv: this.kv,
        lessor: this.lessor,
        cluster: this.cluster,
        alarms: this.alarms,
        quota: this.quota,
        header: (rev) => ({ ...this.header(), revision: BigInt(rev) }),
        auth: { store: this.auth.store, lessor: this.lessor, index, header: () => this.header() },
      },
      req,
    );
  }

  /** What src/auth needs from the member. */
  private authHost() {
    return {
      propose: (req: Partial<InternalRaftRequest>, ai?: AuthInfo) => this.propose(req, ai),
      linearizableReadNotify: () => this.linearizableReadNotify(),
      waitApplied: (index: number) =>
        new Promise<boolean>((resolve) => {
          // An index far past this member's log is not one it will apply soon (a forged token).
          if (index > this.rn.raft.raftLog.lastIndex() + 100_000) return resolve(false);
          const t = setTimeout(() => resolve(false), this.reqTimeoutMs);
          this.whenApplied(index, () => {
            clearTimeout(t);
            resolve(true);
          });
        }),
      leases: () => this.lessor,
    };
  }

  /**
   * Every --snapshot-count applied entries: record a raft snapshot at the applied index (its state is the
   * backend, made durable first), release older WAL segments and compact the in-memory log, keeping
   * --snapshot-catchup-entries so slightly slow followers still catch up from the log (as etcd).
   */
  private afterReady(): void {
    if (this.appliedIndex - this.snapshotIndex <= this.cfg.snapshotCount) return;
    const index = this.appliedIndex;
    const storage = this.rs.storage;
    if (index <= storage.snapshot().metadata.index || index > storage.lastIndex()) return;
    this.backend.forceCommit();
    const snap = storage.createSnapshot(index, this.confState, new Uint8Array(0));
    this.rs.snapshotter.save(snap);
    this.snapshotIndex = index;
    void this.rs.wal
      .saveSnapshot({ index, term: snap.metadata.term, confState: this.confState })
      .then(() => {
        this.rs.wal.releaseLockTo(index);
        this.rs.snapshotter.purge(this.cfg.maxSnapshots);
      })
      .catch((e: unknown) => this.fatal(e));
    const compactTo = index - this.cfg.snapshotCatchUpEntries;
    if (compactTo > storage.firstIndex()) storage.compact(compactTo);
    this.logger.info(
      { "local-member-id": hexId(this.id), "snapshot-index": index, "compact-index": compactTo },
      "saved snapshot and compacted raft log",
    );
  }

  // ---- the v3 API (called by src/api) --------------------------------------------------------

  /** `chk` (auth) runs after the linearizable wait, on the state the range then reads. */
  async range(r: pb.RangeRequest, chk?: () => void): Promise<pb.RangeResponse> {
    checkRangeRequest(r);
    this.metrics.mvccRange.inc();
    if (!r.serializable) await this.linearizableReadNotify();
    chk?.();
    try {
      const resp = rangeResponseToPb(this.kv.rangeRequest(rangeRequestFromPb(r)));
      resp.header = this.header();
      return resp;
    } catch (e) {
      throw toEtcdError(e);
    }
  }

  async put(r: pb.PutRequest, ai?: AuthInfo): Promise<pb.PutResponse> {
    checkPutRequest(r);
    await this.quota.check({ put: r });
    return (await this.propose({ put: r }, ai)) as pb.PutResponse;
  }

  async deleteRange(r: pb.DeleteRangeRequest, ai?: AuthInfo): Promise<pb.DeleteRangeResponse> {
    checkDeleteRangeRequest(r);
    return (await this.propose({ deleteRange: r }, ai)) as pb.DeleteRangeResponse;
  }

  async txn(r: pb.TxnRequest, ai?: AuthInfo): Promise<pb.TxnResponse> {
    checkTxnRequest(r, this.cfg.maxTxnOps);
    await this.quota.check({ txn: r });
    return (await this.propose({ txn: r }, ai)) as pb.TxnResponse;
  }

  async compact(r: pb.CompactionRequest, ai?: AuthInfo): Promise<pb.CompactionResponse> {
    const res = (await this.propose({ compaction: r }, ai)) as {
      header: pb.ResponseHeader;
      done: Promise<void>;
    };
    if (r.physical) await res.done;
    return { header: res.header };
  }

  async leaseGrant(r: pb.LeaseGrantRequest, ai?: AuthInfo): Promise<pb.LeaseGrantResponse> {
    // The proposer picks the ID so every member grants the same one (int64, never 0).
    await this.quota.check({ leaseGrant: r });
    const ID = r.ID !== 0n ? r.ID : this.reqIds.next() & 0x7fffffffffffffffn;
    return (await this.propose({ leaseGrant: { ID, TTL: r.TTL } }, ai)) as pb.LeaseGrantResponse;
  }

  async leaseRevoke(r: pb.LeaseRevokeRequest, ai?: AuthInfo): Promise<pb.LeaseRevokeResponse> {
    if (this.lessor.lookup(r.ID) === undefined) throw ErrGRPCLeaseNotFound();
    return (await this.propose({ leaseRevoke: r }, ai)) as pb.LeaseRevokeResponse;
  }

  /** Renews a lease; the leader owns the expiry clocks, so a follower forwards to it (as etcd). */
  async leaseRenew(id: bigint): Promise<bigint> {
    if (!this.isLeader()) {
      const body = await this.forwardToLeader("/leases/renew", { id: id.toString() });
      return BigInt(body.ttl as string);
    }
    try {
      return BigInt(await this.lessor.renew(id));
    } catch (e) {
      throw toEtcdError(e);
    }
  }

  /** The remaining TTL as the leader sees it (followers keep no lease clocks). */
  async leaseRemainingTtl(id: bigint): Promise<number> {
    if (!this.isLeader()) {
      const body = await this.forwardToLeader("/leases/ttl", { id: id.toString() });
      return Number(body.ttl);
    }
    try {
      return this.lessor.timeToLive(id, false).ttl;
    } catch (e) {
      throw toEtcdError(e);
    }
  }

  /**
   * Calls the leader's peer endpoint `path` (JSON in and out). Errors come back as etcd's catalog
   * errors by message; no leader or an unreachable leader is etcd's "no leader"/timeout.
   */
  private async forwardToLeader(path: string, req: object): Promise<Record<string, unknown>> {
    const lead = this.leader();
    if (lead === 0n) throw ErrGRPCNoLeader();
    const urls = this.cluster.peerUrlsOf(lead);
    let lastErr: unknown = ErrGRPCNoLeader();
    for (const u of urls) {
      try {
        const res = await peerFetch(
          `${u}${path}`,
          {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-Etcd-Cluster-ID": hexId(this.clusterId) },
            body: JSON.stringify(req),
            signal: AbortSignal.timeout(this.reqTimeoutMs),
          },
          this.cfg.tls?.peer,
        );
        const body = (await res.json()) as Record<string, unknown>;
        if (typeof body.error === "string") throw toEtcdError(catalogError(body.error));
        return body;
      } catch (e) {
        if (e instanceof EtcdError) throw e;
        lastErr = ErrGRPCTimeout();
      }
    }
    throw lastErr;
  }

  async leaseTimeToLive(r: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    await this.linearizableReadNotify();
    const l = this.lessor.lookup(r.ID);
    if (l === undefined) return { header: this.header(), ID: r.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
    const ttl = await this.leaseRemainingTtl(r.ID);
    const keys = r.keys ? this.lessor.keysOf(r.ID).map((k) => Buffer.from(k)) : [];
    return { header: this.header(), ID: r.ID, TTL: BigInt(ttl), grantedTTL: BigInt(l.ttl), keys };
  }

  async leaseLeases(): Promise<pb.LeaseLeasesResponse> {
    await this.linearizableReadNotify();
    return { header: this.header(), leases: this.lessor.leases().map((l) => ({ ID: l.id })) };
  }

  memberListPb(): pb.Member[] {
    return this.members().map((m) => ({
      ID: m.id,
      name: m.name,
      peerURLs: m.peerUrls,
      clientURLs: m.clientUrls,
      isLearner: m.isLearner,
    }));
  }

  async memberList(linearizable: boolean): Promise<pb.MemberListResponse> {
    if (linearizable) await this.linearizableReadNotify();
    return { header: this.header(), members: this.memberListPb() };
  }

  async status(): Promise<pb.StatusResponse> {
    return {
      header: this.header(),
      version: ETCD_SERVER_VERSION,
      dbSize: BigInt(this.backend.size()),
      leader: this.leader(),
      raftIndex: BigInt(this.rn.raft.raftLog.committed),
      raftTerm: BigInt(this.rn.raft.term),
      raftAppliedIndex: BigInt(this.appliedIndex),
      errors: this.alarms.get().map(alarmMemberString),
      dbSizeInUse: BigInt(this.backend.sizeInUse()),
      isLearner: this.rn.raft.isLearner,
      storageVersion: "",
      dbSizeQuota: BigInt(this.cfg.quotaBackendBytes),
      downgradeInfo: undefined,
    };
  }

  /** Every member's status, this one's and the others' over the peer URLs (the dashboard's view). */
  clusterStatus(): Promise<ClusterMemberView[]> {
    return clusterStatus({
      self: this.id,
      clusterId: this.clusterId,
      members: this.members(),
      ownStatus: () => this.status(),
      tls: this.cfg.tls?.peer,
    });
  }

  async hashKV(r: pb.HashKVRequest): Promise<pb.HashKVResponse> {
    try {
      const h = await this.kv.hashKVAsync(Number(r.revision));
      return {
        header: this.header(),
        hash: h.hash,
        compactRevision: BigInt(h.compactRevision),
        hashRevision: BigInt(h.hashRevision),
      };
    } catch (e) {
      throw toEtcdError(e);
    }
  }

  async hash(): Promise<pb.HashResponse> {
    this.backend.forceCommit();
    return { header: this.header(), hash: this.kv.hash() };
  }

  /** Online: the member keeps serving and applying while the copy is made (Backend.defragOnline). */
  async defragment(): Promise<pb.DefragmentResponse> {
    const t0 = performance.now();
    await this.backend.defragOnline();
    this.metrics.defragDuration.observe((performance.now() - t0) / 1000);
    return { header: this.header() };
  }

  /** A consistent copy of the backend, as a byte stream (etcd's Maintenance.Snapshot). */
  snapshot(): AsyncIterable<Uint8Array> {
    this.backend.forceCommit();
    return this.backend.snapshot();
  }

  /** Maintenance.Alarm: every action, GET included, goes through Raft (as etcd). */
  async alarm(r: pb.AlarmRequest, ai?: AuthInfo): Promise<pb.AlarmResponse> {
    return (await this.propose({ alarm: r }, ai)) as pb.AlarmResponse;
  }

  /** The active alarms as this member has applied them (no Raft round: /health reads these). */
  activeAlarms(): pb.AlarmMember[] {
    return this.alarms.get();
  }

  versions(): { server: string; cluster: string | undefined } {
    return { server: ETCD_SERVER_VERSION, cluster: ETCD_CLUSTER_VERSION };
  }

  async moveLeader(r: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse> {
    if (!this.isLeader()) throw ErrGRPCNotLeader();
    if (!this.cluster.members.has(r.targetID)) throw ErrGRPCBadLeaderTransferee();
    this.rn.transferLeader(r.targetID);
    this.loop.kick();
    const deadline = performance.now() + this.reqTimeoutMs;
    while (this.leader() !== r.targetID) {
      if (performance.now() > deadline) throw ErrGRPCTimeoutDueToLeaderFail();
      await this.waitLeader(Math.max(1, deadline - performance.now()));
    }
    return { header: this.header() };
  }

  // ---- leases --------------------------------------------------------------------------------

  private revokeExpired(ids: bigint[]): void {
    // The member's own doing, as root (etcd's WithRoot): auth must not keep expired keys alive.
    const root = this.auth.internalRoot();
    for (const id of ids) {
      this.propose({ leaseRevoke: { ID: id } }, root).catch((e: unknown) => {
        this.logger.debug({ lease: hexId(id), error: String(e) }, "failed to revoke expired lease");
      });
    }
  }

  private async proposeCheckpoints(cps: { id: bigint; remainingTtl: number }[]): Promise<void> {
    await this.propose({
      leaseCheckpoint: { checkpoints: cps.map((c) => ({ ID: c.id, remainingTTL: BigInt(c.remainingTtl) })) },
    });
  }

  // ---- publishing this member's attributes ---------------------------------------------------

  private async publish(): Promise<void> {
    const attrs = { name: this.cfg.name, clientUrls: this.cfg.advertiseClientUrls.map((u) => urlString(u)) };
    while (!this.stopped) {
      try {
        await this.propose({ clusterMemberAttrSet: { memberID: this.id, memberAttributes: attrs } });
        this.logger.info(
          { "local-member-id": hexId(this.id), "local-member-attributes": attrs },
          "published local member to cluster through raft",
        );
        return;
      } catch (e) {
        if (this.stopped) return;
        this.logger.warn({ error: String(e) }, "failed to publish local member to cluster through raft");
      }
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /**
   * A stopping leader first hands leadership to the most up-to-date voter, so the cluster does not
   * wait an election timeout for a new leader (etcd does the same on SIGTERM).
   */
  private async handOverLeadership(): Promise<void> {
    let best = 0n;
    let bestMatch = -1;
    for (const [id, pr] of this.rn.status().progress) {
      if (id !== this.id && !pr.isLearner && pr.recentActive && pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best === 0n) return;
    this.logger.info(
      { "local-member-id": hexId(this.id), transferee: hexId(best) },
      "leadership transfer on stop",
    );
    this.rn.transferLeader(best);
    this.loop.kick();
    await this.waitSoftState((ss) => ss.raftState !== StateType.Leader, this.cfg.electionMs);
  }

  private softStateWaiters: { pred: (ss: SoftState) => boolean; done: (met: boolean) => void }[] = [];

  /** Resolves true when a soft state change satisfies pred, false after ms. */
  private waitSoftState(pred: (ss: SoftState) => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const w = {
        pred,
        done: (met: boolean) => {
          clearTimeout(t);
          this.softStateWaiters = this.softStateWaiters.filter((x) => x !== w);
          resolve(met);
        },
      };
      const t = setTimeout(() => w.done(false), ms);
      this.softStateWaiters.push(w);
    });
  }

  private fatal(err: unknown): void {
    this.logger.error(
      { error: err instanceof Error ? (err.stack ?? err.message) : String(err) },
      "raft loop failed; stopping",
    );
    void this.stop().finally(() => this.finish({ code: 1, reason: String(err) }));
  }

  /**
   * Stops the member (idempotent: every caller gets the same promise; a removed leader is stopped both
   * by applying its removal and by a peer's 410). The storage is closed only after the Raft loop has
   * finished the Ready it had in hand.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private stopping: Promise<void> | undefined;

  private async doStop(): Promise<void> {
    if (this.isLeader()) await this.handOverLeadership();
    this.stopped = true;
    clearInterval(this.ticker);
    this.compactor?.stop();
    const backupsDone = this.backups?.stop();
    const corruptionDone = this.corruption.stop();
    const loopDone = this.loop.stop();
    this.lessor.stop();
    this.auth.close();
    this.wait.failAll(ErrGRPCStopped());
    this.reads.failAll(ErrGRPCStopped());
    await this.transport?.close();
    await loopDone;
    await backupsDone;
    await corruptionDone;
    await this.closeStorage();
  }

  private async closeStorage(): Promise<void> {
    this.backend.forceCommit();
    this.backend.close();
    await this.rs.wal.close();
  }
}

/**
 * A restart with `--initial-cluster-state new` ignores the bootstrap flags (as etcd does), unless they
 * name a different member of a different cluster than the data dir holds, under a different name:
 * then the data dir is another member's (a copied or mistyped path), and serving it would make this
 * process impersonate that member.
 */
function checkDataDirOwner(cfg: ServerConfig, md: WalMetadata, cluster: RaftCluster): void {
  // --force-new-cluster starts whatever member the data dir holds (a backup has placeholder IDs).
  if (cfg.initialClusterState !== "new" || cfg.forceNewCluster) return;
  const self = cfg.initialCluster.find((m) => m.name === cfg.name);
  if (self === undefined) return;
  const flagId = computeMemberId(self.peerUrls, cfg.initialClusterToken);
  const flagCid = computeClusterId(
    cfg.initialCluster.map((m) => computeMemberId(m.peerUrls, cfg.initialClusterToken)),
  );
  const storedName = cluster.members.get(md.nodeId)?.name ?? "";
  if (flagId === md.nodeId || flagCid === md.clusterId || storedName === "" || storedName === cfg.name) {
    return;
  }
  throw new Error(
    `data dir ${cfg.dataDir} belongs to member ${storedName} (${hexId(md.nodeId)}) of cluster ` +
      `${hexId(md.clusterId)}, not to member ${cfg.name} (${hexId(flagId)}) of the cluster ` +
      `--initial-cluster describes (${hexId(flagCid)}); start ${cfg.name} with its own data dir, ` +
      "or an empty one to bootstrap it",
  );
}
