// The alarm store (etcd's v3alarm.AlarmStore): which members have raised which alarms. Changed only by
// applying committed Alarm requests, so every member holds the same set; persisted in the backend's
// `alarm` bucket in the same batch as the entry that changed it, so alarms survive restarts and travel
// with database snapshots.
//
// Layout, as etcd's: one key per active alarm, the protobuf encoding of the AlarmMember
// {memberID, alarm}, with an empty value.

import { AlarmMember, AlarmType, alarmTypeToJSON } from "../api/gen/etcdserverpb/rpc.js";
import { type Backend, Bucket } from "../backend/index.js";

const EMPTY = new Uint8Array(0);

export interface AlarmLogger {
  warn(fields: object, msg: string): void;
}

/** What an operator does about each alarm, logged when it is raised (etcd leaves this to its docs). */
const RECOVERY: Partial<Record<AlarmType, string>> = {
  [AlarmType.NOSPACE]:
    "writes are refused until space is freed: compact old revisions (etcdctl compaction <a recent revision " +
    "from etcdctl endpoint status>), defragment every member (etcdctl defrag --cluster), then " +
    "etcdctl alarm disarm; or raise --quota-backend-bytes and restart the members",
  [AlarmType.CORRUPT]:
    "writes are refused: the named member's data differs from the others'; remove it (etcdctl member " +
    "remove), wipe its data dir, add it back (etcdctl member add) and start it, then etcdctl alarm disarm",
};

export class AlarmStore {
  /** Active alarms by type, then by member ID. */
  private readonly byType = new Map<AlarmType, Map<bigint, AlarmMember>>();

  /** Loads the alarms recorded in `backend`'s alarm bucket. */
  constructor(
    private readonly backend: Backend,
    private readonly logger?: AlarmLogger,
  ) {
    this.backend.readTx().forEach(Bucket.alarm, (k) => {
      this.add(AlarmMember.decode(k));
    });
  }

  /**
   * Raises alarm `type` for `memberId` (recorded in the backend's current batch). Returns the alarm as
   * stored: the existing one if it was already raised.
   */
  activate(memberId: bigint, type: AlarmType): AlarmMember {
    const m: AlarmMember = { memberID: memberId, alarm: type };
    const stored = this.add(m);
    if (stored !== m) return stored;
    this.backend.batchTx.put(Bucket.alarm, AlarmMember.encode(m).finish(), EMPTY);
    if (this.get(type).length === 1) {
      this.logger?.warn(
        { alarm: alarmTypeToJSON(type), from: memberId.toString(16), recovery: RECOVERY[type] },
        "alarm raised",
      );
    }
    return m;
  }

  /** Clears alarm `type` of `memberId`. Returns the cleared alarm, or undefined if it was not raised. */
  deactivate(memberId: bigint, type: AlarmType): AlarmMember | undefined {
    const set = this.byType.get(type);
    const m = set?.get(memberId);
    if (set === undefined || m === undefined) return undefined;
    set.delete(memberId);
    this.backend.batchTx.delete(Bucket.alarm, AlarmMember.encode(m).finish());
    if (set.size === 0) {
      this.logger?.warn({ alarm: alarmTypeToJSON(type), from: memberId.toString(16) }, "alarm disarmed");
    }
    return m;
  }

  /** Active alarms of `type` (NONE: of every type), by type then member ID. */
  get(type: AlarmType = AlarmType.NONE): AlarmMember[] {
    const types = type === AlarmType.NONE ? [...this.byType.keys()].sort((a, b) => a - b) : [type];
    const out: AlarmMember[] = [];
    for (const t of types) {
      const set = this.byType.get(t);
      if (set === undefined) continue;
      const ids = [...set.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const id of ids) out.push(set.get(id)!);
    }
    return out;
  }

  /** True while some member has alarm `type` raised. */
  has(type: AlarmType): boolean {
    return (this.byType.get(type)?.size ?? 0) > 0;
  }

  private add(m: AlarmMember): AlarmMember {
    let set = this.byType.get(m.alarm);
    if (set === undefined) {
      set = new Map();
      this.byType.set(m.alarm, set);
    }
    const cur = set.get(m.memberID);
    if (cur !== undefined) return cur;
    set.set(m.memberID, m);
    return m;
  }
}

/**
 * An alarm as etcd prints it (gogo protobuf's compact text form, used in Status.errors and by etcdctl):
 * `memberID:<decimal> alarm:<NAME> `, zero fields left out, each field followed by a space.
 */
export function alarmMemberString(m: AlarmMember): string {
  let s = "";
  if (m.memberID !== 0n) s += `memberID:${m.memberID} `;
  if (m.alarm !== AlarmType.NONE) s += `alarm:${alarmTypeToJSON(m.alarm)} `;
  return s;
}
