// The member's Raft storage on disk: WAL + snapshot files, mirrored into a MemoryStorage that the Raft
// core reads (as etcd does). Creating a new member writes the bootstrap entries (one conf change per
// initial member, committed at term 1) so every initial member starts from an identical log.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { decodeConfChange, encodeConfChange } from "../raft/codec.js";
import { MemoryStorage } from "../raft/storage.js";
import {
  ConfChangeTransition,
  ConfChangeType,
  type Entry,
  EntryType,
  type HardState,
  type Snapshot,
} from "../raft/types.js";
import { Snapshotter, WAL } from "../wal/index.js";
import { encodeMemberContext, type Member } from "./membership.js";

export interface MemberDirs {
  memberDir: string;
  walDir: string;
  snapDir: string;
  dbPath: string;
}

export function memberDirs(dataDir: string, walDir: string): MemberDirs {
  const memberDir = join(dataDir, "member");
  return {
    memberDir,
    walDir: walDir !== "" ? walDir : join(memberDir, "wal"),
    snapDir: join(memberDir, "snap"),
    dbPath: join(memberDir, "snap", "db"),
  };
}

/** WAL metadata: which member and cluster this log belongs to. */
export interface WalMetadata {
  nodeId: bigint;
  clusterId: bigint;
}

export function encodeMetadata(md: WalMetadata): Uint8Array {
  return Buffer.from(
    JSON.stringify({ nodeId: md.nodeId.toString(16), clusterId: md.clusterId.toString(16) }),
  );
}

export function decodeMetadata(b: Uint8Array): WalMetadata {
  const o = JSON.parse(Buffer.from(b).toString("utf8")) as { nodeId: string; clusterId: string };
  return { nodeId: BigInt(`0x${o.nodeId}`), clusterId: BigInt(`0x${o.clusterId}`) };
}

export interface OpenedRaftStorage {
  wal: WAL;
  snapshotter: Snapshotter;
  storage: MemoryStorage;
  metadata: WalMetadata;
  snapshot: Snapshot | undefined;
  hardState: HardState;
}

export function walExists(dirs: MemberDirs): boolean {
  return WAL.exists(dirs.walDir);
}

/** Creates the WAL of a new member of a new cluster with the bootstrap entries. */
export async function createRaftStorage(
  dirs: MemberDirs,
  md: WalMetadata,
  initialMembers: readonly Member[],
): Promise<OpenedRaftStorage> {
  mkdirSync(dirs.snapDir, { recursive: true });
  const wal = await WAL.create(dirs.walDir, encodeMetadata(md));
  const ents: Entry[] = initialMembers.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({
      transition: ConfChangeTransition.Auto,
      changes: [{ type: m.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, nodeId: m.id }],
      context: encodeMemberContext(m),
    }),
  }));
  const hardState: HardState = { term: 1, vote: 0n, commit: ents.length };
  await wal.save(hardState, ents, true);
  const storage = new MemoryStorage();
  storage.append(ents);
  storage.setHardState(hardState);
  return {
    wal,
    snapshotter: new Snapshotter(dirs.snapDir),
    storage,
    metadata: md,
    snapshot: undefined,
    hardState,
  };
}

/** Creates the WAL of a member joining an existing cluster: an empty log, filled by the leader. */
export async function createJoiningRaftStorage(
  dirs: MemberDirs,
  md: WalMetadata,
): Promise<OpenedRaftStorage> {
  mkdirSync(dirs.snapDir, { recursive: true });
  const wal = await WAL.create(dirs.walDir, encodeMetadata(md));
  const hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  return {
    wal,
    snapshotter: new Snapshotter(dirs.snapDir),
    storage: new MemoryStorage(),
    metadata: md,
    snapshot: undefined,
    hardState,
  };
}

/**
 * Opens an existing member's WAL from its newest valid snapshot and replays it into memory. With
 * `forceNewCluster` the member becomes the only voter of a one-member cluster (forceNewCluster below).
 */
export async function openRaftStorage(
  dirs: MemberDirs,
  opts: { forceNewCluster?: boolean } = {},
): Promise<OpenedRaftStorage> {
  if (!existsSync(dirs.snapDir)) mkdirSync(dirs.snapDir, { recursive: true });
  const snapshotter = new Snapshotter(dirs.snapDir);
  const walSnaps = await WAL.validSnapshotEntries(dirs.walDir);
  const snapshot = snapshotter.loadNewestAvailable(walSnaps);
  const at = snapshot
    ? { index: snapshot.metadata.index, term: snapshot.metadata.term }
    : { index: 0, term: 0 };
  const wal = await WAL.open(dirs.walDir, at);
  let { metadata, hardState, entries } = wal.readAll();
  const md = decodeMetadata(metadata);
  if (opts.forceNewCluster) {
    ({ hardState, entries } = await forceNewCluster(wal, md.nodeId, snapshot, hardState, entries));
  }
  const storage = new MemoryStorage();
  if (snapshot) storage.applySnapshot(snapshot);
  storage.setHardState(hardState);
  storage.append(entries);
  return { wal, snapshotter, storage, metadata: md, snapshot, hardState };
}

/**
 * --force-new-cluster (etcd's restartAsStandaloneNode): uncommitted entries are dropped, then conf
 * changes are appended after the commit index that add this member (unless it is a member already) and
 * remove every other member known from the snapshot and the log, and the commit index moves to the last
 * of them. They are written to the WAL with that commit index, so they stay committed across restarts;
 * the server applies them on start like any committed entry, leaving this member the only voter. The
 * cluster ID stays; a member added here gets etcd's placeholder peer URL until updated.
 */
async function forceNewCluster(
  wal: WAL,
  self: bigint,
  snapshot: Snapshot | undefined,
  hardState: HardState,
  entries: Entry[],
): Promise<{ hardState: HardState; entries: Entry[] }> {
  const kept = entries.filter((e) => e.index <= hardState.commit);
  const ids = new Set<bigint>([
    ...(snapshot?.metadata.confState.voters ?? []),
    ...(snapshot?.metadata.confState.learners ?? []),
  ]);
  for (const e of kept) {
    if (e.type !== EntryType.ConfChange) continue;
    for (const ch of decodeConfChange(e.data).changes) {
      if (ch.type === ConfChangeType.AddNode || ch.type === ConfChangeType.AddLearnerNode) ids.add(ch.nodeId);
      else if (ch.type === ConfChangeType.RemoveNode) ids.delete(ch.nodeId);
    }
  }
  const term = hardState.term;
  let index = hardState.commit;
  const conf = (type: ConfChangeType, nodeId: bigint, context: Uint8Array): Entry => ({
    term,
    index: ++index,
    type: EntryType.ConfChange,
    data: encodeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type, nodeId }], context }),
  });
  const added: Entry[] = [];
  // Self first: the set of voters must never become empty.
  if (!ids.has(self)) {
    const m: Member = {
      id: self,
      name: "",
      peerUrls: ["http://localhost:2380"],
      clientUrls: [],
      isLearner: false,
    };
    added.push(conf(ConfChangeType.AddNode, self, encodeMemberContext(m)));
  }
  for (const id of [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (id !== self) added.push(conf(ConfChangeType.RemoveNode, id, new Uint8Array(0)));
  }
  const hs: HardState = { ...hardState, commit: index };
  await wal.save(hs, added, true);
  return { hardState: hs, entries: [...kept, ...added] };
}
