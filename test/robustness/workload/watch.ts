// The watch workload: watchers of the whole key space from revision 1, recording every event they get.
//
//   - raw watchers: the generated Watch stream on one member (half of them with require-leader), with no
//     client-side filtering at all, so a duplicate, a gap or a reordering by the server is recorded as
//     is. When the stream fails, stalls (a progress request unanswered for 4 s) or, every 5-12 s (from
//     the seed), on purpose, the watcher resumes on another member from one past the last revision it
//     got: the concatenation must continue exactly.
//   - a lib watcher: the project's Client.watch, which resumes by itself (and drops what it already
//     delivered, so only gaps and reorderings can show there).
//
// collectEvents() reads the reference: everything from revision 1 up to a given revision, from one
// member, after the run.

import type { ClientDuplexStream } from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";
import {
  type WatchRequest,
  WatchRequest as WatchRequestMsg,
  type WatchResponse,
} from "../../../src/api/gen/etcdserverpb/rpc.js";
import { type Event, Event_EventType } from "../../../src/api/gen/mvccpb/kv.js";
import { Client } from "../../../src/client/client.js";
import type { Watcher } from "../../../src/client/watcher.js";
import { derivedRand, pick, type SimRand } from "../../../src/sim/seeds.js";
import { delay } from "../../e2e/cluster.js";
import type { Node, RobustCluster } from "../cluster.js";
import { leaderMetadata, type RawEndpoint, utf8 } from "../rpc.js";

export interface WatchedEvent {
  rev: number;
  key: string;
  type: "put" | "delete";
  value: string;
}

export interface WatcherRecord {
  name: string;
  events: WatchedEvent[];
  /** Streams (re)opened after the first. */
  resumes: number;
  /** Errors seen (stream failures, cancellations), newest last, at most 50. */
  errors: string[];
}

const ALL = new Uint8Array([0]);

function fromPb(e: Event): WatchedEvent {
  const kv = e.kv!;
  return {
    rev: Number(kv.modRevision),
    key: utf8(kv.key),
    type: e.type === Event_EventType.DELETE ? "delete" : "put",
    value: utf8(kv.value),
  };
}

function createReq(startRevision: number): WatchRequest {
  return WatchRequestMsg.fromPartial({
    requestUnion: {
      $case: "createRequest",
      value: { key: ALL, rangeEnd: ALL, startRevision: BigInt(startRevision) },
    },
  });
}

const progressReq = (): WatchRequest =>
  WatchRequestMsg.fromPartial({ requestUnion: { $case: "progressRequest", value: {} } });

/** A watcher on the raw Watch stream. */
export class RawWatcher {
  readonly record: WatcherRecord;
  /** Highest revision known delivered: the last event's, or a progress notification's. */
  caughtUpTo = 0;
  private stopped = false;
  private stream: ClientDuplexStream<WatchRequest, WatchResponse> | undefined;
  private done: Promise<void> | undefined;
  private node: Node;

  constructor(
    name: string,
    private readonly cluster: RobustCluster,
    start: Node,
    private readonly requireLeader: boolean,
    private readonly rnd: SimRand,
  ) {
    this.record = { name, events: [], resumes: 0, errors: [] };
    this.node = start;
  }

  private next(): number {
    const ev = this.record.events;
    return ev.length > 0 ? ev[ev.length - 1]!.rev + 1 : 1;
  }

  private note(err: string): void {
    this.record.errors.push(err);
    if (this.record.errors.length > 50) this.record.errors.shift();
  }

  start(): void {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      if (!first) this.record.resumes++;
      first = false;
      const live = this.cluster.active.filter((n) => n.running && !n.paused);
      if (this.node.removed || !this.node.running)
        this.node = live.length > 0 ? pick(this.rnd, live) : this.node;
      await this.session(this.node.rpc(), 5000 + this.rnd.intn(7000));
      if (this.stopped) break;
      // Next time elsewhere (or the same member, by chance).
      const active = this.cluster.active.filter((n) => n.running);
      if (active.length > 0) this.node = pick(this.rnd, active);
      await delay(100);
    }
  }

  /** One stream: resolves when it failed, stalled, or ran for `lifeMs`. */
  private session(ep: RawEndpoint, lifeMs: number): Promise<void> {
    return new Promise((resolve) => {
      const md = this.requireLeader ? leaderMetadata() : new Metadata();
      const s = ep.watch.watch(md);
      this.stream = s;
      let lastData = performance.now();
      let finished = false;
      const finish = (why?: string) => {
        if (finished) return;
        finished = true;
        if (why !== undefined) this.note(`${this.node.name}: ${why}`);
        clearInterval(timer);
        s.removeAllListeners("data");
        s.on("error", () => {});
        s.cancel();
        this.stream = undefined;
        resolve();
      };
      const born = performance.now();
      const timer = setInterval(() => {
        if (this.stopped) return finish();
        const now = performance.now();
        if (now - lastData > 4000) return finish("stalled (no answer for 4 s)");
        if (now - born > lifeMs) return finish();
        s.write(progressReq());
      }, 1000);
      s.on("data", (r: WatchResponse) => {
        lastData = performance.now();
        if (r.canceled) return finish(`canceled: ${r.cancelReason}`);
        if (r.events.length > 0) {
          for (const e of r.events) this.record.events.push(fromPb(e));
          this.caughtUpTo = Math.max(this.caughtUpTo, this.record.events[this.record.events.length - 1]!.rev);
        } else if (!r.created && r.header !== undefined && r.watchId === -1n) {
          // A progress notification: every change up to header.revision was delivered.
          this.caughtUpTo = Math.max(this.caughtUpTo, Number(r.header.revision));
        }
      });
      s.on("error", (e: Error) => finish(this.stopped ? undefined : `error: ${e.message}`));
      s.on("end", () => finish(this.stopped ? undefined : "stream ended"));
      s.write(createReq(this.next()));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.cancel();
    await this.done;
  }
}

/** A watcher through the project's Client (which resumes by itself). */
export class LibWatcher {
  readonly record: WatcherRecord;
  private client: Client;
  private w: Watcher | undefined;
  private stopped = false;
  private done: Promise<void> | undefined;
  private roster = "";
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(
    name: string,
    private readonly cluster: RobustCluster,
  ) {
    this.record = { name, events: [], resumes: 0, errors: [] };
    this.client = new Client({ endpoints: cluster.active.map((n) => n.clientUrl), requestTimeoutMs: 5000 });
  }

  /** Keeps the client's endpoints on the current members (the stream moves when it next fails). */
  private sync(): void {
    const urls = this.cluster.active.map((n) => n.clientUrl);
    if (urls.join(",") === this.roster) return;
    this.roster = urls.join(",");
    this.client.setEndpoints(urls);
  }

  /** Highest revision delivered (events or progress). */
  get caughtUpTo(): number {
    return this.w ? Number(this.w.nextRevision) - 1 : 0;
  }

  start(): void {
    this.syncTimer = setInterval(() => this.sync(), 500);
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const ev = this.record.events;
      const from = ev.length > 0 ? ev[ev.length - 1]!.rev + 1 : 1;
      try {
        this.sync();
        const w = await this.client.watch("", { prefix: true, startRevision: BigInt(from) });
        this.w = w;
        w.on("resumed", () => this.record.resumes++);
        w.on("event", (e) => {
          this.record.events.push({
            rev: Number(e.kv.modRevision),
            key: e.kv.key.toString("utf8"),
            type: e.type,
            value: e.kv.value.toString("utf8"),
          });
        });
        await w.done;
      } catch (e) {
        this.record.errors.push(String(e));
        if (this.record.errors.length > 50) this.record.errors.shift();
      }
      if (!this.stopped) await delay(200);
    }
  }

  /** Asks for a progress notification (so caughtUpTo advances when idle). */
  requestProgress(): void {
    this.client.requestWatchProgress();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.syncTimer);
    await this.w?.cancel().catch(() => {});
    this.client.close();
    await this.done;
  }
}

export class WatchWorkload {
  readonly raw: RawWatcher[] = [];
  readonly lib: LibWatcher[] = [];

  constructor(
    private readonly cluster: RobustCluster,
    private readonly seed: number,
    private readonly rawCount: number,
    private readonly libCount: number,
  ) {}

  start(): void {
    const active = this.cluster.active;
    for (let i = 0; i < this.rawCount; i++) {
      const w = new RawWatcher(
        `watch-raw-${i}`,
        this.cluster,
        active[i % active.length]!,
        i % 2 === 0,
        derivedRand(this.seed, 200, i),
      );
      this.raw.push(w);
      w.start();
    }
    for (let i = 0; i < this.libCount; i++) {
      const w = new LibWatcher(`watch-lib-${i}`, this.cluster);
      this.lib.push(w);
      w.start();
    }
  }

  records(): WatcherRecord[] {
    return [...this.raw.map((w) => w.record), ...this.lib.map((w) => w.record)];
  }

  /** Waits until every watcher has delivered everything up to `rev` (bounded); returns the laggards. */
  async waitCaughtUp(rev: number, timeoutMs: number): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const lag = [
        ...this.raw.filter((w) => w.caughtUpTo < rev).map((w) => `${w.record.name} at ${w.caughtUpTo}`),
        ...this.lib.filter((w) => w.caughtUpTo < rev).map((w) => `${w.record.name} at ${w.caughtUpTo}`),
      ];
      if (lag.length === 0 || performance.now() > deadline) return lag;
      for (const w of this.lib) w.requestProgress();
      await delay(200);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.raw.map((w) => w.stop()), ...this.lib.map((w) => w.stop())]);
  }
}

/**
 * Every event from revision 1 through `until`, read from one member with a fresh watch (the reference
 * the watchers are compared with). Throws if it cannot be read within `timeoutMs`.
 */
export function collectEvents(ep: RawEndpoint, until: number, timeoutMs: number): Promise<WatchedEvent[]> {
  return new Promise((resolve, reject) => {
    const events: WatchedEvent[] = [];
    const s = ep.watch.watch(new Metadata());
    let settled = false;
    const end = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      clearTimeout(deadline);
      s.removeAllListeners("data");
      s.on("error", () => {});
      s.cancel();
      if (err) reject(err);
      else resolve(events.filter((e) => e.rev <= until));
    };
    const timer = setInterval(() => s.write(progressReq()), 300);
    const deadline = setTimeout(
      () =>
        end(
          new Error(
            `reference watch on ${ep.target}: only up to revision ${events.at(-1)?.rev ?? 0} of ${until} after ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    s.on("data", (r: WatchResponse) => {
      if (r.canceled) return end(new Error(`reference watch on ${ep.target} canceled: ${r.cancelReason}`));
      for (const e of r.events) events.push(fromPb(e));
      const last = events.at(-1)?.rev ?? 0;
      const progress =
        r.events.length === 0 && !r.created && r.watchId === -1n ? Number(r.header?.revision ?? 0n) : 0;
      if (last >= until || progress >= until) end();
    });
    s.on("error", (e: Error) => end(new Error(`reference watch on ${ep.target}: ${e.message}`)));
    s.write(createReq(1));
  });
}
