// Shared test helpers for the watchable store: a KV store on a fresh backend, byte helpers, and waiting
// for conditions (polling the event loop, never sleeping blindly).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Backend } from "../../../src/backend/backend.js";
import { KVStore } from "../../../src/mvcc/kvstore.js";
import { type Event, EventType } from "../../../src/mvcc/types.js";
import {
  PROGRESS_ALL_WATCH_ID,
  type WatchableStoreOptions,
  type WatchResponse,
} from "../../../src/mvcc/watch/types.js";
import type { WatchStream } from "../../../src/mvcc/watch/watch_stream.js";
import { WatchableStore } from "../../../src/mvcc/watch/watchable_store.js";

let root: string | undefined;
let seq = 0;

export interface Fixture {
  be: Backend;
  kv: KVStore;
  ws: WatchableStore;
  close(): void;
}

/** A watchable store over a KV store on a new backend in a temporary directory. */
export function openStore(opts: WatchableStoreOptions = {}): Fixture {
  root ??= mkdtempSync(join(tmpdir(), "etcd-ts-watch-test-"));
  const dir = join(root, `s${seq++}`);
  const be = Backend.open(join(dir, "db"));
  const kv = new KVStore(be);
  const ws = new WatchableStore(kv, opts);
  return {
    be,
    kv,
    ws,
    close() {
      ws.close();
      kv.close();
      be.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Removes the temporary directory (call from after()). */
export function cleanup(): void {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
}

export const b = (s: string): Buffer => Buffer.from(s, "latin1");
export const str = (u: Uint8Array | undefined): string | undefined =>
  u === undefined ? undefined : Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString("latin1");

export function put(kv: KVStore, key: string, value: string): number {
  return kv.put({ key: b(key), value: b(value) }).header.revision;
}

export function del(kv: KVStore, key: string, rangeEnd?: string): number {
  return kv.deleteRange({ key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) }).header
    .revision;
}

/** "PUT k=v@rev" / "DELETE k@rev", with " prev=..." when the event carries prevKv. */
export function evText(ev: Event): string {
  const base =
    ev.type === EventType.PUT
      ? `PUT ${str(ev.kv.key)}=${str(ev.kv.value)}@${ev.kv.modRevision}`
      : `DELETE ${str(ev.kv.key)}@${ev.kv.modRevision}`;
  return ev.prevKv === undefined ? base : `${base} prev=${str(ev.prevKv.value)}@${ev.prevKv.modRevision}`;
}

/** Lets the event loop run (timers excepted) once. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits until `cond` holds, letting the event loop run between checks; fails after `ms`. */
export async function until(cond: () => boolean, what = "condition", ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not met within ${ms} ms`);
    await tick();
  }
}

/** Takes responses from `s` until `pred` holds for the collected ones. */
export async function nextUntil(
  s: WatchStream,
  pred: (got: WatchResponse[]) => boolean,
  ms = 5000,
): Promise<WatchResponse[]> {
  const got: WatchResponse[] = [];
  const deadline = Date.now() + ms;
  while (!pred(got)) {
    const r = s.take();
    if (r !== undefined) {
      got.push(r);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`responses: condition not met within ${ms} ms`);
    await tick();
  }
  return got;
}

/** The events of watch `id` in `rs`, in order, as text. */
export function eventsOf(rs: WatchResponse[], id: number): string[] {
  return rs.filter((r) => r.watchId === id).flatMap((r) => r.events.map(evText));
}

/** Rejects if `p` has not settled within `ms`. */
export async function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Count of events of watch `id` in `rs`. */
export function countEvents(rs: WatchResponse[], id: number): number {
  let n = 0;
  for (const r of rs) if (r.watchId === id) n += r.events.length;
  return n;
}

/** One change as the model records it. */
export interface ModelEvent {
  rev: number;
  type: EventType;
  key: string;
  value: string;
  /** The key before the change, if it existed. */
  prev?: { value: string; mod: number };
}

/**
 * A plain model of the key space's history, driven alongside the real store: every write goes through
 * the model, which applies it to the store and records the events it must produce.
 */
export class Model {
  readonly live = new Map<string, { value: string; mod: number }>();
  readonly events: ModelEvent[] = [];
  rev: number;
  compacted = -1;

  constructor(readonly kv: KVStore) {
    this.rev = kv.rev();
  }

  put(key: string, value: string): void {
    this.txn([[key, value]]);
  }

  /** Puts to distinct keys in one transaction (one revision). */
  txn(pairs: [string, string][]): void {
    const rev = this.kv.txn({
      success: pairs.map(([k, v]) => ({ requestPut: { key: b(k), value: b(v) } })),
    }).header.revision;
    if (rev !== this.rev + 1) throw new Error(`model: expected revision ${this.rev + 1}, store says ${rev}`);
    this.rev = rev;
    for (const [key, value] of pairs) {
      const prev = this.live.get(key);
      this.events.push({ rev, type: EventType.PUT, key, value, prev });
      this.live.set(key, { value, mod: rev });
    }
  }

  /** Deletes [key, end) (or the key); no revision is used if nothing existed. */
  del(key: string, end?: string): void {
    const victims = [...this.live.keys()]
      .filter((k) => (end === undefined ? k === key : k >= key && k < end))
      .sort();
    const res = this.kv.deleteRange({ key: b(key), rangeEnd: end === undefined ? undefined : b(end) });
    if (res.deleted !== victims.length)
      throw new Error(`model: deleted ${res.deleted}, expected ${victims.length}`);
    if (victims.length === 0) return;
    this.rev = res.header.revision;
    for (const k of victims) {
      this.events.push({ rev: this.rev, type: EventType.DELETE, key: k, value: "", prev: this.live.get(k) });
      this.live.delete(k);
    }
  }

  /** True if revision `rev` holds a delete (etcd's compaction drops those at the compaction revision). */
  hasDeleteAt(rev: number): boolean {
    return this.events.some((e) => e.rev === rev && e.type === EventType.DELETE);
  }

  compact(rev: number): void {
    this.kv.compact(rev);
    this.compacted = rev;
  }
}

/** Model events a watch on `span` from `fromRev` must see, filters applied. */
export function expectedFor(
  m: Model,
  match: (k: string) => boolean,
  fromRev: number,
  filters: { noPut?: boolean; noDelete?: boolean } = {},
): ModelEvent[] {
  return m.events.filter(
    (e) => e.rev >= fromRev && match(e.key) && !(e.type === EventType.PUT ? filters.noPut : filters.noDelete),
  );
}

/** Model event as evText would print the real one (with prev when `withPrev`). */
export function modelText(e: ModelEvent, withPrev: boolean): string {
  const base = e.type === EventType.PUT ? `PUT ${e.key}=${e.value}@${e.rev}` : `DELETE ${e.key}@${e.rev}`;
  return withPrev && e.prev !== undefined ? `${base} prev=${e.prev.value}@${e.prev.mod}` : base;
}

/** A watch as a test created it, to check what it received against the model. */
export interface WatchRecord {
  stream: number;
  id: number;
  key: string;
  /** undefined: the single key; "\0": every key >= key. */
  end?: string;
  /** First revision it must report. */
  fromRev: number;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  fragment: boolean;
  /** Canceled by the test (then it may have received any prefix). */
  userCanceled: boolean;
}

export function recordMatches(w: WatchRecord, k: string): boolean {
  if (w.end === undefined) return k === w.key;
  return k >= w.key && (w.end === "\0" || k < w.end);
}

/** Streams and watches of a test, with everything each stream's consumer took, in order. */
export class Harness {
  readonly streams: { s: WatchStream; got: WatchResponse[] }[] = [];
  readonly watches: WatchRecord[] = [];

  constructor(
    readonly f: Fixture,
    readonly model: Model,
  ) {}

  addStream(maxPendingResponses?: number): number {
    this.streams.push({ s: this.f.ws.watchStream({ maxPendingResponses }), got: [] });
    return this.streams.length - 1;
  }

  watch(
    stream: number,
    o: {
      key: string;
      end?: string;
      startRev?: number;
      noPut?: boolean;
      noDelete?: boolean;
      prevKv?: boolean;
      fragment?: boolean;
    },
  ): WatchRecord {
    const startRev = o.startRev ?? 0;
    const id = this.streams[stream].s.watch({
      key: b(o.key),
      rangeEnd: o.end === undefined ? undefined : b(o.end),
      startRev,
      filters: { noPut: o.noPut, noDelete: o.noDelete },
      prevKv: o.prevKv,
      fragment: o.fragment,
    });
    const cur = this.model.rev;
    const rec: WatchRecord = {
      stream,
      id,
      key: o.key,
      end: o.end,
      fromRev: startRev === 0 || startRev > cur ? Math.max(cur + 1, startRev) : startRev,
      noPut: o.noPut ?? false,
      noDelete: o.noDelete ?? false,
      prevKv: o.prevKv ?? false,
      fragment: o.fragment ?? false,
      userCanceled: false,
    };
    this.watches.push(rec);
    return rec;
  }

  cancel(rec: WatchRecord): void {
    if (!this.streams[rec.stream].s.watchIds().includes(rec.id)) return; // already compacted away
    this.streams[rec.stream].s.cancel(rec.id);
    rec.userCanceled = true;
  }

  /** Takes up to `n` responses from stream `i`. */
  take(i: number, n: number): void {
    const st = this.streams[i];
    for (let k = 0; k < n; k++) {
      const r = st.s.take();
      if (r === undefined) return;
      st.got.push(r);
    }
  }

  /** Consumes everything until the store is idle, every watcher synced and every queue empty. */
  async drain(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      for (let i = 0; i < this.streams.length; i++) this.take(i, Number.POSITIVE_INFINITY);
      await within(this.f.ws.idle(), "sync loop idle");
      if (this.f.ws.stats().unsynced === 0 && this.streams.every((st) => st.s.pendingResponses === 0)) return;
      await tick();
    }
    throw new Error("drain: never settled");
  }

  /** Checks every watch's responses against the model; returns how many events were checked. */
  check(): number {
    let checked = 0;
    for (const w of this.watches) checked += this.checkOne(w);
    for (let i = 0; i < this.streams.length; i++) this.checkStreamProgress(i);
    return checked;
  }

  private checkOne(w: WatchRecord): number {
    const where = `watch ${w.id} on stream ${w.stream} (${JSON.stringify(w)})`;
    const rs = this.streams[w.stream].got.filter((r) => r.watchId === w.id);
    if (rs.length === 0 || !rs[0].created) throw new Error(`${where}: no created response first`);
    const cancel = rs.findIndex((r) => r.canceled);
    if (cancel >= 0 && cancel !== rs.length - 1) throw new Error(`${where}: responses after the cancel`);
    const compacted = cancel >= 0 && rs[cancel].compactRevision > 0;
    let lastRev = 0;
    const got: Event[] = [];
    for (const r of rs.slice(1, cancel >= 0 ? cancel : undefined)) {
      if (r.created || r.canceled) throw new Error(`${where}: unexpected control response`);
      if (r.fragment && !w.fragment) throw new Error(`${where}: fragment without asking`);
      if (r.revision < lastRev) throw new Error(`${where}: revision went back ${lastRev} -> ${r.revision}`);
      const lastEv = r.events.at(-1);
      if (lastEv !== undefined && r.revision < lastEv.kv.modRevision)
        throw new Error(`${where}: response revision below its events`);
      lastRev = r.revision;
      got.push(...r.events);
    }
    const want = expectedFor(this.model, (k) => recordMatches(w, k), w.fromRev, w);
    const gotText = got.map((e) => evText({ type: e.type, kv: e.kv }));
    const wantText = want.map((e) => modelText(e, false));
    if (compacted || w.userCanceled) {
      const prefix = wantText.slice(0, gotText.length);
      assert.deepEqual(gotText, prefix, `${where}: not a prefix of the history`);
      if (compacted && rs[cancel].compactRevision <= (got.at(-1)?.kv.modRevision ?? 0))
        throw new Error(`${where}: compacted at ${rs[cancel].compactRevision} after receiving later events`);
    } else {
      assert.deepEqual(gotText, wantText, `${where}: events differ from the history`);
    }
    for (let i = 0; i < got.length; i++) {
      const e = got[i];
      const m = want[i];
      if (!w.prevKv) {
        if (e.prevKv !== undefined) throw new Error(`${where}: prevKv not asked for`);
        continue;
      }
      const p =
        e.prevKv === undefined ? undefined : { value: str(e.prevKv.value)!, mod: e.prevKv.modRevision };
      if (p === undefined && m.prev !== undefined && m.rev - 1 < this.model.compacted) continue; // compacted
      assert.deepEqual(p, m.prev, `${where}: prevKv of ${modelText(m, true)}`);
    }
    return got.length;
  }

  /** A progress response at revision R for a watch (or -1: the whole stream) comes after all its events <= R. */
  private checkStreamProgress(i: number): void {
    const got = this.streams[i].got;
    const seen = new Map<number, number>(); // watch ID -> events received so far
    const active = new Set<number>();
    for (const r of got) {
      if (r.created) {
        active.add(r.watchId);
        seen.set(r.watchId, 0);
        continue;
      }
      if (r.canceled) {
        active.delete(r.watchId);
        continue;
      }
      if (r.events.length > 0) {
        seen.set(r.watchId, (seen.get(r.watchId) ?? 0) + r.events.length);
        continue;
      }
      const ids = r.watchId === PROGRESS_ALL_WATCH_ID ? [...active] : [r.watchId];
      for (const id of ids) {
        const w = this.watches.find((x) => x.stream === i && x.id === id && active.has(id));
        // A cancel drops the watch's queued events, but not a stream-wide progress queued after them.
        if (w === undefined || w.userCanceled) continue;
        const due = expectedFor(this.model, (k) => recordMatches(w, k), w.fromRev, w).filter(
          (e) => e.rev <= r.revision,
        ).length;
        assert.equal(seen.get(id), due, `progress at ${r.revision} on stream ${i}: watch ${id} incomplete`);
      }
    }
  }
}
