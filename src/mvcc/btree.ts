// An ordered map from string keys to items that carry their key, as a B+tree: items live in leaves of
// up to MAX entries, inner nodes hold up to MAX children with separator keys. Insert, delete and lookup
// are O(log n); a range walk is O(log n + k). Keys compare as JS strings, which for latin1 strings (one
// char per byte, what the key index uses) is byte order.
//
// Deletion removes empty nodes but does not merge underfull ones; when the tree gets sparse (fewer than
// MAX/8 items per leaf on average) it is rebuilt packed, which keeps the cost amortised O(log n).

const MAX = 64;

/** What the tree stores: anything with a string key. */
export interface Keyed {
  readonly key: string;
}

class Leaf<T> {
  constructor(public items: T[]) {}
}

class Inner<T> {
  /** keys[i] (i >= 1) is <= every key in children[i] and > every key in children[i-1]; keys[0] unused. */
  constructor(
    public keys: string[],
    public children: Node<T>[],
  ) {}
}

type Node<T> = Leaf<T> | Inner<T>;

interface Split<T> {
  key: string;
  node: Node<T>;
}

/** Index of the first item with key >= k. */
function lowerBound<T extends Keyed>(items: T[], k: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].key < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the child of `n` whose subtree may hold k. */
function childIndex<T>(n: Inner<T>, k: string): number {
  const keys = n.keys;
  let lo = 1;
  let hi = keys.length - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= k) {
      ans = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return ans;
}

export class BTree<T extends Keyed> {
  private root: Node<T> = new Leaf<T>([]);
  private count = 0;
  private leaves = 1;

  get size(): number {
    return this.count;
  }

  get(key: string): T | undefined {
    let n = this.root;
    while (n instanceof Inner) n = n.children[childIndex(n, key)];
    const items = n.items;
    const i = lowerBound(items, key);
    return i < items.length && items[i].key === key ? items[i] : undefined;
  }

  /** Inserts `item`, replacing the item with the same key if any. */
  set(item: T): void {
    const split = this.insert(this.root, item);
    if (split !== undefined) this.root = new Inner<T>(["", split.key], [this.root, split.node]);
  }

  /** Removes the item with `key`; true if there was one. */
  delete(key: string): boolean {
    const found = this.remove(this.root, key);
    if (!found) return false;
    while (this.root instanceof Inner && this.root.children.length === 1) this.root = this.root.children[0];
    if (this.root instanceof Inner && this.root.children.length === 0) this.root = new Leaf<T>([]);
    if (this.leaves > 1 && this.count * 8 < this.leaves * MAX) this.rebuild();
    return true;
  }

  clear(): void {
    this.root = new Leaf<T>([]);
    this.count = 0;
    this.leaves = 1;
  }

  /**
   * Calls `fn` on each item with start <= key < end (no end: to the last key), ascending, until `fn`
   * returns false. The tree must not be modified during the walk.
   */
  ascend(start: string, end: string | undefined, fn: (item: T) => unknown): void {
    this.walk(this.root, start, end, fn);
  }

  /** Every item, ascending. */
  *[Symbol.iterator](): IterableIterator<T> {
    const out: T[] = [];
    this.ascend("", undefined, (it) => {
      out.push(it);
    });
    yield* out;
  }

  private walk(n: Node<T>, start: string, end: string | undefined, fn: (item: T) => unknown): boolean {
    if (n instanceof Leaf) {
      const items = n.items;
      for (let i = lowerBound(items, start); i < items.length; i++) {
        const it = items[i];
        if (end !== undefined && it.key >= end) return false;
        if (fn(it) === false) return false;
      }
      return true;
    }
    const { keys, children } = n;
    for (let i = childIndex(n, start); i < children.length; i++) {
      if (i > 0 && end !== undefined && keys[i] >= end) return false;
      if (!this.walk(children[i], start, end, fn)) return false;
    }
    return true;
  }

  private insert(n: Node<T>, item: T): Split<T> | undefined {
    if (n instanceof Leaf) {
      const items = n.items;
      const i = lowerBound(items, item.key);
      if (i < items.length && items[i].key === item.key) {
        items[i] = item;
        return undefined;
      }
      items.splice(i, 0, item);
      this.count++;
      if (items.length <= MAX) return undefined;
      const right = items.splice(items.length >>> 1);
      this.leaves++;
      return { key: right[0].key, node: new Leaf(right) };
    }
    const ci = childIndex(n, item.key);
    const split = this.insert(n.children[ci], item);
    if (split === undefined) return undefined;
    n.keys.splice(ci + 1, 0, split.key);
    n.children.splice(ci + 1, 0, split.node);
    if (n.children.length <= MAX) return undefined;
    const mid = n.children.length >>> 1;
    const rightKeys = n.keys.splice(mid);
    const rightChildren = n.children.splice(mid);
    return { key: rightKeys[0], node: new Inner(rightKeys, rightChildren) };
  }

  private remove(n: Node<T>, key: string): boolean {
    if (n instanceof Leaf) {
      const items = n.items;
      const i = lowerBound(items, key);
      if (i >= items.length || items[i].key !== key) return false;
      items.splice(i, 1);
      this.count--;
      return true;
    }
    const ci = childIndex(n, key);
    const child = n.children[ci];
    if (!this.remove(child, key)) return false;
    const empty = child instanceof Leaf ? child.items.length === 0 : child.children.length === 0;
    if (empty) {
      if (child instanceof Leaf) this.leaves--;
      n.keys.splice(ci, 1);
      n.children.splice(ci, 1);
      if (n.keys.length > 0) n.keys[0] = "";
    }
    return true;
  }

  /** Rebuilds the tree with leaves and inner nodes three quarters full. */
  private rebuild(): void {
    const all: T[] = [];
    this.walk(this.root, "", undefined, (it) => {
      all.push(it);
    });
    const fill = (MAX * 3) >>> 2;
    let level: { key: string; node: Node<T> }[] = [];
    for (let i = 0; i < all.length; i += fill) {
      const items = all.slice(i, i + fill);
      level.push({ key: items[0].key, node: new Leaf(items) });
    }
    this.leaves = Math.max(1, level.length);
    if (level.length === 0) {
      this.root = new Leaf<T>([]);
      return;
    }
    while (level.length > 1) {
      const next: { key: string; node: Node<T> }[] = [];
      for (let i = 0; i < level.length; i += fill) {
        const group = level.slice(i, i + fill);
        const keys = group.map((g, j) => (j === 0 ? "" : g.key));
        next.push({
          key: group[0].key,
          node: new Inner(
            keys,
            group.map((g) => g.node),
          ),
        });
      }
      level = next;
    }
    this.root = level[0].node;
  }
}
