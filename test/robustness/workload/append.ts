// The append workload: clients (lib and raw, pinned round-robin) put keys `app/<client>/<n>`, each key
// written once. Acknowledged ones must survive everything (checker/durability.ts); ones that certainly
// failed must never appear; indeterminate ones may or may not.

import { derivedRand, type SimRand } from "../../../src/sim/seeds.js";
import { delay } from "../../e2e/cluster.js";
import type { RobustCluster } from "../cluster.js";
import { errorText, type Status } from "../history.js";
import { type KvClient, makeKvClient, writeOutcome } from "./kv.js";

export interface AppendAttempt {
  key: string;
  value: string;
  client: string;
  status: Status;
  /** The revision the put was acknowledged at. */
  revision?: number;
  call: number;
  ret?: number;
  error?: string;
}

export class AppendWorkload {
  readonly attempts: AppendAttempt[] = [];
  private readonly clients: KvClient[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopped = false;

  constructor(
    private readonly cluster: RobustCluster,
    private readonly seed: number,
    private readonly clientCount: number,
    private readonly thinkMs: [number, number],
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.clientCount; i++) {
      const rnd = derivedRand(this.seed, 400, i);
      const c = makeKvClient(`app-${i}`, i + 1, this.cluster, rnd, this.timeoutMs);
      this.clients.push(c);
      this.loops.push(this.loop(c, rnd));
    }
  }

  private async loop(c: KvClient, rnd: SimRand): Promise<void> {
    const [lo, hi] = this.thinkMs;
    for (let n = 0; !this.stopped; n++) {
      const key = `app/${c.name}/${String(n).padStart(7, "0")}`;
      const a: AppendAttempt = {
        key,
        value: `${c.name}:${n}`,
        client: c.name,
        status: "info",
        call: performance.now(),
      };
      this.attempts.push(a);
      try {
        const r = await c.write(key, a.value);
        a.status = "ok";
        a.revision = r.revision;
        a.ret = performance.now();
      } catch (e) {
        a.status = writeOutcome(e);
        a.error = errorText(e);
        if (a.status === "fail") a.ret = performance.now();
      }
      await delay(lo + rnd.intn(hi - lo + 1));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** A client for the final read (the first one). */
  reader(): KvClient {
    return this.clients[0]!;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
