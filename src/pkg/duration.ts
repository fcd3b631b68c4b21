// Go duration strings ("300ms", "5m", "1h30m"), as etcd's flags and options write them.

/** Go's duration units in nanoseconds. */
export const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A Go duration ("300ms", "5m", "1h30m") in milliseconds, or undefined if it is not one. */
export function parseGoDurationMs(s: string): number | undefined {
  const m = /^([-+]?)((?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(s);
  if (m === null) return undefined;
  if (m[2] === "0") return 0;
  let ns = 0;
  for (const part of m[2]!.matchAll(/([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    ns += Number(part[1]) * UNIT_NS[part[2]!]!;
  }
  return ((m[1] === "-" ? -1 : 1) * ns) / 1e6;
}
