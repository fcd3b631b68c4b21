// The register workload: a few keys, many clients (lib and raw, pinned to different members), each
// running one operation at a time: read, write (a put of a value unique in the run), or compare-and-set
// (a Txn: if value == the last value this client saw, put a new one, else read it). Every operation
// goes into the History for the linearizability checker.

import { derivedRand, type SimRand } from "../../../src/sim/seeds.js";
import { delay } from "../../e2e/cluster.js";
import type { RobustCluster } from "../cluster.js";
import { History, type RegisterInput, type RegisterOutput } from "../history.js";
import { type ClientKind, type KvClient, makeKvClient, writeOutcome } from "./kv.js";

export interface RegisterOptions {
  seed: number;
  keys: number;
  clients: number;
  /** Serializable reads (served locally, may be stale): the checker must then fail under partitions. */
  serializableReads: boolean;
  /** Pause between a client's operations (ms, uniform in the range). */
  thinkMs: [number, number];
  timeoutMs: number;
  kinds?: readonly ClientKind[];
  /** Extra raw clients, one pinned to each member in turn, that only read (they never block on a write). */
  readers?: number;
}

export class RegisterWorkload {
  readonly history = new History<RegisterInput, RegisterOutput>();
  private stopped = false;
  private loops: Promise<void>[] = [];
  private clients: KvClient[] = [];
  private seq = 0;

  constructor(
    private readonly cluster: RobustCluster,
    readonly opts: RegisterOptions,
  ) {}

  keyName(i: number): string {
    return `reg/${i}`;
  }

  start(): void {
    for (let i = 0; i < this.opts.clients; i++) {
      const rnd = derivedRand(this.opts.seed, 100, i);
      const c = makeKvClient(`reg-${i}`, i, this.cluster, rnd, this.opts.timeoutMs, this.opts.kinds);
      this.clients.push(c);
      this.loops.push(this.loop(c, rnd, false));
    }
    for (let i = 0; i < (this.opts.readers ?? 0); i++) {
      const rnd = derivedRand(this.opts.seed, 101, i);
      const c = makeKvClient(`reader-${i}`, i, this.cluster, rnd, this.opts.timeoutMs, ["raw"]);
      this.clients.push(c);
      this.loops.push(this.loop(c, rnd, true));
    }
  }

  private async loop(c: KvClient, rnd: SimRand, readOnly: boolean): Promise<void> {
    const known = new Map<string, string>();
    const [lo, hi] = this.opts.thinkMs;
    while (!this.stopped) {
      const key = this.keyName(rnd.intn(this.opts.keys));
      const roll = rnd.intn(4);
      const expect = known.get(key);
      if (readOnly || roll <= 1 || (roll === 3 && expect === undefined)) await this.read(c, key, known);
      else if (roll === 2) await this.write(c, key, known);
      else await this.cas(c, key, expect!, known);
      await delay(lo + rnd.intn(hi - lo + 1));
    }
  }

  private value(c: KvClient): string {
    return `${c.name}.${this.seq++}`;
  }

  private async read(c: KvClient, key: string, known: Map<string, string>): Promise<void> {
    const op = this.history.invoke(c.name, { f: "read", key }, c.member());
    try {
      const r = await c.read(key, this.opts.serializableReads);
      this.history.ok(op, { value: r.value }, r.revision);
      if (r.value !== null) known.set(key, r.value);
    } catch (e) {
      this.history.fail(op, e);
    }
  }

  private async write(c: KvClient, key: string, known: Map<string, string>): Promise<void> {
    const value = this.value(c);
    const op = this.history.invoke(c.name, { f: "write", key, value }, c.member());
    try {
      const r = await c.write(key, value);
      this.history.ok(op, {}, r.revision);
      known.set(key, value);
    } catch (e) {
      if (writeOutcome(e) === "fail") this.history.fail(op, e);
      else this.history.info(op, e);
    }
  }

  private async cas(c: KvClient, key: string, expect: string, known: Map<string, string>): Promise<void> {
    const value = this.value(c);
    const op = this.history.invoke(c.name, { f: "cas", key, expect, value }, c.member());
    try {
      const r = await c.cas(key, expect, value);
      this.history.ok(op, r.ok ? { ok: true } : { ok: false, value: r.value }, r.revision);
      if (r.ok) known.set(key, value);
      else if (r.value !== null) known.set(key, r.value);
      else known.delete(key);
    } catch (e) {
      if (writeOutcome(e) === "fail") this.history.fail(op, e);
      else this.history.info(op, e);
    }
  }

  /** Stops the loops (each finishes its operation in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** A linearizable read of every key through every client (after healing; part of the history). */
  async finalReads(): Promise<void> {
    for (const c of this.clients) {
      for (let k = 0; k < this.opts.keys; k++) {
        const key = this.keyName(k);
        const op = this.history.invoke(`${c.name}-final`, { f: "read", key }, c.member());
        try {
          const r = await c.read(key, false);
          this.history.ok(op, { value: r.value }, r.revision);
        } catch (e) {
          this.history.fail(op, e);
        }
      }
    }
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
