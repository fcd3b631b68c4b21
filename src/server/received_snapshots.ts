// Databases received with the leader's snapshots, waiting for Raft to hand the snapshot to the state
// machine. A follower that is far behind may receive a second snapshot before it applied the first:
// both databases wait, each under its snapshot's index (`<snapDir>/<index as 16 hex digits>.snap.db`,
// etcd's name), and applying one discards only the older ones.
//
// The file also outlives a crash between "snapshot saved" (snap file + WAL marker, done by the Raft
// loop first) and "database swapped in": at the next start the raft snapshot is then ahead of the
// backend's consistent index, and the database is taken from here, as etcd's recoverSnapshotBackend
// does. Starting without it would mark the entries up to the snapshot as applied while the backend
// never saw them, and the member's key space (and revisions) would silently diverge from the others'.

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";

/** Where the database of the snapshot at `index` is kept until applied. */
export function snapshotDbPath(snapDir: string, index: number): string {
  return join(snapDir, `${index.toString(16).padStart(16, "0")}.snap.db`);
}

function removeDb(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}-lock`, { force: true });
}

export class ReceivedSnapshots {
  private readonly byIndex = new Map<number, string>();

  /** A database for the snapshot at `index` was received and saved at `path`. */
  add(index: number, path: string): void {
    this.byIndex.set(index, path);
  }

  /**
   * The database for the snapshot at `index` (undefined if none was received); it is no longer
   * tracked. Databases of older snapshots are deleted; newer ones stay for their own turn.
   */
  take(index: number): string | undefined {
    const path = this.byIndex.get(index);
    this.byIndex.delete(index);
    for (const [i, p] of this.byIndex) {
      if (i < index) {
        this.byIndex.delete(i);
        removeDb(p);
      }
    }
    return path;
  }

  indexes(): number[] {
    return [...this.byIndex.keys()].sort((a, b) => a - b);
  }
}

/**
 * At start: when the raft snapshot (`snapIndex`) is ahead of the backend's `consistentIndex`, the path
 * of the received database to swap in; throws when it is missing (the member cannot recover its state
 * by itself). Undefined when the backend is not behind.
 */
export function snapshotDbToRecover(
  snapDir: string,
  snapIndex: number,
  consistentIndex: number,
): string | undefined {
  if (snapIndex <= consistentIndex) return undefined;
  const path = snapshotDbPath(snapDir, snapIndex);
  if (!existsSync(path)) {
    throw new Error(
      `the raft snapshot at index ${snapIndex} is ahead of the backend (consistent index ${consistentIndex}) ` +
        `and the database received with it (${path}) is missing: this member's state cannot be recovered; ` +
        "remove it from the cluster and add it again with an empty data dir",
    );
  }
  return path;
}
