// The lease workload (through the project's Client): every 1-3 s a lease with a short TTL is granted and
// one key `lease/<id>` attached to it; each lease then gets a fate drawn from the seed:
//   keep    kept alive (client.lease.keepAlive) for the rest of the run (at most 3 at a time: the oldest
//           is let go when a fourth comes, and then simply expires);
//   revoke  revoked after 0.3-2 s; once the revoke is acknowledged a linearizable get of its key must
//           find nothing (checked at once);
//   expire  left alone.
// The lease checker (checker/lease.ts) then requires, after healing: every key of a lease that was kept
// alive and never reported lost still there with its lease alive; and eventually (after the full
// restart) no key of any lease that was let go, expired or revoked.

import { Client } from "../../../src/client/client.js";
import type { LeaseKeepAlive } from "../../../src/client/keepalive.js";
import { derivedRand, type SimRand } from "../../../src/sim/seeds.js";
import { delay } from "../../e2e/cluster.js";
import type { RobustCluster } from "../cluster.js";
import { errorText } from "../history.js";
import { writeOutcome } from "./kv.js";

export type LeaseFate = "keep" | "revoke" | "expire";

export interface LeaseRecord {
  id: string;
  key: string;
  ttl: number;
  fate: LeaseFate;
  granted: number;
  /** The put attaching the key: acknowledged, certainly not done, or unknown. */
  put: "ok" | "fail" | "info";
  /** keep: when the keep-alive was closed (let go), and whether it was ever reported lost (and why). */
  releasedAt?: number;
  lost?: string;
  /** revoke: the outcome, and what the get right after an acknowledged revoke found. */
  revoke?: "ok" | "fail" | "info";
  keyAfterRevoke?: "absent" | "present" | "unknown";
}

export class LeaseWorkload {
  readonly leases: LeaseRecord[] = [];
  readonly errors: string[] = [];
  private readonly client: Client;
  private readonly rnd: SimRand;
  private readonly kept: { rec: LeaseRecord; ka: LeaseKeepAlive }[] = [];
  private stopped = false;
  private loopDone: Promise<void> | undefined;
  private readonly tasks = new Set<Promise<void>>();

  constructor(
    private readonly cluster: RobustCluster,
    seed: number,
    private readonly timeoutMs: number,
  ) {
    this.rnd = derivedRand(seed, 300);
    this.client = new Client({
      endpoints: cluster.active.map((n) => n.clientUrl),
      requestTimeoutMs: timeoutMs,
    });
  }

  start(): void {
    this.loopDone = this.loop();
  }

  private note(e: unknown): void {
    this.errors.push(errorText(e));
    if (this.errors.length > 50) this.errors.shift();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.client.setEndpoints(this.cluster.active.map((n) => n.clientUrl));
      const roll = this.rnd.intn(10);
      const fate: LeaseFate = roll < 3 ? "keep" : roll < 6 ? "revoke" : "expire";
      const ttl = fate === "keep" ? 6 : 3 + this.rnd.intn(3);
      const revokeAfter = 300 + this.rnd.intn(1700);
      const pause = 1000 + this.rnd.intn(2000);
      try {
        await this.one(fate, ttl, revokeAfter);
      } catch (e) {
        this.note(e);
      }
      await delay(pause);
    }
  }

  private async one(fate: LeaseFate, ttl: number, revokeAfter: number): Promise<void> {
    // A grant that fails is simply not tracked: a lease nobody knows the ID of holds no key.
    const g = await this.client.lease.grant(ttl, { timeoutMs: this.timeoutMs });
    const id = g.id.toString(16);
    const rec: LeaseRecord = {
      id,
      key: `lease/${id}`,
      ttl: Number(g.ttl),
      fate,
      granted: performance.now(),
      put: "info",
    };
    this.leases.push(rec);
    try {
      await this.client.put(rec.key, `v-${id}`, { lease: g.id, timeoutMs: this.timeoutMs });
      rec.put = "ok";
    } catch (e) {
      rec.put = writeOutcome(e);
      this.note(e);
    }
    if (fate === "keep") {
      const ka = this.client.lease.keepAlive(g.id);
      ka.lost.then((e) => {
        rec.lost ??= e.message;
      });
      this.kept.push({ rec, ka });
      if (this.kept.length > 3) this.release(this.kept.shift()!);
    } else if (fate === "revoke") {
      const t = this.revokeLater(rec, g.id, revokeAfter);
      this.tasks.add(t);
      void t.finally(() => this.tasks.delete(t));
    }
  }

  private release(k: { rec: LeaseRecord; ka: LeaseKeepAlive }): void {
    k.ka.close();
    k.rec.releasedAt = performance.now();
  }

  private async revokeLater(rec: LeaseRecord, id: bigint, afterMs: number): Promise<void> {
    await delay(afterMs);
    try {
      await this.client.lease.revoke(id, { timeoutMs: this.timeoutMs });
      rec.revoke = "ok";
    } catch (e) {
      rec.revoke = writeOutcome(e);
      this.note(e);
      return;
    }
    try {
      const r = await this.client.get(rec.key, { timeoutMs: this.timeoutMs });
      rec.keyAfterRevoke = r.kvs.length === 0 ? "absent" : "present";
    } catch (e) {
      rec.keyAfterRevoke = "unknown";
      this.note(e);
    }
  }

  /** Stops granting; waits for pending revokes. Kept leases stay kept until releaseAll(). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loopDone;
    await Promise.all([...this.tasks]);
  }

  /**
   * After healing: waits (bounded) for a renewal confirmed after `since` for every kept lease not
   * reported lost, so the check sees the lease as the cluster now has it. Returns those leases.
   */
  async confirmKept(since: number, timeoutMs: number): Promise<LeaseRecord[]> {
    const deadline = performance.now() + timeoutMs;
    const live = () => this.kept.filter((k) => k.rec.lost === undefined);
    const confirmed = new Set<LeaseRecord>();
    for (const k of live()) {
      k.ka.on("keepalive", () => {
        if (performance.now() > since) confirmed.add(k.rec);
      });
    }
    while (performance.now() < deadline && live().some((k) => !confirmed.has(k.rec))) await delay(100);
    return live()
      .filter((k) => confirmed.has(k.rec))
      .map((k) => k.rec);
  }

  /** What the cluster says of a lease key and its lease now (linearizable). */
  async inspect(rec: LeaseRecord): Promise<{ key: boolean; ttl: number }> {
    const r = await this.client.get(rec.key, { timeoutMs: this.timeoutMs });
    const t = await this.client.lease.timeToLive(BigInt(`0x${rec.id}`), { timeoutMs: this.timeoutMs });
    return { key: r.kvs.length > 0, ttl: Number(t.ttl) };
  }

  /** Lease keys present now (linearizable). */
  async presentKeys(): Promise<Set<string>> {
    this.client.setEndpoints(this.cluster.active.map((n) => n.clientUrl));
    const r = await this.client.get("lease/", { prefix: true, keysOnly: true, timeoutMs: this.timeoutMs });
    return new Set(r.kvs.map((kv) => kv.key.toString("utf8")));
  }

  /** Lets every kept lease go (they expire after their TTL). */
  releaseAll(): void {
    while (this.kept.length > 0) this.release(this.kept.shift()!);
  }

  close(): void {
    this.releaseAll();
    this.client.close();
  }
}
