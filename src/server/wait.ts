// Waiters for proposals: a request registers its ID before proposing; applying the entry with that ID
// resolves it with the apply result. Unknown IDs (proposed by another member, or a waiter that already
// timed out) are ignored.

export class Wait<T> {
  private readonly waiters = new Map<bigint, { resolve: (v: T) => void; reject: (e: unknown) => void }>();

  register(id: bigint): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
    });
  }

  trigger(id: bigint, v: T): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    w.resolve(v);
  }

  fail(id: bigint, e: unknown): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    w.reject(e);
  }

  failAll(e: unknown): void {
    for (const id of [...this.waiters.keys()]) this.fail(id, e);
  }
}
