// Waiters for proposals: a request registers its ID (and the Raft term it was proposed in) before
// proposing; applying the entry with that ID resolves it with the apply result. Unknown IDs (proposed by
// another member, or a waiter that already failed) are ignored.

export class Wait<T> {
  private readonly waiters = new Map<
    bigint,
    { term: number; resolve: (v: T) => void; reject: (e: unknown) => void }
  >();

  register(id: bigint, term = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(id, { term, resolve, reject });
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

  /** Fails every waiter registered in a term before `term`. */
  failBefore(term: number, e: () => unknown): void {
    for (const [id, w] of [...this.waiters]) if (w.term < term) this.fail(id, e());
  }

  failAll(e: unknown): void {
    for (const id of [...this.waiters.keys()]) this.fail(id, e);
  }
}
