// An interval tree over key ranges: which intervals [lo, hi) contain a key? Keys are latin1 strings (one
// char per byte, so JS string order is byte order); `hi` undefined means "no upper bound" (etcd's
// range_end "\0"). A treap ordered by (lo, hi), each node carrying the largest `hi` of its subtree, so a
// stabbing query visits O(log n + k) nodes for k hits instead of every interval. Each distinct interval
// holds one value (the watcher group keeps a set of watchers per interval).

interface Node<V> {
  lo: string;
  hi: string | undefined;
  value: V;
  /** Largest hi in this subtree (undefined: unbounded). */
  maxHi: string | undefined;
  priority: number;
  left: Node<V> | undefined;
  right: Node<V> | undefined;
}

/** Orders upper bounds, undefined (unbounded) last. */
function compareHi(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}

function compareInterval(lo: string, hi: string | undefined, n: Node<unknown>): number {
  if (lo !== n.lo) return lo < n.lo ? -1 : 1;
  return compareHi(hi, n.hi);
}

function maxHiOf<V>(n: Node<V>): string | undefined {
  let m = n.hi;
  if (n.left !== undefined && compareHi(n.left.maxHi, m) > 0) m = n.left.maxHi;
  if (n.right !== undefined && compareHi(n.right.maxHi, m) > 0) m = n.right.maxHi;
  return m;
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  n.maxHi = maxHiOf(n);
  l.maxHi = maxHiOf(l);
  return l;
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  n.maxHi = maxHiOf(n);
  r.maxHi = maxHiOf(r);
  return r;
}

export class IntervalTree<V> {
  private root: Node<V> | undefined;
  private count = 0;
  // Priorities from a fixed xorshift sequence: shapes are reproducible run to run.
  private seed = 0x2545f491;

  /** Number of distinct intervals. */
  get size(): number {
    return this.count;
  }

  /** The value stored for exactly [lo, hi), if any. */
  get(lo: string, hi: string | undefined): V | undefined {
    let n = this.root;
    while (n !== undefined) {
      const c = compareInterval(lo, hi, n);
      if (c === 0) return n.value;
      n = c < 0 ? n.left : n.right;
    }
    return undefined;
  }

  /** Stores `value` for [lo, hi), replacing the value of an equal interval. */
  set(lo: string, hi: string | undefined, value: V): void {
    this.root = this.insert(this.root, lo, hi, value);
  }

  /** Removes [lo, hi); returns whether it was there. */
  delete(lo: string, hi: string | undefined): boolean {
    const before = this.count;
    this.root = this.remove(this.root, lo, hi);
    return this.count < before;
  }

  /** Calls `fn` with the value of every interval containing `key` (lo <= key < hi). */
  stab(key: string, fn: (value: V) => void): void {
    // Iterative walk with an explicit stack: the treap's depth is O(log n) expected, but no recursion.
    const stack: Node<V>[] = [];
    if (this.root !== undefined) stack.push(this.root);
    while (stack.length > 0) {
      const n = stack.pop()!;
      // Nothing in this subtree ends after key.
      if (n.maxHi !== undefined && n.maxHi <= key) continue;
      if (n.left !== undefined) stack.push(n.left);
      if (n.lo <= key) {
        if (n.hi === undefined || key < n.hi) fn(n.value);
        // Right subtree starts at or after n.lo; it may still hold intervals starting <= key.
        if (n.right !== undefined) stack.push(n.right);
      }
    }
  }

  /** Every (lo, hi, value), ordered by (lo, hi). */
  *entries(): IterableIterator<[string, string | undefined, V]> {
    const stack: Node<V>[] = [];
    let n = this.root;
    while (n !== undefined || stack.length > 0) {
      while (n !== undefined) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop()!;
      yield [top.lo, top.hi, top.value];
      n = top.right;
    }
  }

  /** Depth of the tree (for tests of balance). */
  depth(): number {
    const d = (n: Node<V> | undefined): number => (n === undefined ? 0 : 1 + Math.max(d(n.left), d(n.right)));
    return d(this.root);
  }

  private nextPriority(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  private insert(n: Node<V> | undefined, lo: string, hi: string | undefined, value: V): Node<V> {
    if (n === undefined) {
      this.count++;
      return {
        lo,
        hi,
        value,
        maxHi: hi,
        priority: this.nextPriority(),
        left: undefined,
        right: undefined,
      };
    }
    const c = compareInterval(lo, hi, n);
    if (c === 0) {
      n.value = value;
      return n;
    }
    if (c < 0) {
      n.left = this.insert(n.left, lo, hi, value);
      if (n.left.priority > n.priority) return rotateRight(n);
    } else {
      n.right = this.insert(n.right, lo, hi, value);
      if (n.right.priority > n.priority) return rotateLeft(n);
    }
    n.maxHi = maxHiOf(n);
    return n;
  }

  private remove(n: Node<V> | undefined, lo: string, hi: string | undefined): Node<V> | undefined {
    if (n === undefined) return undefined;
    const c = compareInterval(lo, hi, n);
    if (c < 0) n.left = this.remove(n.left, lo, hi);
    else if (c > 0) n.right = this.remove(n.right, lo, hi);
    else {
      this.count--;
      return this.merge(n.left, n.right);
    }
    n.maxHi = maxHiOf(n);
    return n;
  }

  /** Joins two treaps whose keys are all ordered (every key of a below every key of b). */
  private merge(a: Node<V> | undefined, b: Node<V> | undefined): Node<V> | undefined {
    if (a === undefined) return b;
    if (b === undefined) return a;
    if (a.priority > b.priority) {
      a.right = this.merge(a.right, b);
      a.maxHi = maxHiOf(a);
      return a;
    }
    b.left = this.merge(a, b.left);
    b.maxHi = maxHiOf(b);
    return b;
  }
}
