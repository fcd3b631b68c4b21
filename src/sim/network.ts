// The simulated network: an in-memory, seeded, lossy transport between node IDs.
//
// Time is the simulator's tick counter. A sent message gets a delay of 0..maxDelay ticks and waits in
// the bucket of the tick it is due; delay 0 means "later within the same tick", so a request and its
// response can both happen between two ticks, as on a real network whose latency is far below the Raft
// tick. Messages due in the same tick are delivered in a shuffled order, and different delays reorder
// messages on one link. A send may be dropped or duplicated. Partitions are a set of cut directed links:
// a symmetric partition cuts both directions, an asymmetric one only some. A link is checked when the
// message is sent and again when it arrives, so a partition also loses what was in flight.
//
// MsgProp is never duplicated: a forwarded proposal duplicated by the network is legitimately appended
// twice by Raft (proposals are not idempotent), and the checker treats a payload applied at two
// indexes as a bug. Real transports (TCP streams) do not duplicate either; they lose and delay.

import { type Message, MessageType, type NodeId } from "../raft/types.js";
import { chance, type SimRand, shuffle } from "./seeds.js";

export interface NetworkFaults {
  /** Probability that a send is lost. */
  dropRate: number;
  /** Probability that a send is delivered twice (each copy with its own delay). */
  dupRate: number;
  /** Largest delay in ticks. */
  maxDelay: number;
}

/** What the network delivers to; implemented by the cluster. */
export interface NetworkEndpoint {
  /** Hands m to its destination; false when the destination is not running (the message is lost). */
  deliver(m: Message): boolean;
  /** Tells the sender of a MsgSnap whether it arrived, as etcd's transport reports to Raft. */
  snapshotStatus(leader: NodeId, follower: NodeId, ok: boolean): void;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  cut: number;
}

type Envelope = { m: Message } | { snapOf: NodeId; to: NodeId; ok: boolean };

const idBits = 4096;

function linkKey(from: NodeId, to: NodeId): number {
  return Number(from) * idBits + Number(to);
}

export class Network {
  now = 0;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, cut: 0 };
  /** Directed links currently cut, as from * 4096 + to. */
  private readonly cutLinks = new Set<number>();
  /** IDs whose traffic the transport refuses (removed members), in both directions. */
  private readonly banned = new Set<NodeId>();
  private readonly due = new Map<number, Envelope[]>();
  private inFlight = 0;

  constructor(
    private readonly rand: SimRand,
    public faults: NetworkFaults,
    private readonly endpoint: NetworkEndpoint,
  ) {}

  /** Number of envelopes waiting for delivery. */
  pending(): number {
    return this.inFlight;
  }

  send(m: Message): void {
    this.stats.sent++;
    if (this.blocked(m.from, m.to)) {
      this.stats.cut++;
      this.lost(m);
      return;
    }
    if (chance(this.rand, this.faults.dropRate)) {
      this.stats.dropped++;
      this.lost(m);
      return;
    }
    // Serialised at send time, as a real transport does: later changes by either side are not seen.
    this.enqueue({ m: copyMessage(m) }, this.delay());
    if (m.type !== MessageType.MsgProp && chance(this.rand, this.faults.dupRate)) {
      this.stats.duplicated++;
      this.enqueue({ m: copyMessage(m) }, this.delay());
    }
  }

  /** Delivers everything due at `now`, including what those deliveries send with delay 0. */
  deliverDue(): void {
    for (;;) {
      const batch = this.due.get(this.now);
      if (batch === undefined) return;
      this.due.delete(this.now);
      this.inFlight -= batch.length;
      if (batch.length > 1) shuffle(this.rand, batch);
      for (const env of batch) {
        if ("m" in env) this.arrive(env.m);
        else this.endpoint.snapshotStatus(env.snapOf, env.to, env.ok);
      }
    }
  }

  /** Cuts the directed link from -> to. */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(linkKey(from, to));
  }

  /** Cuts both directions between every member of a and every member of b. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cut(x, y);
        this.cut(y, x);
      }
    }
  }

  heal(): void {
    this.cutLinks.clear();
  }

  cutCount(): number {
    return this.cutLinks.size;
  }

  ban(id: NodeId): void {
    this.banned.add(id);
  }

  private blocked(from: NodeId, to: NodeId): boolean {
    if (this.banned.has(from) || this.banned.has(to)) return true;
    return this.cutLinks.size > 0 && this.cutLinks.has(linkKey(from, to));
  }

  private arrive(m: Message): void {
    if (this.blocked(m.from, m.to)) {
      this.stats.cut++;
      this.lost(m);
      return;
    }
    if (this.endpoint.deliver(m)) {
      this.stats.delivered++;
      if (m.type === MessageType.MsgSnap) this.enqueue({ snapOf: m.from, to: m.to, ok: true }, 0);
    } else {
      this.stats.dropped++;
      this.lost(m);
    }
  }

  /** A lost snapshot is reported as failed so the leader leaves StateSnapshot and retries. */
  private lost(m: Message): void {
    if (m.type === MessageType.MsgSnap) this.enqueue({ snapOf: m.from, to: m.to, ok: false }, this.delay());
  }

  private delay(): number {
    return this.faults.maxDelay > 0 ? this.rand.intn(this.faults.maxDelay + 1) : 0;
  }

  private enqueue(env: Envelope, delay: number): void {
    const at = this.now + delay;
    const q = this.due.get(at);
    if (q === undefined) this.due.set(at, [env]);
    else q.push(env);
    this.inFlight++;
  }
}

/**
 * A copy that neither the sender nor another receiver can affect: the message object, its entries array
 * and entry objects are fresh (payload bytes are shared; Raft never writes into them).
 */
export function copyMessage(m: Message): Message {
  return { ...m, entries: m.entries.length === 0 ? m.entries : m.entries.map((e) => ({ ...e })) };
}
