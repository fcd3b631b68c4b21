// The window of MsgApp a leader has sent to one follower and not yet seen acknowledged.
//
// Invariants: entries are appended in increasing index order; `bytes` is the sum of the sizes of the
// entries in the window; the window is full when it holds `maxCount` messages or, with a byte limit,
// at least `maxBytes` bytes.

export class Inflights {
  private readonly idx: number[] = [];
  private readonly sizes: number[] = [];
  /** Position of the oldest in-flight message in idx/sizes (a queue without shifting on every ack). */
  private start = 0;
  private bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  clone(): Inflights {
    const c = new Inflights(this.maxCount, this.maxBytes);
    for (let i = this.start; i < this.idx.length; i++) c.add(this.idx[i]!, this.sizes[i]!);
    return c;
  }

  /** Records a MsgApp whose last entry has index `index` and whose entries total `bytes`. */
  add(index: number, bytes: number): void {
    if (this.full()) throw new Error("cannot add into a full inflights");
    this.idx.push(index);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every in-flight message whose last index is <= to. */
  freeLE(to: number): void {
    let i = this.start;
    while (i < this.idx.length && this.idx[i]! <= to) {
      this.bytes -= this.sizes[i]!;
      i++;
    }
    this.start = i;
    if (this.start === this.idx.length) this.reset();
    else if (this.start > 64 && this.start * 2 > this.idx.length) {
      this.idx.splice(0, this.start);
      this.sizes.splice(0, this.start);
      this.start = 0;
    }
  }

  full(): boolean {
    return this.count() >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  count(): number {
    return this.idx.length - this.start;
  }

  reset(): void {
    this.idx.length = 0;
    this.sizes.length = 0;
    this.start = 0;
    this.bytes = 0;
  }
}
