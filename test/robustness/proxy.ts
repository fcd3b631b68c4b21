// TCP proxies in front of the members' peer listeners, through which the test cuts and slows links.
//
// Each member listens for peers on a private port and advertises its proxy's port as its peer URL, so
// every connection any member dials to it passes through the proxy. The proxy learns per connection
// which member dialed: every request of our transport (message streams, snapshots, probes) carries the
// sender's member ID in the X-Server-From header, so the proxy holds the first bytes of each connection
// until the end of the HTTP request head, reads that header, and only then connects upstream. A
// connection belongs to one process for its whole life (streams hold theirs; pooled probe connections
// are per process), so the first head names its sender for good. Connections whose first request has no
// X-Server-From (a joining member's GET /members, member changes forwarded to the leader) are
// "unattributed" and never cut: partitions apply to Raft traffic, not to these one-shot requests.
//
// A cut link (the unordered pair of members) behaves like a partition, not like a refusal: new
// connections are accepted and held without an upstream (the dialer times out), established ones stop
// forwarding in both directions (the ends see silence and time out by their heartbeats). When the link
// heals, those held and silenced connections are closed so both ends reconnect at once, as they would
// after TCP gave up. Delay adds a one-way latency (with jitter, order kept) to every chunk either way.
//
// A proxy follows its member's life: while the member is down (killed, not yet restarted) the proxy does
// not listen, so dials are refused exactly as they would be by the dead process.

import net from "node:net";

/** Link rules shared by every proxy of a cluster. */
export class Network {
  /** hex member ID -> member name, for X-Server-From. */
  private readonly names = new Map<string, string>();
  /** Cut links, as "a|b" with a < b. */
  private readonly cut = new Set<string>();
  /** Per member: one-way delay and jitter (ms) on all its links. */
  private readonly delays = new Map<string, { ms: number; jitterMs: number }>();
  private readonly listeners = new Set<() => void>();
  private rnd: () => number = Math.random;

  /** The random source for delay jitter (seeded by the harness). */
  setRandom(r: () => number): void {
    this.rnd = r;
  }

  register(hexId: string, name: string): void {
    this.names.set(hexId.toLowerCase().replace(/^0+/, ""), name);
  }

  /** The member name for an X-Server-From value, or `id:<hex>` when unknown. */
  nameOf(hexId: string): string {
    const k = hexId.toLowerCase().replace(/^0+/, "");
    return this.names.get(k) ?? `id:${k}`;
  }

  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private changed(): void {
    for (const f of this.listeners) f();
  }

  private static pair(a: string, b: string): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  /** Cuts the links between every two members in different groups. */
  partition(groups: readonly (readonly string[])[]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i]!) for (const b of groups[j]!) this.cut.add(Network.pair(a, b));
      }
    }
    this.changed();
  }

  cutLink(a: string, b: string): void {
    this.cut.add(Network.pair(a, b));
    this.changed();
  }

  /** Adds `ms` (± jitterMs) of one-way latency to every link of `member`. */
  delay(member: string, ms: number, jitterMs = 0): void {
    this.delays.set(member, { ms, jitterMs });
    this.changed();
  }

  /** Removes every cut and delay. */
  heal(): void {
    this.cut.clear();
    this.delays.clear();
    this.changed();
  }

  /** Whether traffic between `a` and `b` is cut (unattributed connections: never). */
  blocked(a: string | undefined, b: string): boolean {
    return a !== undefined && this.cut.has(Network.pair(a, b));
  }

  /** A one-way delay sample (ms) for a chunk on the link a-b: the larger of the two members' settings. */
  delayMs(a: string | undefined, b: string): number {
    let best = 0;
    for (const m of a === undefined ? [b] : [a, b]) {
      const d = this.delays.get(m);
      if (d !== undefined) best = Math.max(best, d.ms + (this.rnd() * 2 - 1) * d.jitterMs);
    }
    return Math.max(0, best);
  }

  /** A description of the current rules (for the fault log). */
  describe(): string {
    const parts = [...this.cut].map((p) => `cut ${p}`);
    for (const [m, d] of this.delays) parts.push(`delay ${m} ${d.ms}±${d.jitterMs}ms`);
    return parts.length > 0 ? parts.join(", ") : "healed";
  }
}

/** Forwards chunks to `dst` after a per-chunk delay, never reordering them. */
class DelayedPipe {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dst: net.Socket,
    private readonly delayMs: () => number,
  ) {}

  push(chunk: Buffer): void {
    const d = this.delayMs();
    if (d <= 0 && this.queue.length === 0) {
      this.dst.write(chunk);
      return;
    }
    const at = Math.max(performance.now() + d, this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, chunk });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0]!.at - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = performance.now();
      while (this.queue.length > 0 && this.queue[0]!.at <= now + 0.5) {
        if (!this.dst.destroyed) this.dst.write(this.queue.shift()!.chunk);
        else this.queue.shift();
      }
      this.schedule();
    }, wait);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

/**
 * Closes a socket at once. Not resetAndDestroy (RST): on Node 20 a socket closed that way leaves a
 * handle behind that makes the process spin forever at exit (seen under `node --test`); a plain close
 * makes the peers reconnect just the same.
 */
function abort(s: net.Socket): void {
  if (!s.destroyed) s.destroy();
}

const HEAD_END = Buffer.from("\r\n\r\n");
const MAX_HEAD = 64 * 1024;

type ConnState = "head" | "open" | "held";

/** One proxied connection. */
class Conn {
  state: ConnState = "head";
  /** The dialing member's hex ID from X-Server-From, once the head was read (undefined: unattributed). */
  fromId: string | undefined;
  upstream: net.Socket | undefined;
  private head: Buffer[] = [];
  private toUp: DelayedPipe | undefined;
  private toDown: DelayedPipe | undefined;

  constructor(
    private readonly proxy: PeerProxy,
    readonly down: net.Socket,
  ) {
    down.setNoDelay(true);
    down.on("data", (c: Buffer) => this.onDownData(c));
    down.on("error", () => {});
    down.on("close", () => this.close());
  }

  private onDownData(c: Buffer): void {
    if (this.state === "open") {
      this.toUp!.push(c);
      return;
    }
    if (this.state === "held") return;
    this.head.push(c);
    const all = Buffer.concat(this.head);
    const end = all.indexOf(HEAD_END);
    if (end < 0 && all.length < MAX_HEAD) return;
    this.head = [all];
    const text = all.subarray(0, end < 0 ? all.length : end).toString("latin1");
    const m = /\r\nx-server-from:[ \t]*([0-9a-fA-F]+)/i.exec(text);
    this.fromId = m ? m[1]! : undefined;
    this.proxy.noteSender(this.from);
    if (this.proxy.network.blocked(this.from, this.proxy.owner)) {
      this.hold();
      return;
    }
    this.connectUpstream(all);
  }

  /** The dialing member's name (resolved now: IDs may be learned after the connection was made). */
  get from(): string | undefined {
    return this.fromId === undefined ? undefined : this.proxy.network.nameOf(this.fromId);
  }

  private connectUpstream(first: Buffer): void {
    this.state = "open";
    this.head = [];
    const up = net.connect({ host: "127.0.0.1", port: this.proxy.targetPort });
    up.setNoDelay(true);
    this.upstream = up;
    const delay = () => this.proxy.network.delayMs(this.from, this.proxy.owner);
    this.toUp = new DelayedPipe(up, delay);
    this.toDown = new DelayedPipe(this.down, delay);
    up.on("data", (c: Buffer) => {
      if (this.state === "open") this.toDown!.push(c);
    });
    up.on("error", (e: NodeJS.ErrnoException) => {
      // The member's private port refused or reset: pass that on by closing.
      if (e.code === "ECONNREFUSED" || e.code === "ECONNRESET") this.reset();
    });
    up.on("close", () => this.close());
    this.toUp.push(first);
  }

  /** Cut: stop forwarding anything, keep both sockets open (the ends see silence). */
  hold(): void {
    if (this.state === "held") return;
    this.state = "held";
    this.head = [];
    this.toUp?.stop();
    this.toDown?.stop();
    this.proxy.stats.held++;
  }

  /** Rules changed: cut if now blocked; reset if held and no longer blocked. */
  reevaluate(): void {
    const blocked = this.proxy.network.blocked(this.from, this.proxy.owner);
    if (this.state === "open" && blocked) this.hold();
    else if (this.state === "held" && !blocked) this.reset();
  }

  reset(): void {
    abort(this.down);
    if (this.upstream !== undefined) abort(this.upstream);
    this.close();
  }

  close(): void {
    this.toUp?.stop();
    this.toDown?.stop();
    if (!this.down.destroyed) this.down.destroy();
    if (this.upstream !== undefined && !this.upstream.destroyed) this.upstream.destroy();
    this.proxy.forget(this);
  }
}

export interface ProxyStats {
  accepted: number;
  /** Connections cut (held) by a partition. */
  held: number;
  /** Accepted connections by sender name ("?" for unattributed). */
  bySender: Record<string, number>;
}

/** The proxy in front of one member's peer listener. */
export class PeerProxy {
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  private readonly unsubscribe: () => void;
  readonly stats: ProxyStats = { accepted: 0, held: 0, bySender: {} };

  constructor(
    /** The member behind this proxy (its name). */
    readonly owner: string,
    /** The port members dial (the member's advertised peer URL). */
    readonly listenPort: number,
    /** The member's private peer port. */
    readonly targetPort: number,
    readonly network: Network,
  ) {
    this.unsubscribe = network.onChange(() => {
      for (const c of [...this.conns]) c.reevaluate();
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.listenPort}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Starts accepting connections (the member is up, or about to start). */
  async up(): Promise<void> {
    if (this.server !== undefined) return;
    const s = net.createServer((sock) => {
      this.stats.accepted++;
      this.conns.add(new Conn(this, sock));
    });
    this.server = s;
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(this.listenPort, "127.0.0.1", () => {
        s.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops listening and drops every connection (the member is down). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const c of [...this.conns]) c.reset();
    if (s !== undefined) await new Promise<void>((r) => s.close(() => r()));
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.down();
  }

  /** @internal */
  noteSender(from: string | undefined): void {
    const k = from ?? "?";
    this.stats.bySender[k] = (this.stats.bySender[k] ?? 0) + 1;
  }

  /** @internal */
  forget(c: Conn): void {
    this.conns.delete(c);
  }

  /** Open connections and their senders (for tests). */
  connections(): { from: string | undefined; state: ConnState }[] {
    return [...this.conns].map((c) => ({ from: c.from, state: c.state }));
  }
}
