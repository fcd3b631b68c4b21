// A min-heap of (lease ID, time) with at most one entry per lease, so a lease's time can be moved or
// removed in O(log n). The lessor keeps two: expiry times (when to next look at a lease for expiry)
// and checkpoint times (when to next report a lease's remaining TTL).

interface Item {
  id: bigint;
  time: number;
  /** Position in the heap array. */
  index: number;
}

export class LeaseQueue {
  private readonly heap: Item[] = [];
  private readonly byId = new Map<bigint, Item>();

  get size(): number {
    return this.heap.length;
  }

  /** Adds the lease at `time`, or moves it there if present. */
  upsert(id: bigint, time: number): void {
    const old = this.byId.get(id);
    if (old !== undefined) {
      const earlier = time < old.time;
      old.time = time;
      if (earlier) this.up(old.index);
      else this.down(old.index);
      return;
    }
    const item: Item = { id, time, index: this.heap.length };
    this.heap.push(item);
    this.byId.set(id, item);
    this.up(item.index);
  }

  /** Removes the lease if present. */
  remove(id: bigint): void {
    const item = this.byId.get(id);
    if (item === undefined) return;
    this.byId.delete(id);
    const last = this.heap.pop()!;
    if (last === item) return;
    last.index = item.index;
    this.heap[item.index] = last;
    this.down(last.index);
    this.up(last.index);
  }

  has(id: bigint): boolean {
    return this.byId.has(id);
  }

  /** The time queued for the lease, if present. */
  timeOf(id: bigint): number | undefined {
    return this.byId.get(id)?.time;
  }

  /** The earliest entry, without removing it. */
  peek(): { id: bigint; time: number } | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : { id: top.id, time: top.time };
  }

  /** Removes and returns the earliest entry. */
  pop(): { id: bigint; time: number } | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.remove(top.id);
    return { id: top.id, time: top.time };
  }

  clear(): void {
    this.heap.length = 0;
    this.byId.clear();
  }

  private less(a: Item, b: Item): boolean {
    // Ties broken by ID so the order does not depend on insertion history.
    return a.time < b.time || (a.time === b.time && a.id < b.id);
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i];
    const b = h[j];
    h[i] = b;
    h[j] = a;
    b.index = i;
    a.index = j;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r], h[l]) ? r : l;
      if (!this.less(h[c], h[i])) break;
      this.swap(i, c);
      i = c;
    }
  }
}
