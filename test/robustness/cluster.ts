// The cluster under test: bin/etcd member processes (test/e2e/cluster.ts's Member: spawn, kill -9,
// restart with the same data dir, /health), each behind its own peer proxy (proxy.ts). A member listens
// for peers on a private port and advertises its proxy's URL, so every Raft connection crosses a proxy
// the test controls. Members can be killed, paused (SIGSTOP), removed, and fresh ones added; `nodes`
// keeps every member that ever existed (their logs and data dirs stay in the run's directory).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { delay, freePorts, Member } from "../e2e/cluster.js";
import { type Network, PeerProxy } from "./proxy.js";
import { call, leaderMetadata, RawEndpoint } from "./rpc.js";

export interface ClusterOptions {
  size: number;
  /** Where member data dirs and logs go. */
  dir: string;
  network: Network;
  /** Run members with the WAL failpoint that drops unsynced writes at restart (ETCD_TS_FAILPOINT_DROP_UNSYNCED). */
  dropUnsynced: boolean;
  /** Extra bin/etcd flags for every member. */
  extraArgs?: string[];
  /** Where progress lines go. */
  log?: (line: string) => void;
  /** The program that runs a member (default: node bin/etcd of this checkout). */
  command?: string[];
}

/** One member: its process, proxy, client endpoint and (once known) ID. */
export class Node {
  /** Hex member ID, once known. */
  id: string | undefined;
  removed = false;
  /** SIGSTOPped and not yet continued. */
  paused = false;
  private raw: RawEndpoint | undefined;

  constructor(
    readonly name: string,
    readonly member: Member,
    readonly proxy: PeerProxy,
    readonly clientPort: number,
  ) {}

  /** "127.0.0.1:port" of the client URL. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get clientUrl(): string {
    return `http://${this.endpoint}`;
  }

  get running(): boolean {
    return this.member.running();
  }

  /** A raw gRPC endpoint to this member (shared by the harness's own queries). */
  rpc(): RawEndpoint {
    if (this.raw === undefined) this.raw = new RawEndpoint(this.endpoint);
    return this.raw;
  }

  closeRpc(): void {
    this.raw?.close();
    this.raw = undefined;
  }
}

export class RobustCluster {
  readonly nodes: Node[] = [];
  private nextIndex = 0;
  private readonly token = `robust-${process.pid}-${Date.now()}`;
  private readonly log: (line: string) => void;

  private constructor(readonly opts: ClusterOptions) {
    this.log = opts.log ?? (() => {});
  }

  /** Members of the cluster now (not removed). */
  get active(): Node[] {
    return this.nodes.filter((n) => !n.removed);
  }

  node(name: string): Node {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no member ${name}`);
    return n;
  }

  static async start(opts: ClusterOptions): Promise<RobustCluster> {
    mkdirSync(opts.dir, { recursive: true });
    const c = new RobustCluster(opts);
    const made: { name: string; proxyPort: number; peerPort: number; clientPort: number }[] = [];
    const ports = await freePorts(opts.size * 3);
    for (let i = 0; i < opts.size; i++) {
      made.push({
        name: `m${c.nextIndex++}`,
        proxyPort: ports[3 * i]!,
        peerPort: ports[3 * i + 1]!,
        clientPort: ports[3 * i + 2]!,
      });
    }
    const initialCluster = made.map((m) => `${m.name}=http://127.0.0.1:${m.proxyPort}`).join(",");
    for (const m of made)
      c.nodes.push(c.makeNode(m.name, m.proxyPort, m.peerPort, m.clientPort, initialCluster, "new"));
    try {
      for (const n of c.nodes) await n.proxy.up();
      for (const n of c.nodes) n.member.start();
      await c.waitHealthy(60_000);
      await c.learnIds();
    } catch (e) {
      await c.destroy();
      throw e;
    }
    return c;
  }

  private makeNode(
    name: string,
    proxyPort: number,
    peerPort: number,
    clientPort: number,
    initialCluster: string,
    state: "new" | "existing",
  ): Node {
    const proxy = new PeerProxy(name, proxyPort, peerPort, this.opts.network);
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const args = [
      `--name=${name}`,
      `--data-dir=${join(this.opts.dir, `${name}.etcd`)}`,
      `--initial-advertise-peer-urls=${proxy.url}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--initial-cluster-token=${this.token}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${state}`,
      ...(this.opts.extraArgs ?? []),
    ];
    const env: Record<string, string> = {};
    if (this.opts.dropUnsynced) env.ETCD_TS_FAILPOINT_DROP_UNSYNCED = "1";
    const member = new Member({
      name,
      command: this.opts.command,
      args,
      env,
      cwd: this.opts.dir,
      clientUrl,
      logPath: join(this.opts.dir, `${name}.log`),
    });
    return new Node(name, member, proxy, clientPort);
  }

  /** Asks a live member for the member list and teaches the network every member's ID. */
  async learnIds(): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < 50; attempt++) {
      for (const n of this.active.filter((x) => x.running && !x.paused)) {
        try {
          const r = await call(n.rpc().cluster.memberList, n.rpc().cluster, { linearizable: false }, 3000);
          for (const m of r.members) {
            const hex = m.ID.toString(16);
            const node = this.nodes.find(
              (x) => x.name === m.name || m.peerURLs.includes(x.proxy.url) || x.proxy.url === m.peerURLs[0],
            );
            if (node !== undefined) {
              node.id = hex;
              this.opts.network.register(hex, node.name);
            }
          }
          return;
        } catch (e) {
          last = e;
        }
      }
      await delay(200);
    }
    throw new Error(`could not list members: ${String(last)}`);
  }

  /** Waits until every active member that is running answers /health true. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.active.filter((n) => n.running).map((n) => n.member.waitHealthy(timeoutMs)));
  }

  /**
   * The current leader as the live members report it: a member that says it is the leader and that a
   * majority of the answering members agree on. Undefined when there is none right now.
   */
  async leader(): Promise<Node | undefined> {
    const live = this.active.filter((n) => n.running && !n.paused);
    const answers = await Promise.all(
      live.map(async (n) => {
        try {
          const s = await call(n.rpc().maintenance.status, n.rpc().maintenance, {}, 1500);
          return s.leader === 0n ? undefined : s.leader.toString(16);
        } catch {
          return undefined;
        }
      }),
    );
    const votes = new Map<string, number>();
    for (const a of answers) if (a !== undefined) votes.set(a, (votes.get(a) ?? 0) + 1);
    let best: string | undefined;
    for (const [id, v] of votes) if (best === undefined || v > votes.get(best)!) best = id;
    if (best === undefined) return undefined;
    return this.active.find((n) => n.id === best);
  }

  /** kill -9 (the proxy stops listening: dials are refused as by the dead process). */
  async kill(n: Node): Promise<void> {
    if (n.paused) this.cont(n);
    if (n.running) await n.member.kill("SIGKILL");
    await n.proxy.down();
  }

  /** Starts a killed member again (same data dir); does not wait for it to be healthy. */
  async restart(n: Node): Promise<void> {
    if (n.running) return;
    await n.proxy.up();
    n.member.start();
  }

  stop(n: Node): void {
    if (n.running && !n.paused) {
      process.kill(n.member.pid!, "SIGSTOP");
      n.paused = true;
    }
  }

  cont(n: Node): void {
    if (n.paused) {
      if (n.running) process.kill(n.member.pid!, "SIGCONT");
      n.paused = false;
    }
  }

  /** Runs `f` against some live member (leader first), retrying on errors for up to `timeoutMs`. */
  private async onAnyMember<T>(what: string, f: (n: Node) => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const lead = await this.leader();
      const candidates = lead === undefined ? this.active : [lead, ...this.active.filter((n) => n !== lead)];
      const order = candidates.filter((n) => n.running && !n.paused);
      for (const n of order) {
        try {
          return await f(n);
        } catch (e) {
          last = e;
        }
      }
      await delay(300);
    }
    throw new Error(`${what}: ${String(last)}`);
  }

  /**
   * Removes `n` from the cluster (member remove). Its process must stop by itself with status 0, as
   * etcd's does; returns what went wrong otherwise (it is then killed).
   */
  async removeMember(n: Node): Promise<string | undefined> {
    if (n.id === undefined) await this.learnIds();
    const id = BigInt(`0x${n.id}`);
    await this.onAnyMember(`member remove ${n.name}`, async (via) => {
      try {
        await call(via.rpc().cluster.memberRemove, via.rpc().cluster, { ID: id }, 10_000, leaderMetadata());
      } catch (e) {
        // Already removed by an attempt whose answer was lost.
        if (String((e as Error).message).includes("member not found")) return;
        throw e;
      }
    });
    n.removed = true;
    this.log(`removed ${n.name} (${n.id})`);
    const st = await Promise.race([n.member.exited(), delay(15_000).then(() => undefined)]);
    await this.kill(n);
    if (st === undefined) return `${n.name} was still running 15 s after its removal`;
    if (st.code !== 0)
      return `${n.name} exited with ${JSON.stringify(st)} after its removal (expected status 0)`;
    return undefined;
  }

  /** Lines of the members' logs that show a crash (an uncaught exception, a fatal Raft loop error). */
  crashes(): string[] {
    const found: string[] = [];
    for (const n of this.nodes) {
      const lines = n.member.log().split("\n");
      lines.forEach((l, i) => {
        if (/^Node\.js v\d/.test(l) || l.includes('"msg":"raft loop failed') || l.includes('"level":60')) {
          const context = lines.slice(Math.max(0, i - 6), i + 1).join(" | ");
          found.push(`${n.name}: ${context.slice(0, 1500)}`);
        }
      });
    }
    return found;
  }

  /** Adds a fresh member (member add, then start it with --initial-cluster-state existing). */
  async addMember(): Promise<Node> {
    const [proxyPort, peerPort, clientPort] = await freePorts(3);
    const name = `m${this.nextIndex++}`;
    const proxyUrl = `http://127.0.0.1:${proxyPort}`;
    const r = await this.onAnyMember(`member add ${name}`, (via) =>
      call(
        via.rpc().cluster.memberAdd,
        via.rpc().cluster,
        { peerURLs: [proxyUrl], isLearner: false },
        10_000,
        leaderMetadata(),
      ),
    );
    const initialCluster = r.members
      .map((m) => {
        const url = m.peerURLs[0]!;
        const known = this.nodes.find((x) => x.proxy.url === url);
        return `${url === proxyUrl ? name : (known?.name ?? m.name)}=${url}`;
      })
      .join(",");
    const node = this.makeNode(name, proxyPort!, peerPort!, clientPort!, initialCluster, "existing");
    node.id = r.member!.ID.toString(16);
    this.opts.network.register(node.id, name);
    this.nodes.push(node);
    this.log(`added ${name} (${node.id})`);
    await node.proxy.up();
    node.member.start();
    return node;
  }

  /** Kills every process, closes proxies and channels. The directory stays (the caller decides). */
  async destroy(): Promise<void> {
    for (const n of this.nodes) this.cont(n);
    await Promise.all(
      this.nodes.map(async (n) => {
        if (n.member.proc !== undefined && n.running) await n.member.kill("SIGKILL");
        await n.proxy.close();
        n.closeRpc();
      }),
    );
  }
}
