// The member's Raft storage on disk: WAL + snapshot files, mirrored into a MemoryStorage that the Raft
// core reads (as etcd does). Creating a new member writes the bootstrap entries (one conf change per
// initial member, committed at term 1) so every initial member starts from an identical log.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { encodeConfChange } from "../raft/codec.js";
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

function encodeMetadata(md: WalMetadata): Uint8Array {
  return Buffer.from(
    JSON.stringify({ nodeId: md.nodeId.toString(16), clusterId: md.clusterId.toString(16) }),
  );
}

function decodeMetadata(b: Uint8Array): WalMetadata {
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

/** Opens an existing member's WAL from its newest valid snapshot and replays it into memory. */
export async function openRaftStorage(dirs: MemberDirs): Promise<OpenedRaftStorage> {
  if (!existsSync(dirs.snapDir)) mkdirSync(dirs.snapDir, { recursive: true });
  const snapshotter = new Snapshotter(dirs.snapDir);
  const walSnaps = await WAL.validSnapshotEntries(dirs.walDir);
  const snapshot = snapshotter.loadNewestAvailable(walSnaps);
  const at = snapshot
    ? { index: snapshot.metadata.index, term: snapshot.metadata.term }
    : { index: 0, term: 0 };
  const wal = await WAL.open(dirs.walDir, at);
  const { metadata, hardState, entries } = wal.readAll();
  const storage = new MemoryStorage();
  if (snapshot) storage.applySnapshot(snapshot);
  storage.setHardState(hardState);
  storage.append(entries);
  return { wal, snapshotter, storage, metadata: decodeMetadata(metadata), snapshot, hardState };
}
