// A Prometheus counter that mirrors counts kept elsewhere (socket byte counts, transport counters): read
// at scrape time, each series grows by what its source grew since the last scrape. A source that starts
// over (a peer removed and added again) is followed from its new value on.

import { Counter, type Registry } from "prom-client";

export interface CountedSeries {
  labels: Record<string, string>;
  value: number;
}

export function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
  read: () => CountedSeries[],
): Counter<string> {
  const last = new Map<string, number>();
  // A source replaced (a listener started again on the same registry) takes over the name.
  registry.removeSingleMetric(name);
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const s of read()) {
        const key = JSON.stringify(s.labels);
        const delta = s.value - (last.get(key) ?? 0);
        last.set(key, s.value);
        if (delta > 0) this.inc(s.labels, delta);
      }
    },
  });
}
