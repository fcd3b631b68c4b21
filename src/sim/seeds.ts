// Deterministic seed derivation. A run has one root seed; every independent stream of randomness
// (the schedule, the network, each node incarnation's Raft timer) gets its own generator seeded from
// the root and a distinct salt, so adding a draw to one stream never shifts another and a run replays
// exactly from its root seed.

import { seededRand } from "../raft/rand.js";

export type SimRand = ReturnType<typeof seededRand>;

/** Mixes the root seed with salts into a well-spread uint32 (murmur3's finaliser per part). */
export function deriveSeed(root: number, ...salts: number[]): number {
  let h = root >>> 0;
  for (const s of salts) {
    h = Math.imul(h ^ (s >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
    h = (h + 0x9e3779b9) >>> 0;
  }
  return h;
}

export function derivedRand(root: number, ...salts: number[]): SimRand {
  return seededRand(deriveSeed(root, ...salts));
}

/** Salts naming the streams of one run. */
export const Stream = { schedule: 1, network: 2, raft: 3, faults: 4 } as const;

/** true with probability p. */
export function chance(r: SimRand, p: number): boolean {
  return p > 0 && r.next() < p;
}

export function pick<T>(r: SimRand, xs: readonly T[]): T {
  return xs[r.intn(xs.length)]!;
}

/** Fisher-Yates in place. */
export function shuffle<T>(r: SimRand, xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = r.intn(i + 1);
    const t = xs[i]!;
    xs[i] = xs[j]!;
    xs[j] = t;
  }
}

/** FNV-1a over a 32-bit number, for cheap rolling fingerprints. */
export function hashNum(h: number, n: number): number {
  h = Math.imul(h ^ (n & 0xffff), 0x01000193) >>> 0;
  return Math.imul(h ^ (n >>> 16), 0x01000193) >>> 0;
}

export function hashBytes(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

export const hashInit = 0x811c9dc5;
