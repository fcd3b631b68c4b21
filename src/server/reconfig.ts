// Rules for membership changes, as etcd applies them. Two kinds:
// - admission (before proposing, on the member that takes the request): strict reconfiguration checks
//   that refuse a change the cluster could not survive right now (etcd's --strict-reconfig-check), and
//   the leader's check that a learner has caught up before promotion;
// - validation (when the committed change is applied, on every member): deterministic checks against
//   the membership as of that entry; a change that fails is applied as a no-op everywhere.

import {
  ErrGRPCLearnerNotReady,
  ErrGRPCMemberExist,
  ErrGRPCMemberNotEnoughStarted,
  ErrGRPCMemberNotFound,
  ErrGRPCMemberNotLearner,
  ErrGRPCPeerURLExist,
  ErrGRPCTooManyLearners,
  ErrGRPCUnhealthy,
} from "./errors.js";
import type { Member } from "./membership.js";

/** A learner may be promoted once its log reaches this fraction of the leader's (etcd's readyPercent). */
export const LEARNER_READY_FRACTION = 0.9;

/** A voter counts as healthy for reconfiguration once its stream has been up this long (etcd: 5 s). */
export const HEALTH_INTERVAL_MS = 5000;

/** The membership as the admission checks see it. */
export interface MembershipView {
  members: readonly Member[];
  /** This member's ID. */
  self: bigint;
  /** When the stream to `id` came up (ms since the epoch), undefined while it is down. */
  activeSince(id: bigint): number | undefined;
  now: number;
}

/** A member has started once it published its name through Raft. */
export function isStarted(m: Member): boolean {
  return m.name !== "";
}

function voters(v: MembershipView): Member[] {
  return v.members.filter((m) => !m.isLearner);
}

/** Voters whose stream has been up for HEALTH_INTERVAL_MS (this member always counts). */
function connectedVoters(v: MembershipView): number {
  let n = 0;
  for (const m of voters(v)) {
    if (m.id === v.self) {
      n++;
      continue;
    }
    const since = v.activeSince(m.id);
    if (since !== undefined && v.now - since >= HEALTH_INTERVAL_MS) n++;
  }
  return n;
}

/**
 * Adding a voter (or promoting a learner) raises the quorum: refuse unless a quorum of the enlarged
 * voter set has started, and every current voter has been connected for HEALTH_INTERVAL_MS.
 */
export function checkAddVoter(v: MembershipView, promotingLearner = false): void {
  const vs = voters(v);
  const quorum = Math.floor((vs.length + 1) / 2) + 1;
  // A learner being promoted is running already: it counts as started (a new member does not).
  const started = vs.filter(isStarted).length + (promotingLearner ? 1 : 0);
  if (started < quorum) throw ErrGRPCMemberNotEnoughStarted();
  if (connectedVoters(v) < vs.length) throw ErrGRPCUnhealthy();
}

/**
 * Removing voter `id`: refuse unless the remaining voters have a started quorum, and, when `id` is
 * up, unless enough others are connected that the smaller cluster keeps a quorum. A learner, or a
 * voter that is down, may always go.
 */
export function checkRemove(v: MembershipView, id: bigint): void {
  const target = v.members.find((m) => m.id === id);
  if (target?.isLearner) return;
  const rest = voters(v).filter((m) => m.id !== id);
  const quorum = Math.floor(rest.length / 2) + 1;
  if (rest.filter(isStarted).length < quorum) throw ErrGRPCMemberNotEnoughStarted();
  if (id !== v.self && v.activeSince(id) === undefined) return;
  const all = voters(v);
  if (connectedVoters(v) - 1 < 1 + Math.floor((all.length - 1) / 2)) throw ErrGRPCUnhealthy();
}

/** The leader's rule for promotion: the learner's log has reached 90% of the leader's. */
export function checkLearnerReady(leaderMatch: number, learnerMatch: number | undefined): void {
  if (learnerMatch === undefined) throw ErrGRPCMemberNotLearner();
  if (learnerMatch < leaderMatch * LEARNER_READY_FRACTION) throw ErrGRPCLearnerNotReady();
}

/** What a committed membership change asks for. */
export type MemberChange =
  | { kind: "add"; member: Member }
  | { kind: "promote"; id: bigint }
  | { kind: "remove"; id: bigint }
  | { kind: "update"; id: bigint; peerUrls: string[] };

/** The apply-time checks (etcd's ValidateConfigurationChange); throws etcd's error. */
export function validateChange(
  members: ReadonlyMap<bigint, Member>,
  removed: ReadonlySet<bigint>,
  ch: MemberChange,
  maxLearners: number,
): void {
  const urlsTaken = (urls: string[], except: bigint) => {
    const taken = new Set<string>();
    for (const m of members.values()) if (m.id !== except) for (const u of m.peerUrls) taken.add(u);
    return urls.some((u) => taken.has(u));
  };
  switch (ch.kind) {
    case "add": {
      const m = ch.member;
      if (removed.has(m.id)) throw ErrGRPCMemberNotFound();
      if (members.has(m.id)) throw ErrGRPCMemberExist();
      if (urlsTaken(m.peerUrls, m.id)) throw ErrGRPCPeerURLExist();
      if (m.isLearner) {
        const learners = [...members.values()].filter((x) => x.isLearner).length;
        if (learners + 1 > maxLearners) throw ErrGRPCTooManyLearners();
      }
      return;
    }
    case "promote": {
      const m = members.get(ch.id);
      if (m === undefined) throw ErrGRPCMemberNotFound();
      if (!m.isLearner) throw ErrGRPCMemberNotLearner();
      return;
    }
    case "remove":
      if (removed.has(ch.id) || !members.has(ch.id)) throw ErrGRPCMemberNotFound();
      return;
    case "update":
      if (removed.has(ch.id) || !members.has(ch.id)) throw ErrGRPCMemberNotFound();
      if (urlsTaken(ch.peerUrls, ch.id)) throw ErrGRPCPeerURLExist();
      return;
  }
}
