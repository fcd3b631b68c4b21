// The v2 keys store (etcd's v2store) kept in the backend's own `v2store` bucket, so it is replicated,
// survives restarts and travels with database snapshots like the rest of the state machine, without
// touching the v3 key space.
//
// Layout of the bucket (keys are UTF-8):
//   "n" + path  -> a node: JSON {d?: 1, v?: value, c: createdIndex, m: modifiedIndex} (no entry for "/")
//   "e" + 16 hex digits of the index -> the event of that index as the API shows it (V2Event JSON)
//   "i"         -> the store's current index, 8 bytes big-endian
// Every successful change raises the index by exactly one and records one event, so the retained events
// are the contiguous range (index - HISTORY + 1 .. index]; a watch asking for older ones gets etcd's
// "outdated and cleared" error.
//
// Invariants: a change is validated completely before anything is written (the backend batch cannot be
// rolled back), so a refused request leaves the bucket as it was. Every method runs synchronously inside
// one apply step, so its writes and the consistent index land in one backend commit.

import type { Request } from "../../api/gen/etcdserverpb/etcdserver.js";
import { type Backend, Bucket, decodeUint64BE, encodeUint64BE } from "../../backend/index.js";
import { V2Code, V2Error } from "./errors.js";
import { baseOf, cleanPath, type NodeExtern, parentOf, type V2Action, type V2Event } from "./node.js";
import type { V2Watch, WatcherHub } from "./watchers.js";

/** Events kept for watches that start in the past (etcd's watcher hub keeps 1000). */
export const HISTORY = 1000;

interface StoredNode {
  d?: 1;
  v?: string;
  c: number;
  m: number;
}

const ROOT: StoredNode = { d: 1, c: 0, m: 0 };
const INDEX_KEY = Buffer.from("i", "latin1");

const nodeKey = (p: string) => Buffer.from(`n${p}`, "utf8");
const eventKey = (index: number) => Buffer.from(`e${index.toString(16).padStart(16, "0")}`, "latin1");

/** A change applied: the event and the store index it produced. */
export interface V2Applied {
  event: V2Event;
  etcdIndex: number;
}

/** What applying a v2 request yields for the proposer (never thrown: it must reach the waiter intact). */
export type V2ApplyResult = { ok: true; applied: V2Applied } | { ok: false; error: V2Error };

export class V2Store {
  private current: number;

  constructor(
    readonly backend: Backend,
    readonly hub: WatcherHub,
  ) {
    const b = backend.readTx().get(Bucket.v2store, INDEX_KEY);
    this.current = b === undefined ? 0 : decodeUint64BE(b);
  }

  /** The store's current index (etcd's X-Etcd-Index). */
  index(): number {
    return this.current;
  }

  // ---- reads -------------------------------------------------------------------------------------

  private read(p: string): StoredNode | undefined {
    if (p === "/") return ROOT;
    const b = this.backend.readTx().get(Bucket.v2store, nodeKey(p));
    return b === undefined ? undefined : (JSON.parse(Buffer.from(b).toString("utf8")) as StoredNode);
  }

  /** Direct children of directory `p`, by name. */
  private children(p: string): [string, StoredNode][] {
    const prefix = p === "/" ? "/" : `${p}/`;
    const out: [string, StoredNode][] = [];
    this.backend.readTx().forEach(
      Bucket.v2store,
      (k, v) => {
        const path = Buffer.from(k).toString("utf8").slice(1);
        if (path.indexOf("/", prefix.length) >= 0) return;
        out.push([path, JSON.parse(Buffer.from(v).toString("utf8")) as StoredNode]);
      },
      nodeKey(prefix),
      nodeKey(`${prefix.slice(0, -1)}0`),
    );
    return out;
  }

  /** Every node strictly below directory `p`. */
  private descendants(p: string): string[] {
    const out: string[] = [];
    this.backend.readTx().forEach(
      Bucket.v2store,
      (k) => {
        out.push(Buffer.from(k).toString("utf8").slice(1));
      },
      nodeKey(`${p}/`),
      nodeKey(`${p}0`),
    );
    return out;
  }

  /** etcd's internalGet: walks from the root; a file on the way is "Not a directory". */
  private lookup(p: string): StoredNode {
    let cur = "/";
    for (const part of p.split("/")) {
      if (part === "") continue;
      const parent = this.read(cur)!;
      if (parent.d === undefined) throw new V2Error(V2Code.NotDir, cur, this.current);
      const next = cur === "/" ? `/${part}` : `${cur}/${part}`;
      if (this.read(next) === undefined) throw new V2Error(V2Code.KeyNotFound, next, this.current);
      cur = next;
    }
    return this.read(cur)!;
  }

  private extern(p: string, n: StoredNode, recursive: boolean, withChildren: boolean): NodeExtern {
    const e: NodeExtern = {};
    if (p !== "/") e.key = p;
    if (n.d === undefined) e.value = n.v ?? "";
    else {
      e.dir = true;
      if (withChildren) {
        const kids = this.children(p)
          .filter(([cp]) => !baseOf(cp).startsWith("_"))
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([cp, cn]) => this.extern(cp, cn, recursive, recursive));
        if (kids.length > 0) e.nodes = kids;
      }
    }
    if (n.m !== 0) e.modifiedIndex = n.m;
    if (n.c !== 0) e.createdIndex = n.c;
    return e;
  }

  /** GET: the node, a directory with its children (all levels when recursive). Throws V2Error. */
  get(path: string, recursive: boolean): V2Applied {
    const p = cleanPath(path);
    const n = this.lookup(p);
    return { event: { action: "get", node: this.extern(p, n, recursive, true) }, etcdIndex: this.current };
  }

  // ---- changes (called only when applying a committed entry) --------------------------------------

  /** Applies a committed v2 request (etcd's applierV2store). */
  apply(r: Request): V2ApplyResult {
    try {
      return { ok: true, applied: this.dispatch(r) };
    } catch (e) {
      if (e instanceof V2Error) return { ok: false, error: e };
      throw e;
    }
  }

  private dispatch(r: Request): V2Applied {
    const prevSet = r.PrevIndex > 0n || r.PrevValue !== "";
    switch (r.Method) {
      case "POST":
        return this.create(r.Path, r.Dir, r.Val, true, false);
      case "PUT":
        if (r.PrevExist === true) {
          return prevSet
            ? this.compareAndSwap(r.Path, r.PrevValue, Number(r.PrevIndex), r.Val)
            : this.update(r);
        }
        if (r.PrevExist === false) return this.create(r.Path, r.Dir, r.Val, false, false);
        if (prevSet) return this.compareAndSwap(r.Path, r.PrevValue, Number(r.PrevIndex), r.Val);
        return this.create(r.Path, r.Dir, r.Val, false, true);
      case "DELETE":
        if (prevSet) return this.compareAndDelete(r.Path, r.PrevValue, Number(r.PrevIndex));
        return this.delete(r.Path, r.Dir, r.Recursive);
      default:
        throw new V2Error(V2Code.InvalidField, `unknown method ${r.Method}`, this.current);
    }
  }

  private checkWritable(p: string): void {
    if (p === "/") throw new V2Error(V2Code.RootROnly, "/", this.current);
  }

  /** Set (replace) or Create (refuse an existing key); `unique` appends an in-order name (POST). */
  private create(path: string, dir: boolean, value: string, unique: boolean, replace: boolean): V2Applied {
    const next = this.current + 1;
    let p = cleanPath(path);
    if (unique) p = cleanPath(`${p}/${String(next).padStart(20, "0")}`);
    this.checkWritable(p);
    // Directories to create on the way (none is a file), then the node itself.
    const missing: string[] = [];
    let cur = "/";
    for (const part of parentOf(p).split("/")) {
      if (part === "") continue;
      cur = cur === "/" ? `/${part}` : `${cur}/${part}`;
      const n = this.read(cur);
      if (n === undefined) missing.push(cur);
      else if (n.d === undefined) throw new V2Error(V2Code.NotDir, cur, this.current);
    }
    const existing = missing.length > 0 ? undefined : this.read(p);
    let prevNode: NodeExtern | undefined;
    if (existing !== undefined) {
      if (!replace) throw new V2Error(V2Code.NodeExist, p, this.current);
      if (existing.d !== undefined) throw new V2Error(V2Code.NotFile, p, this.current);
      prevNode = this.extern(p, existing, false, false);
    }
    for (const d of missing) this.write(d, { d: 1, c: next, m: next });
    const n: StoredNode = dir ? { d: 1, c: next, m: next } : { v: value, c: next, m: next };
    this.write(p, n);
    const action: V2Action = replace ? "set" : "create";
    return this.record({ action, node: this.extern(p, n, false, false), prevNode }, []);
  }

  private update(r: Request): V2Applied {
    const p = cleanPath(r.Path);
    this.checkWritable(p);
    const n = this.lookup(p);
    if (n.d !== undefined) throw new V2Error(V2Code.NotFile, p, this.current);
    const next = this.current + 1;
    const prevNode = this.extern(p, n, false, false);
    const updated: StoredNode = { v: r.Val, c: n.c, m: next };
    this.write(p, updated);
    return this.record({ action: "update", node: this.extern(p, updated, false, false), prevNode }, []);
  }

  private compare(n: StoredNode, prevValue: string, prevIndex: number): void {
    const indexOk = prevIndex === 0 || n.m === prevIndex;
    const valueOk = prevValue === "" || n.v === prevValue;
    if (indexOk && valueOk) return;
    const v = `[${prevValue} != ${n.v ?? ""}]`;
    const i = `[${prevIndex} != ${n.m}]`;
    const cause = !valueOk && !indexOk ? `${v} ${i}` : valueOk ? i : v;
    throw new V2Error(V2Code.TestFailed, cause, this.current);
  }

  private compareAndSwap(path: string, prevValue: string, prevIndex: number, value: string): V2Applied {
    const p = cleanPath(path);
    this.checkWritable(p);
    const n = this.lookup(p);
    if (n.d !== undefined) throw new V2Error(V2Code.NotFile, p, this.current);
    this.compare(n, prevValue, prevIndex);
    const next = this.current + 1;
    const prevNode = this.extern(p, n, false, false);
    const updated: StoredNode = { v: value, c: n.c, m: next };
    this.write(p, updated);
    return this.record(
      { action: "compareAndSwap", node: this.extern(p, updated, false, false), prevNode },
      [],
    );
  }

  private delete(path: string, dir: boolean, recursive: boolean): V2Applied {
    const p = cleanPath(path);
    this.checkWritable(p);
    const n = this.lookup(p);
    const isDir = n.d !== undefined;
    let removed = [p];
    if (isDir) {
      if (!dir && !recursive) throw new V2Error(V2Code.NotFile, p, this.current);
      const below = this.descendants(p);
      if (below.length > 0 && !recursive) throw new V2Error(V2Code.DirNotEmpty, p, this.current);
      removed = [...below, p];
    }
    const next = this.current + 1;
    const node: NodeExtern = { key: p };
    if (isDir) node.dir = true;
    node.modifiedIndex = next;
    if (n.c !== 0) node.createdIndex = n.c;
    const prevNode = this.extern(p, n, false, false);
    for (const r of removed) this.backend.batchTx.delete(Bucket.v2store, nodeKey(r));
    return this.record({ action: "delete", node, prevNode }, removed);
  }

  private compareAndDelete(path: string, prevValue: string, prevIndex: number): V2Applied {
    const p = cleanPath(path);
    const n = this.lookup(p);
    if (n.d !== undefined) throw new V2Error(V2Code.NotFile, p, this.current);
    this.compare(n, prevValue, prevIndex);
    const next = this.current + 1;
    const node: NodeExtern = { key: p, modifiedIndex: next, createdIndex: n.c };
    const prevNode = this.extern(p, n, false, false);
    this.backend.batchTx.delete(Bucket.v2store, nodeKey(p));
    return this.record({ action: "compareAndDelete", node, prevNode }, [p]);
  }

  private write(p: string, n: StoredNode): void {
    this.backend.batchTx.put(Bucket.v2store, nodeKey(p), Buffer.from(JSON.stringify(n), "utf8"));
  }

  /** Raises the index, stores the event (dropping the oldest beyond HISTORY) and tells the watchers. */
  private record(event: V2Event, removed: string[]): V2Applied {
    if (event.prevNode === undefined) delete event.prevNode;
    const index = this.current + 1;
    const tx = this.backend.batchTx;
    tx.put(Bucket.v2store, eventKey(index), Buffer.from(JSON.stringify(event), "utf8"));
    if (index > HISTORY) tx.delete(Bucket.v2store, eventKey(index - HISTORY));
    tx.put(Bucket.v2store, INDEX_KEY, encodeUint64BE(index));
    this.current = index;
    this.hub.notify(event, index, removed);
    return { event, etcdIndex: index };
  }

  /**
   * Starts a watch (GET ?wait=true) of `path` from index `since` (0: the next change). A change already
   * in the history answers at once; otherwise the watch waits in the hub (cancel it when the client goes).
   */
  watch(
    path: string,
    recursive: boolean,
    since: number,
    on: Pick<V2Watch, "deliver" | "fail">,
  ): { event: V2Event } | { pending: V2Watch } {
    const key = cleanPath(path);
    const from = since === 0 ? this.current + 1 : since;
    const e = this.scan(key, recursive, from);
    if (e !== undefined) return { event: e };
    const w: V2Watch = { key, recursive, since: from, deliver: on.deliver, fail: on.fail };
    this.hub.add(w);
    return { pending: w };
  }

  // ---- history ------------------------------------------------------------------------------------

  /** Index of the oldest retained event (0 when none was ever recorded). */
  historyStart(): number {
    return this.current === 0 ? 0 : Math.max(1, this.current - HISTORY + 1);
  }

  /**
   * The first retained event at or after `since` that a watch of `key` wants (etcd's EventHistory.scan),
   * or undefined if none happened yet. Throws "outdated and cleared" when `since` is older than the history.
   */
  scan(key: string, recursive: boolean, since: number): V2Event | undefined {
    const start = this.historyStart();
    if (since < start) {
      throw new V2Error(
        V2Code.EventIndexCleared,
        `the requested history has been cleared [${start}/${since}]`,
        this.current,
      );
    }
    for (let i = Math.max(since, 1); i <= this.current; i++) {
      const b = this.backend.readTx().get(Bucket.v2store, eventKey(i));
      if (b === undefined) continue;
      const e = JSON.parse(Buffer.from(b).toString("utf8")) as V2Event;
      if (watchWants(key, recursive, e)) return e;
    }
    return undefined;
  }
}

/** Whether an event from the history answers a watch of `key` (etcd's scan rules). */
export function watchWants(key: string, recursive: boolean, e: V2Event): boolean {
  const k = e.node.key ?? "/";
  if (k === key) return true;
  if (recursive && k.startsWith(key === "/" ? "/" : `${key}/`)) return true;
  const prev = e.prevNode;
  if ((e.action === "delete" || e.action === "compareAndDelete") && prev?.dir === true && prev.key) {
    if (key.startsWith(`${prev.key}/`)) return true;
  }
  return false;
}
