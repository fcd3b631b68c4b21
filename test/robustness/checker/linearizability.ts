// Linearizability of register histories: is there a total order of the operations, consistent with
// real time (an operation that returned before another was invoked comes first), in which every read
// returns the latest write and every compare-and-set succeeds exactly when the register held its
// expected value?
//
// Per key (linearizability is local: a history is linearizable iff each key's sub-history is), the
// search is Wing & Gong's as improved by Lowe and used by Porcupine: walk the call/return events in
// time order, tentatively linearize any pending operation whose effect the model accepts, backtrack
// when a return is reached whose operation could not be placed, and remember every (set of linearized
// operations, register value) already explored so that no configuration is explored twice. The set is
// fingerprinted by XOR of two random 32-bit words per operation (Zobrist hashing): a collision could
// only prune a branch, so it could make a correct history look wrong, never a wrong one pass.
//
// Indeterminate operations (status "info": a timeout, a connection dropped after sending) may or may
// not have taken effect. Written values are unique, so this is decided exactly before the search:
//   - an indeterminate write or cas whose value nobody observed (no read returned it, no cas expected
//     it, no failed cas saw it) is dropped: any order in which it took effect stays valid without it,
//     because every operation that could follow it before the next write would have observed it;
//   - one whose value was observed took effect (a cas: successfully), before the earliest observer
//     returned: it gets that return time and is checked like any completed operation.
// So the search sees completed operations only and the result is exact: "ok", "fail", or "unknown"
// when the step budget ran out (never a pass).

import { seededRand } from "../../../src/raft/rand.js";
import type { Operation, RegisterInput, RegisterOutput } from "../history.js";

/** A completed register operation as the search sees it. */
export interface LinOp {
  /** The history's operation id. */
  id: number;
  call: number;
  ret: number;
  kind: "read" | "write" | "cas";
  /** cas: the value it required (and found). */
  expect?: string;
  /** write/cas: the value it wrote. */
  value?: string;
  /** read (and failed cas): the value read; null when the key did not exist. */
  out?: string | null;
  /** An indeterminate operation placed by what others observed of it. */
  inferred?: boolean;
}

export type Verdict = "ok" | "fail" | "unknown";

export interface KeyResult {
  key: string;
  verdict: Verdict;
  /** Operations searched, and indeterminate ones dropped / inferred. */
  ops: number;
  dropped: number;
  inferred: number;
  /** Search steps taken. */
  steps: number;
  /** Why it failed: the operation the search could not place, and what it found at its deepest. */
  reason?: string;
  /** On failure: the ids of the operations around the one that could not be placed. */
  window?: number[];
}

export interface CheckResult {
  verdict: Verdict;
  keys: KeyResult[];
}

export interface CheckOptions {
  /** Search steps per key before giving up with "unknown" (default 5 000 000). */
  budget?: number;
  /** The register's value before the history (default: absent). */
  initial?: string | null;
}

/** Checks every key of a register history. */
export function checkRegisters(
  history: readonly Operation<RegisterInput, RegisterOutput>[],
  opts: CheckOptions = {},
): CheckResult {
  const byKey = new Map<string, Operation<RegisterInput, RegisterOutput>[]>();
  for (const op of history) {
    let l = byKey.get(op.input.key);
    if (l === undefined) byKey.set(op.input.key, (l = []));
    l.push(op);
  }
  const keys = [...byKey.keys()].sort().map((k) => checkKey(k, byKey.get(k)!, opts));
  const verdict: Verdict = keys.some((k) => k.verdict === "fail")
    ? "fail"
    : keys.some((k) => k.verdict === "unknown")
      ? "unknown"
      : "ok";
  return { verdict, keys };
}

/** Checks the operations of one key. */
export function checkKey(
  key: string,
  history: readonly Operation<RegisterInput, RegisterOutput>[],
  opts: CheckOptions = {},
): KeyResult {
  const prep = prepare(history);
  const base = { key, ops: prep.ops.length, dropped: prep.dropped, inferred: prep.inferred };
  if (prep.violation !== undefined) return { ...base, verdict: "fail", steps: 0, reason: prep.violation };
  const s = search(prep.ops, opts.initial ?? null, opts.budget ?? 5_000_000);
  return { ...base, ...s };
}

interface Prepared {
  ops: LinOp[];
  dropped: number;
  inferred: number;
  violation?: string;
}

/** Turns a key's history into completed operations (see the header for the rule on indeterminate ones). */
export function prepare(history: readonly Operation<RegisterInput, RegisterOutput>[]): Prepared {
  const ops: LinOp[] = [];
  const pending: Operation<RegisterInput, RegisterOutput>[] = [];
  let dropped = 0;
  for (const op of history) {
    const inp = op.input;
    if (op.status === "fail") {
      dropped++;
      continue;
    }
    if (op.status === "info") {
      if (inp.f === "read") dropped++;
      else pending.push(op);
      continue;
    }
    const ret = op.ret!;
    if (inp.f === "read") {
      ops.push({ id: op.id, call: op.call, ret, kind: "read", out: op.output?.value ?? null });
    } else if (inp.f === "write") {
      ops.push({ id: op.id, call: op.call, ret, kind: "write", value: inp.value });
    } else if (op.output?.ok === true) {
      ops.push({ id: op.id, call: op.call, ret, kind: "cas", expect: inp.expect, value: inp.value });
    } else {
      // A failed compare-and-set wrote nothing and read the current value: it is a read. Its compare
      // and its read run in one transaction, so finding the expected value there is a contradiction.
      const seen = op.output?.value ?? null;
      if (seen === inp.expect) {
        return {
          ops,
          dropped,
          inferred: 0,
          violation: `op ${op.id}: cas expecting ${JSON.stringify(inp.expect)} failed, yet its transaction read that value`,
        };
      }
      ops.push({ id: op.id, call: op.call, ret, kind: "read", out: seen });
    }
  }

  // observedBy[v]: the earliest return of an operation that saw v (read it, or required it in a cas).
  const observedBy = new Map<string, number>();
  const observe = (v: string | null | undefined, ret: number): boolean => {
    if (v === null || v === undefined) return false;
    const cur = observedBy.get(v);
    if (cur !== undefined && cur <= ret) return false;
    observedBy.set(v, ret);
    return true;
  };
  for (const o of ops) {
    if (o.kind === "read") observe(o.out, o.ret);
    else if (o.kind === "cas") observe(o.expect, o.ret);
  }
  // Indeterminate writes whose value was observed took effect before their first observer returned; an
  // inferred cas in turn observed its expected value then. Iterate to the fixed point.
  const inferredRet = new Map<number, number>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const op of pending) {
      const inp = op.input as Exclude<RegisterInput, { f: "read" }>;
      const at = observedBy.get(inp.value);
      if (at === undefined || inferredRet.get(op.id) === at) continue;
      inferredRet.set(op.id, at);
      changed = true;
      if (inp.f === "cas") observe(inp.expect, at);
    }
  }
  let inferred = 0;
  for (const op of pending) {
    const ret = inferredRet.get(op.id);
    if (ret === undefined) {
      dropped++;
      continue;
    }
    const inp = op.input as Exclude<RegisterInput, { f: "read" }>;
    if (ret <= op.call) {
      return {
        ops,
        dropped,
        inferred,
        violation: `value ${JSON.stringify(inp.value)} was observed by an operation that returned at ${ret.toFixed(3)}, before op ${op.id} that writes it was invoked at ${op.call.toFixed(3)}`,
      };
    }
    inferred++;
    ops.push(
      inp.f === "write"
        ? { id: op.id, call: op.call, ret, kind: "write", value: inp.value, inferred: true }
        : {
            id: op.id,
            call: op.call,
            ret,
            kind: "cas",
            expect: inp.expect,
            value: inp.value,
            inferred: true,
          },
    );
  }
  // Reads of a value nobody tried to write: no order can explain them.
  const written = new Set<string>();
  for (const op of history) if (op.input.f !== "read") written.add(op.input.value);
  for (const o of ops) {
    if (o.kind === "read" && o.out !== null && o.out !== undefined && !written.has(o.out)) {
      return {
        ops,
        dropped,
        inferred,
        violation: `op ${o.id} read ${JSON.stringify(o.out)}, a value no operation wrote`,
      };
    }
  }
  ops.sort((a, b) => a.call - b.call || a.id - b.id);
  return { ops, dropped, inferred };
}

/** One call or return event in the doubly linked list the search walks. */
interface Ev {
  op: number;
  call: boolean;
  /** For a call: its return event. */
  match: Ev | undefined;
  prev: Ev | undefined;
  next: Ev | undefined;
}

/** Applies `o` to register value `s`: the next value, or undefined when `o` cannot happen in state `s`. */
function step(s: string | null, o: LinOp): string | null | undefined {
  switch (o.kind) {
    case "read":
      return s === o.out ? s : undefined;
    case "write":
      return o.value!;
    case "cas":
      return s !== null && s === o.expect ? o.value! : undefined;
  }
}

interface SearchResult {
  verdict: Verdict;
  steps: number;
  reason?: string;
  window?: number[];
}

/** The Wing-Gong-Lowe search over completed operations `ops` (sorted by call). */
export function search(ops: readonly LinOp[], initial: string | null, budget: number): SearchResult {
  const n = ops.length;
  if (n === 0) return { verdict: "ok", steps: 0 };
  // Events sorted by time; at equal times calls first (the operations then count as concurrent).
  const evs: Ev[] = [];
  const calls: Ev[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c: Ev = { op: i, call: true, match: undefined, prev: undefined, next: undefined };
    const r: Ev = { op: i, call: false, match: undefined, prev: undefined, next: undefined };
    c.match = r;
    calls[i] = c;
    evs.push(c, r);
  }
  const time = (e: Ev) => (e.call ? ops[e.op]!.call : ops[e.op]!.ret);
  evs.sort((a, b) => time(a) - time(b) || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const head: Ev = { op: -1, call: false, match: undefined, prev: undefined, next: undefined };
  let prev = head;
  for (const e of evs) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  // Zobrist words per operation, from a fixed seed (the result does not depend on them).
  const rnd = seededRand(0x5eed);
  const z1 = new Uint32Array(n);
  const z2 = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    z1[i] = Math.floor(rnd.next() * 2 ** 32);
    z2[i] = Math.floor(rnd.next() * 2 ** 32);
  }
  const stateIds = new Map<string | null, number>();
  const sid = (s: string | null) => {
    let id = stateIds.get(s);
    if (id === undefined) stateIds.set(s, (id = stateIds.size));
    return id;
  };
  const seen = new Set<string>();

  const lift = (c: Ev) => {
    c.prev!.next = c.next;
    if (c.next) c.next.prev = c.prev;
    const r = c.match!;
    r.prev!.next = r.next;
    if (r.next) r.next.prev = r.prev;
  };
  const unlift = (c: Ev) => {
    const r = c.match!;
    r.prev!.next = r;
    if (r.next) r.next.prev = r;
    c.prev!.next = c;
    if (c.next) c.next.prev = c;
  };

  const stack: { call: Ev; state: string | null }[] = [];
  let state: string | null = initial;
  let h1 = 0;
  let h2 = 0;
  let steps = 0;
  let deepest = -1;
  let stuckAt = -1;
  let stuckState: string | null = null;
  let entry = head.next;
  while (head.next !== undefined) {
    if (++steps > budget) {
      return { verdict: "unknown", steps, reason: `search budget of ${budget} steps exhausted` };
    }
    const e = entry!;
    if (e.call) {
      const o = ops[e.op]!;
      const next = step(state, o);
      if (next !== undefined) {
        const n1 = (h1 ^ z1[e.op]!) >>> 0;
        const n2 = (h2 ^ z2[e.op]!) >>> 0;
        const k = `${n1},${n2},${sid(next)}`;
        if (!seen.has(k)) {
          seen.add(k);
          stack.push({ call: e, state });
          state = next;
          h1 = n1;
          h2 = n2;
          lift(e);
          entry = head.next;
          continue;
        }
      }
      entry = e.next;
    } else {
      // The return of an operation not yet linearized: everything placed since must be undone.
      if (stack.length > deepest) {
        deepest = stack.length;
        stuckAt = e.op;
        stuckState = state;
      }
      const top = stack.pop();
      if (top === undefined) break;
      state = top.state;
      h1 = (h1 ^ z1[top.call.op]!) >>> 0;
      h2 = (h2 ^ z2[top.call.op]!) >>> 0;
      unlift(top.call);
      entry = top.call.next;
    }
  }
  if (head.next === undefined) return { verdict: "ok", steps };
  // For the report: the last writes completed before the stuck operation, and everything overlapping it.
  const o = ops[stuckAt]!;
  const before = ops.filter((x) => x.kind !== "read" && x.ret < o.call).slice(-5);
  const overlapping = ops.filter((x) => x.ret >= o.call && x.call <= o.ret).slice(0, 20);
  const window = [...before, ...overlapping].map((x) => x.id);
  return {
    verdict: "fail",
    steps,
    reason:
      `no linearization: after ordering ${deepest} of ${n} operations (register = ${JSON.stringify(stuckState)}), ` +
      `op ${o.id} (${describe(o)}, ${o.call.toFixed(3)}..${o.ret.toFixed(3)} ms) cannot be placed`,
    window,
  };
}

export function describe(o: LinOp): string {
  switch (o.kind) {
    case "read":
      return `read -> ${JSON.stringify(o.out)}`;
    case "write":
      return `write ${JSON.stringify(o.value)}${o.inferred ? " (indeterminate, observed)" : ""}`;
    case "cas":
      return `cas ${JSON.stringify(o.expect)} -> ${JSON.stringify(o.value)}${o.inferred ? " (indeterminate, observed)" : ""}`;
  }
}
