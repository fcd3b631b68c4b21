// Runtime membership changes (Cluster.MemberAdd/Remove/Update/Promote): admission and proposal.
//
// Every change is admitted and proposed by the leader, which checks it against its applied membership
// only once no earlier conf change is pending: with Raft's one-pending-change rule, a change that passes
// admission is still valid when it applies, so applying committed changes needs no further check and a
// restart that replays them reaches the same membership. A member that is not the leader forwards the
// request to the leader's peer URL and answers once it has applied the change itself.

import { type ConfChange, ConfChangeTransition, ConfChangeType } from "../raft/types.js";
import type { ServerConfig } from "./config.js";
import { ErrGRPCMemberBadURLs, ErrGRPCMemberNotFound, ErrGRPCNotLeader } from "./errors.js";
import { computeMemberId, urlString } from "./ids.js";
import { encodeMemberContext, type Member, type RaftCluster } from "./membership.js";
import {
  checkAddVoter,
  checkLearnerReady,
  checkRemove,
  type MemberChange,
  type MembershipView,
  validateChange,
} from "./reconfig.js";

/** A membership change request as it travels to the leader. */
export type ReconfigRequest =
  | { op: "add"; peerUrls: string[]; isLearner: boolean }
  | { op: "remove"; id: string }
  | { op: "update"; id: string; peerUrls: string[] }
  | { op: "promote"; id: string };

/** The leader's answer: the member added (for add) and the raft index the change applied at. */
export interface ReconfigResult {
  member?: { id: string; peerUrls: string[]; isLearner: boolean };
  index: number;
}

/** What the reconfigurer needs of its member. */
export interface ReconfigHost {
  readonly id: bigint;
  cluster(): RaftCluster;
  readonly cfg: ServerConfig;
  isLeader(): boolean;
  leader(): bigint;
  activeSince(id: bigint): number | undefined;
  /** The leader's view of replication (empty on followers). */
  progress(): Map<bigint, { match: number; isLearner: boolean; recentActive: boolean }>;
  nextRequestId(): bigint;
  /** Resolves once no conf change is proposed but unapplied (so admission sees the current membership). */
  confChangeSettled(): Promise<void>;
  /** Proposes `cc` and resolves with the index it applied at. */
  proposeConfChange(cc: ConfChange, reqId: bigint): Promise<number>;
  /** Resolves once this member has applied `index`. */
  appliedTo(index: number): Promise<void>;
  /** Sends `req` to the leader's peer URL. */
  forward(req: ReconfigRequest): Promise<ReconfigResult>;
  now(): number;
}

/** Parses and normalises peer URLs of a request; etcd's error for anything but http(s)://host:port. */
export function checkPeerUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw ErrGRPCMemberBadURLs();
  return urls.map((u) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw ErrGRPCMemberBadURLs();
    }
    if (
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      url.port === "" ||
      url.pathname.length > 1
    ) {
      throw ErrGRPCMemberBadURLs();
    }
    return urlString(url);
  });
}

export class Reconfigurer {
  /** Serialises this leader's admissions: one change is checked and proposed at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private promoting = false;

  constructor(private readonly host: ReconfigHost) {}

  /** Runs `req` (on the leader, or forwarded to it) and resolves once this member has applied it. */
  async run(req: ReconfigRequest): Promise<ReconfigResult> {
    const r = this.host.isLeader() ? await this.lead(req) : await this.host.forward(req);
    await this.host.appliedTo(r.index);
    return r;
  }

  /** The leader's side: admit, propose, wait for the apply. */
  lead(req: ReconfigRequest): Promise<ReconfigResult> {
    const next = this.chain.then(() => this.admitAndPropose(req));
    this.chain = next.catch(() => {});
    return next;
  }

  private async admitAndPropose(req: ReconfigRequest): Promise<ReconfigResult> {
    const h = this.host;
    if (!h.isLeader()) throw ErrGRPCNotLeader();
    await h.confChangeSettled();
    if (!h.isLeader()) throw ErrGRPCNotLeader();
    const reqId = h.nextRequestId();
    const view: MembershipView = {
      members: [...h.cluster().members.values()],
      self: h.id,
      activeSince: (id) => h.activeSince(id),
      now: h.now(),
    };
    const strict = h.cfg.strictReconfigCheck;
    let change: MemberChange;
    let cc: ConfChange;
    let added: Member | undefined;
    switch (req.op) {
      case "add": {
        const peerUrls = checkPeerUrls(req.peerUrls);
        const asLearner = req.isLearner || h.cfg.addVotersAsLearners;
        const m: Member = {
          id: computeMemberId(peerUrls, "", Math.floor(h.now() / 1000)),
          name: "",
          peerUrls,
          clientUrls: [],
          isLearner: asLearner,
        };
        if (asLearner && !req.isLearner) m.autoPromote = true;
        change = { kind: "add", member: m };
        // Definite errors (URL taken, too many learners) before the transient health checks.
        validateChange(h.cluster().members, h.cluster().removed, change, h.cfg.maxLearners);
        if (strict && !m.isLearner) checkAddVoter(view);
        cc = single(m.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, m, reqId);
        added = m;
        break;
      }
      case "promote": {
        const id = BigInt(`0x${req.id}`);
        change = { kind: "promote", id };
        validateChange(h.cluster().members, h.cluster().removed, change, h.cfg.maxLearners);
        const pr = h.progress();
        checkLearnerReady(pr.get(h.id)?.match ?? 0, pr.get(id)?.isLearner ? pr.get(id)?.match : undefined);
        if (strict) checkAddVoter(view, true);
        const m = h.cluster().members.get(id) as Member;
        cc = single(ConfChangeType.AddNode, { ...m, isLearner: false }, reqId, true);
        break;
      }
      case "remove": {
        const id = BigInt(`0x${req.id}`);
        change = { kind: "remove", id };
        validateChange(h.cluster().members, h.cluster().removed, change, h.cfg.maxLearners);
        if (strict) checkRemove(view, id);
        const m = h.cluster().members.get(id) as Member;
        cc = single(ConfChangeType.RemoveNode, m, reqId);
        break;
      }
      case "update": {
        const id = BigInt(`0x${req.id}`);
        const peerUrls = checkPeerUrls(req.peerUrls);
        change = { kind: "update", id, peerUrls };
        const m = h.cluster().members.get(id);
        if (m === undefined) throw ErrGRPCMemberNotFound();
        cc = single(ConfChangeType.UpdateNode, { ...m, peerUrls }, reqId);
        break;
      }
    }
    validateChange(h.cluster().members, h.cluster().removed, change, h.cfg.maxLearners);
    const index = await h.proposeConfChange(cc, reqId);
    const res: ReconfigResult = { index };
    if (added !== undefined) {
      res.member = { id: added.id.toString(16), peerUrls: added.peerUrls, isLearner: added.isLearner };
    }
    return res;
  }

  /**
   * Leader only, called periodically: promotes one learner added by --add-voters-as-learners once it has
   * caught up and is connected. Refusals (not ready, unhealthy) are simply retried on a later call.
   */
  autoPromote(): void {
    const h = this.host;
    if (this.promoting || !h.isLeader()) return;
    const pr = h.progress();
    const leaderMatch = pr.get(h.id)?.match ?? 0;
    for (const m of h.cluster().members.values()) {
      const p = pr.get(m.id);
      if (!m.isLearner || !m.autoPromote || p === undefined || !p.recentActive) continue;
      if (p.match < leaderMatch * 0.9 || h.activeSince(m.id) === undefined) continue;
      this.promoting = true;
      this.lead({ op: "promote", id: m.id.toString(16) })
        .catch(() => {})
        .finally(() => {
          this.promoting = false;
        });
      return;
    }
  }
}

function single(type: ConfChangeType, m: Member, reqId: bigint, isPromote = false): ConfChange {
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ type, nodeId: m.id }],
    context: encodeMemberContext(m, { reqId, isPromote }),
  };
}
