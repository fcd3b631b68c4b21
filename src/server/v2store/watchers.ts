// Pending v2 watches (GET ?wait=true), in memory: one-shot, each answered by the first matching change
// at or after its index (etcd's watcherHub). A change at /a/b reaches watches of /a/b and recursive
// watches of /a and /, unless the change is hidden from them ("_" names below the watched path); a
// deleted directory also reaches the watches of everything it contained.

import type { V2Error } from "./errors.js";
import { isHidden, pathAndAncestors, type V2Event } from "./node.js";

export interface V2Watch {
  readonly key: string;
  readonly recursive: boolean;
  /** The first index the watch wants. */
  readonly since: number;
  /** Called at most once, after the watch has been removed from the hub. */
  deliver(e: V2Event): void;
  /** The history the watch waits on is gone (the store was replaced by a snapshot); called at most once. */
  fail(err: V2Error): void;
}

/** What the hub needs of the store to re-examine watches after the store was replaced. */
export interface EventSource {
  /** As V2Store.scan: the first wanted event at or after `since`, undefined if none yet; may throw. */
  scan(key: string, recursive: boolean, since: number): V2Event | undefined;
}

export class WatcherHub {
  private readonly byPath = new Map<string, Set<V2Watch>>();

  add(w: V2Watch): void {
    let set = this.byPath.get(w.key);
    if (set === undefined) {
      set = new Set();
      this.byPath.set(w.key, set);
    }
    set.add(w);
  }

  remove(w: V2Watch): void {
    const set = this.byPath.get(w.key);
    if (set === undefined) return;
    set.delete(w);
    if (set.size === 0) this.byPath.delete(w.key);
  }

  /** Number of pending watches. */
  get size(): number {
    let n = 0;
    for (const s of this.byPath.values()) n += s.size;
    return n;
  }

  /** Tells the watches about a change at `index`; `removed` lists the paths a delete removed. */
  notify(e: V2Event, index: number, removed: readonly string[]): void {
    const key = e.node.key ?? "/";
    for (const p of removed) this.notifyAt(e, index, key, p, true);
    for (const p of pathAndAncestors(key)) this.notifyAt(e, index, key, p, false);
  }

  private notifyAt(e: V2Event, index: number, key: string, at: string, deleted: boolean): void {
    const set = this.byPath.get(at);
    if (set === undefined) return;
    const original = key === at;
    if (!original && isHidden(at, key)) return;
    for (const w of [...set]) {
      if ((w.recursive || original || deleted) && index >= w.since) {
        this.remove(w);
        w.deliver(e);
      }
    }
  }

  /**
   * The store was replaced (a database snapshot from the leader, or a reopen): changes may have happened
   * that no notify() announced, so every pending watch looks again in the new store's history.
   */
  recheck(source: EventSource): void {
    for (const set of [...this.byPath.values()]) {
      for (const w of [...set]) {
        let e: V2Event | undefined;
        try {
          e = source.scan(w.key, w.recursive, w.since);
        } catch (err) {
          this.remove(w);
          w.fail(err as V2Error);
          continue;
        }
        if (e !== undefined) {
          this.remove(w);
          w.deliver(e);
        }
      }
    }
  }
}
