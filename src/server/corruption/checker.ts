// Corruption checks between members (--experimental-initial-corrupt-check,
// --experimental-corrupt-check-time). Both compare this member's HashKV at its current revision with
// what the other members hash at that same revision.
//
// - Initial: before a restarted member serves, a hash that differs from a peer's over the same compacted
//   range stops the start ("<id> found data inconsistency with peers"); peers that cannot answer (down,
//   behind, compacted past the revision) are skipped, as in etcd.
// - Periodic: the leader checks every interval and raises the CORRUPT alarm for the members judged
//   corrupt (judge.ts: the majority's hash is the truth), which stops writes cluster-wide until an
//   operator disarms it. Followers keep the timer but do nothing.

import type { Timers } from "../timers.js";
import { corruptMembers, type MemberHash } from "./judge.js";
import type { PeerHashAnswer } from "./peer_hash.js";

export interface CorruptionHost {
  id(): bigint;
  /** This member's hash at its current revision (scanned without blocking the event loop). */
  ownHash(): Promise<MemberHash>;
  /** The other members (voters and learners) with their peer URLs. */
  peers(): { id: bigint; urls: string[] }[];
  peerHash(id: bigint, urls: string[], revision: number): Promise<PeerHashAnswer>;
  raiseCorruptAlarm(id: bigint): Promise<void>;
  isLeader(): boolean;
  timers: Timers;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

const hex = (id: bigint) => id.toString(16);

export class CorruptionError extends Error {}

export class CorruptionChecker {
  private cancel: (() => void) | undefined;
  private stopped = false;
  private running: Promise<unknown> | undefined;

  constructor(private readonly host: CorruptionHost) {}

  /** Throws CorruptionError when a peer hashes the same range differently. */
  async initialCheck(): Promise<void> {
    const h = this.host;
    const own = await h.ownHash();
    h.info(
      { "local-member-id": hex(h.id()), revision: own.hashRevision, "compact-revision": own.compactRevision },
      "starting initial corruption check",
    );
    const answers = await this.askPeers(own.hashRevision);
    let mismatch = 0;
    for (const { id, answer } of answers) {
      const fields = {
        "local-member-id": hex(h.id()),
        "local-member-hash": own.hash,
        "local-member-compact-revision": own.compactRevision,
        "remote-peer-id": hex(id),
        revision: own.hashRevision,
      };
      if ("error" in answer) {
        h.warn({ ...fields, error: answer.error }, peerErrorMessage(answer.error));
        continue;
      }
      const p = answer.ok;
      if (p.hash === own.hash) continue;
      if (p.compactRevision === own.compactRevision) {
        h.warn({ ...fields, "remote-peer-hash": p.hash }, "found different hash values from remote peer");
        mismatch++;
      } else {
        h.warn(
          { ...fields, "remote-peer-compact-revision": p.compactRevision },
          "found different compact revision values from remote peer",
        );
      }
    }
    if (mismatch > 0) throw new CorruptionError(`${hex(h.id())} found data inconsistency with peers`);
    h.info({ "local-member-id": hex(h.id()) }, "initial corruption checking passed; no corruption");
  }

  /** Checks every `intervalMs` while this member leads. */
  startPeriodic(intervalMs: number): void {
    const loop = () => {
      if (this.stopped) return;
      this.cancel = this.host.timers.after(intervalMs, () => {
        if (!this.host.isLeader()) return loop();
        const p = this.periodicCheck().catch((e: unknown) =>
          this.host.warn({ error: String((e as Error)?.message ?? e) }, "failed to check corruption"),
        );
        this.running = p;
        void p.finally(() => {
          this.running = undefined;
          loop();
        });
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.running;
  }

  /** One check from the leader: returns the members it raised the CORRUPT alarm for. */
  async periodicCheck(): Promise<bigint[]> {
    const h = this.host;
    const own = await h.ownHash();
    const answers = await this.askPeers(own.hashRevision);
    const peers: MemberHash[] = [];
    for (const { id, answer } of answers) {
      if ("ok" in answer) peers.push(answer.ok);
      else h.warn({ "remote-peer-id": hex(id), error: answer.error }, peerErrorMessage(answer.error));
    }
    const corrupt = corruptMembers(own, peers);
    for (const id of corrupt) {
      h.error(
        {
          "local-member-id": hex(h.id()),
          "corrupt-member-id": hex(id),
          revision: own.hashRevision,
          "compact-revision": own.compactRevision,
          hashes: Object.fromEntries([own, ...peers].map((m) => [hex(m.id), m.hash])),
        },
        "found data inconsistency; raising the CORRUPT alarm",
      );
      await h.raiseCorruptAlarm(id);
    }
    if (corrupt.length === 0)
      h.info({ "number-of-peers-checked": peers.length }, "finished peer corruption check");
    return corrupt;
  }

  private askPeers(revision: number) {
    return Promise.all(
      this.host
        .peers()
        .map(async (p) => ({ id: p.id, answer: await this.host.peerHash(p.id, p.urls, revision) })),
    );
  }
}

function peerErrorMessage(error: string): string {
  if (error.includes("future revision")) return "cannot fetch hash from slow remote peer";
  if (error.includes("has been compacted"))
    return "cannot fetch hash from remote peer; local member is behind";
  return "cannot fetch hash from remote peer";
}
