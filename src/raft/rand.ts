// Injected randomness. The core never calls Math.random: every random choice (election timeouts)
// comes from a Rand the caller supplies, so a run is replayable from its seed.

export interface Rand {
  /** A uniformly distributed integer in [0, n). */
  intn(n: number): number;
}

/** A small, fast deterministic generator (mulberry32) for simulations and tests. */
export function seededRand(seed: number): Rand & { next(): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, intn: (n: number) => Math.floor(next() * n) };
}
