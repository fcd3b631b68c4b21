// Operation histories, as Jepsen records them: each operation is invoked at `call` and completes at
// `ret` with one of three outcomes:
//
//   ok    it took effect and `output` is what the server answered;
//   fail  it certainly did not take effect (refused before it was proposed; any failed read);
//   info  unknown: it may or may not take effect, now or later (a timeout, a connection dropped after
//         the request was sent). Its effect, if any, lies somewhere after `call`; it has no `ret`.
//
// Times are performance.now() milliseconds of this process (monotonic, sub-millisecond): every client of
// a run lives in the one test process, so every call and return is on the same clock.

/** An operation on one register (one key). Written values are unique across the whole run. */
export type RegisterInput =
  | { f: "read"; key: string }
  | { f: "write"; key: string; value: string }
  /** Compare-and-set: set `value` if the key currently holds `expect` (a Txn on the value). */
  | { f: "cas"; key: string; expect: string; value: string };

/**
 * What a register operation returned: a read's value (null: the key does not exist); a cas's outcome,
 * with the value the failure branch read (so a failed cas is also a read).
 */
export interface RegisterOutput {
  value?: string | null;
  ok?: boolean;
}

export type Status = "ok" | "fail" | "info";

export interface Operation<I = RegisterInput, O = RegisterOutput> {
  /** Unique within the history, in invocation order. */
  id: number;
  /** Which client process ran it (a client runs one operation at a time). */
  client: string;
  input: I;
  call: number;
  /** Completion time; undefined for status "info" (it may take effect at any time after call). */
  ret?: number;
  status: Status;
  output?: O;
  /** The error text of a failed or indeterminate operation. */
  error?: string;
  /** The member (name) the client sent it to, for the report. */
  member?: string;
  /** The response header's revision (ok operations), for cross-checks against watch events. */
  revision?: number;
}

/** Records operations as clients invoke and complete them. */
export class History<I = RegisterInput, O = RegisterOutput> {
  readonly ops: Operation<I, O>[] = [];

  invoke(client: string, input: I, member?: string): Operation<I, O> {
    const op: Operation<I, O> = {
      id: this.ops.length,
      client,
      input,
      call: performance.now(),
      status: "info",
    };
    if (member !== undefined) op.member = member;
    this.ops.push(op);
    return op;
  }

  ok(op: Operation<I, O>, output: O, revision?: number): void {
    op.ret = performance.now();
    op.status = "ok";
    op.output = output;
    if (revision !== undefined) op.revision = revision;
  }

  fail(op: Operation<I, O>, error: unknown): void {
    op.ret = performance.now();
    op.status = "fail";
    op.error = errorText(error);
  }

  /** Indeterminate: no `ret` (the operation may still take effect). */
  info(op: Operation<I, O>, error: unknown): void {
    op.status = "info";
    op.error = errorText(error);
  }

  /** Counts by status. */
  counts(): Record<Status, number> {
    const c: Record<Status, number> = { ok: 0, fail: 0, info: 0 };
    for (const op of this.ops) c[op.status]++;
    return c;
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return String(e);
}

/** One operation as a line of JSON (for the history file kept with a failed run). */
export function opLine(op: Operation<unknown, unknown>): string {
  return JSON.stringify(op, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}
