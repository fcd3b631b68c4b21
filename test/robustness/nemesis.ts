// Faults ("nemeses"), scheduled from the run's seed. Each fault is injected, held for a while, healed,
// and followed by a wait until every member is healthy again (bounded: a cluster that does not recover
// is a failure of the run). Which member a fault hits is drawn from the seeded generator among the
// members of the moment (the leader is whoever leads then), so a seed replays the same schedule of
// fault kinds, durations and draws; the processes' own timing is not replayable.

import type { SimRand } from "../../src/sim/seeds.js";
import { pick, shuffle } from "../../src/sim/seeds.js";
import { delay } from "../e2e/cluster.js";
import type { Node, RobustCluster } from "./cluster.js";
import type { Network } from "./proxy.js";
import { call } from "./rpc.js";

export const FAULT_KINDS = [
  /** kill -9 a random member, restart it after a few seconds. */
  "kill",
  /** kill -9 the leader, restart it after a few seconds. */
  "kill-leader",
  /** SIGSTOP a member (the leader half the time), SIGCONT after a few seconds. */
  "stop",
  /** Cut the leader off from every other member. */
  "partition-leader",
  /** Cut one follower off from every other member. */
  "partition-follower",
  /** Split into a majority and a minority (the leader on either side). */
  "partition-majority",
  /** Cut one link between two members while a third sees both. */
  "link-cut",
  /** Add latency with jitter to every link of one member (or of all). */
  "delay",
  /** Remove a member and add a fresh one, under traffic. */
  "churn",
  /** kill -9 every member at once with the WAL failpoint dropping unsynced writes, then restart all. */
  "power-loss",
  /** Defragment a member (the leader half the time) online, under traffic. */
  "defrag",
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

/** What happened, for the schedule file and the availability figures (times: performance.now() ms). */
export interface FaultRecord {
  kind: FaultKind;
  /** Planned hold time (ms). */
  holdMs: number;
  /** Who was hit and how. */
  detail: string;
  start: number;
  healed: number;
  /** When every member was healthy again (undefined: it never recovered). */
  recovered?: number;
  error?: string;
}

/** Fault kinds in the order a run injects them: each once, shuffled, or drawn at random forever. */
export function* faultSequence(
  rnd: SimRand,
  kinds: readonly FaultKind[],
  eachOnce: boolean,
): Generator<FaultKind> {
  if (kinds.length === 0) return;
  if (eachOnce) {
    const order = [...kinds];
    shuffle(rnd, order);
    yield* order;
    return;
  }
  for (;;) yield pick(rnd, kinds);
}

export interface NemesisOptions {
  cluster: RobustCluster;
  network: Network;
  rnd: SimRand;
  log: (line: string) => void;
  /** Bounded wait for recovery after healing. */
  recoverTimeoutMs?: number;
}

const between = (rnd: SimRand, lo: number, hi: number) => lo + rnd.intn(hi - lo + 1);

/** Injects one fault, holds it, heals it and waits for recovery. Never throws: failures are recorded. */
export async function runFault(kind: FaultKind, o: NemesisOptions): Promise<FaultRecord> {
  const { cluster, network, rnd } = o;
  const rec: FaultRecord = { kind, holdMs: 0, detail: "", start: performance.now(), healed: 0 };
  const live = () => cluster.active.filter((n) => n.running && !n.paused);
  const leaderOrAny = async (): Promise<Node> => (await cluster.leader()) ?? pick(rnd, live());
  const followerOf = async (): Promise<{ leader: Node | undefined; follower: Node }> => {
    const leader = await cluster.leader();
    const others = live().filter((n) => n !== leader);
    return { leader, follower: pick(rnd, others.length > 0 ? others : live()) };
  };
  const restartAll: Node[] = [];
  try {
    switch (kind) {
      case "kill":
      case "kill-leader": {
        const n = kind === "kill" ? pick(rnd, live()) : await leaderOrAny();
        rec.holdMs = between(rnd, 1500, 4000);
        rec.detail = `kill -9 ${n.name}, restart after ${rec.holdMs} ms`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        await cluster.kill(n);
        restartAll.push(n);
        await delay(rec.holdMs);
        break;
      }
      case "stop": {
        const n = rnd.intn(2) === 0 ? await leaderOrAny() : pick(rnd, live());
        rec.holdMs = between(rnd, 2000, 5000);
        rec.detail = `SIGSTOP ${n.name} for ${rec.holdMs} ms`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        cluster.stop(n);
        await delay(rec.holdMs);
        break;
      }
      case "partition-leader":
      case "partition-follower":
      case "partition-majority": {
        const names = cluster.active.map((n) => n.name);
        let minority: string[];
        if (kind === "partition-leader") minority = [(await leaderOrAny()).name];
        else if (kind === "partition-follower") minority = [(await followerOf()).follower.name];
        else {
          const shuffled = [...names];
          shuffle(rnd, shuffled);
          minority = shuffled.slice(0, Math.floor((names.length - 1) / 2));
        }
        const majority = names.filter((x) => !minority.includes(x));
        rec.holdMs = between(rnd, 2500, 5000);
        rec.detail = `partition [${minority.join(",")}] | [${majority.join(",")}] for ${rec.holdMs} ms`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        network.partition([minority, majority]);
        await delay(rec.holdMs);
        break;
      }
      case "link-cut": {
        const { leader, follower } = await followerOf();
        const a = leader ?? pick(rnd, live());
        const b =
          follower !== a
            ? follower
            : pick(
                rnd,
                live().filter((n) => n !== a),
              );
        rec.holdMs = between(rnd, 2500, 5000);
        rec.detail = `cut link ${a.name}-${b.name} for ${rec.holdMs} ms`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        network.cutLink(a.name, b.name);
        await delay(rec.holdMs);
        break;
      }
      case "delay": {
        const ms = between(rnd, 30, 250);
        const all = rnd.intn(2) === 0;
        const who = all ? cluster.active : [pick(rnd, cluster.active)];
        rec.holdMs = between(rnd, 3000, 6000);
        rec.detail = `delay ${ms}±${Math.round(ms / 2)} ms on ${all ? "every member" : who[0]!.name} for ${rec.holdMs} ms`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        for (const n of who) network.delay(n.name, ms, Math.round(ms / 2));
        await delay(rec.holdMs);
        break;
      }
      case "churn": {
        const victim = pick(rnd, cluster.active);
        rec.detail = `remove ${victim.name}, add a fresh member`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        const anomaly = await cluster.removeMember(victim);
        const added = await cluster.addMember();
        rec.detail += ` (${added.name})`;
        if (anomaly !== undefined) rec.error = anomaly;
        break;
      }
      case "defrag": {
        const n = rnd.intn(2) === 0 ? await leaderOrAny() : pick(rnd, live());
        rec.detail = `defragment ${n.name} under traffic`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        await call(n.rpc().maintenance.defragment, n.rpc().maintenance, {}, 60_000);
        break;
      }
      case "power-loss": {
        const all = cluster.active.filter((n) => n.running);
        rec.holdMs = between(rnd, 500, 2000);
        rec.detail = `kill -9 all (${all.map((n) => n.name).join(",")}), unsynced WAL writes dropped, restart after ${rec.holdMs} ms`;
        o.log(`fault ${kind}: ${rec.detail}`);
        rec.start = performance.now();
        await Promise.all(all.map((n) => cluster.kill(n)));
        restartAll.push(...all);
        await delay(rec.holdMs);
        break;
      }
    }
  } catch (e) {
    rec.error = `injecting ${kind}: ${e instanceof Error ? e.message : String(e)}`;
    o.log(`fault ${kind}: ${rec.error}`);
  }
  await heal(cluster, network, restartAll);
  rec.healed = performance.now();
  try {
    await cluster.waitHealthy(o.recoverTimeoutMs ?? 60_000);
    rec.recovered = performance.now();
    o.log(`fault ${kind}: healed, recovered in ${Math.round(rec.recovered - rec.healed)} ms`);
  } catch (e) {
    rec.error = `${rec.error ? `${rec.error}; ` : ""}no recovery: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
    o.log(`fault ${kind}: ${rec.error}`);
  }
  return rec;
}

/** Undoes every fault: network healed, paused members continued, downed members restarted. */
export async function heal(cluster: RobustCluster, network: Network, restart: Node[] = []): Promise<void> {
  network.heal();
  for (const n of cluster.active) cluster.cont(n);
  for (const n of new Set([...restart, ...cluster.active.filter((x) => !x.running)])) {
    if (!n.removed) await cluster.restart(n);
  }
}
