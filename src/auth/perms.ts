// Key-range permissions (etcd's range_perm_cache.go semantics, our own code): each role grants READ, WRITE
// or READWRITE on a single key, a range [key, range_end), or everything from a key on (range_end "\0").
// A user's permissions are the union over its roles, kept per user as two sorted interval lists (read
// and write) and rebuilt whenever the auth state changes.
//
// Bounds compare as bytes, except that an empty end stands for +infinity (etcd's BytesAffineComparable):
// no key is empty, so [k, "") is "k and everything after it". A single key k is the interval
// [k, k + "\0"), the smallest one that contains k.

import { type Permission, Permission_Type } from "../api/gen/authpb/auth.js";

/** A half-open interval [begin, end) of keys; an empty `end` is +infinity. */
export interface KeyInterval {
  readonly begin: Uint8Array;
  readonly end: Uint8Array;
}

/** Byte order with the empty array above every other (etcd's BytesAffineComparable). */
export function compareAffine(a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return Buffer.compare(a, b);
}

/** range_end "\0" asks for every key from `key` on (Range, Watch and permission requests alike). */
export function isOpenEnded(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** The interval holding exactly the key `k`: [k, k + "\0"). */
export function pointInterval(k: Uint8Array): KeyInterval {
  const end = new Uint8Array(k.length + 1);
  end.set(k);
  return { begin: k, end };
}

/**
 * The interval a stored permission grants: a single key when range_end is empty, [key, +inf) when it is
 * "\0", [key, range_end) otherwise.
 */
export function permissionInterval(key: Uint8Array, rangeEnd: Uint8Array): KeyInterval {
  if (rangeEnd.length === 0) return pointInterval(key);
  return { begin: key, end: isOpenEnded(rangeEnd) ? new Uint8Array(0) : rangeEnd };
}

/**
 * Whether RoleGrantPermission accepts (key, range_end) (etcd's isValidPermissionRange): a key is needed;
 * the range is a single key, [key, range_end) with key < range_end, or open-ended ("\0").
 */
export function isValidPermissionRange(key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (key.length === 0) return false;
  if (rangeEnd.length === 0) return true;
  return compareAffine(key, rangeEnd) < 0 || isOpenEnded(rangeEnd);
}

function intersects(a: KeyInterval, b: KeyInterval): boolean {
  return compareAffine(a.begin, b.end) < 0 && compareAffine(b.begin, a.end) < 0;
}

/** A set of intervals (a union), sorted by begin. Queries: does the union cover / touch an interval. */
export class IntervalSet {
  private readonly ivs: KeyInterval[];

  constructor(ivs: Iterable<KeyInterval> = []) {
    this.ivs = [...ivs].sort((a, b) => compareAffine(a.begin, b.begin));
  }

  get size(): number {
    return this.ivs.length;
  }

  /** True if some interval of the set overlaps `q`. */
  intersects(q: KeyInterval): boolean {
    return this.ivs.some((iv) => intersects(iv, q));
  }

  /**
   * True if the union of the set's intervals that overlap `q` is one contiguous interval reaching from
   * at or before q.begin to at or after q.end (adjacent intervals join: [a,b) and [b,c) cover [a,c)).
   */
  covers(q: KeyInterval): boolean {
    let minBegin: Uint8Array | undefined;
    let maxEnd: Uint8Array | undefined;
    for (const iv of this.ivs) {
      if (!intersects(iv, q)) continue;
      if (minBegin === undefined || maxEnd === undefined) {
        minBegin = iv.begin;
        maxEnd = iv.end;
        continue;
      }
      if (compareAffine(maxEnd, iv.begin) < 0) return false; // a gap
      if (compareAffine(iv.end, maxEnd) > 0) maxEnd = iv.end;
    }
    if (minBegin === undefined || maxEnd === undefined) return false;
    return compareAffine(minBegin, q.begin) <= 0 && compareAffine(maxEnd, q.end) >= 0;
  }
}

/** What an operation needs on its keys. */
export type Access = "read" | "write";

/** One user's permissions: the union over its roles' grants, as read and write interval sets. */
export class UserPermissions {
  constructor(
    readonly read: IntervalSet,
    readonly write: IntervalSet,
  ) {}

  /** Merges the grants of the given roles' permissions. */
  static of(perms: Iterable<Permission>): UserPermissions {
    const read: KeyInterval[] = [];
    const write: KeyInterval[] = [];
    for (const p of perms) {
      const iv = permissionInterval(p.key, p.rangeEnd);
      if (p.permType === Permission_Type.READ || p.permType === Permission_Type.READWRITE) read.push(iv);
      if (p.permType === Permission_Type.WRITE || p.permType === Permission_Type.READWRITE) write.push(iv);
    }
    return new UserPermissions(new IntervalSet(read), new IntervalSet(write));
  }

  /**
   * Whether `access` is granted on the request's keys: one key when range_end is empty (some grant holds
   * it), else every key of [key, range_end) ("\0": from key on), which the grants must cover without gaps.
   */
  permits(access: Access, key: Uint8Array, rangeEnd: Uint8Array): boolean {
    const set = access === "read" ? this.read : this.write;
    if (rangeEnd.length === 0) return set.intersects(pointInterval(key));
    return set.covers({ begin: key, end: isOpenEnded(rangeEnd) ? new Uint8Array(0) : rangeEnd });
  }
}
