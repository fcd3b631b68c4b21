// Password hashing for auth users: bcrypt (the pure-JS bcryptjs, asynchronous so a hash does not hold the
// event loop), stored as etcd stores it: User.password holds the bcrypt string "$2a$<cost>$<salt+hash>"
// as bytes, and the hash travels through Raft base64-encoded in AuthUserAddRequest.hashedPassword
// (etcd 3.5 hashes in the API layer so that no plain password is written to the WAL).

import bcrypt from "bcryptjs";
import { EtcdError, Status } from "../server/errors.js";

/** Go's bcrypt.MinCost, MaxCost, DefaultCost. */
export const BCRYPT_MIN_COST = 4;
export const BCRYPT_MAX_COST = 31;
export const BCRYPT_DEFAULT_COST = 10;

/** bcrypt reads at most 72 bytes of a password; Go's bcrypt refuses longer ones rather than truncate. */
const MAX_PASSWORD_BYTES = 72;

/** --bcrypt-cost as etcd uses it: out of [4, 31] falls back to the default (with a warning by the caller). */
export function effectiveBcryptCost(cost: number): number {
  return Number.isInteger(cost) && cost >= BCRYPT_MIN_COST && cost <= BCRYPT_MAX_COST
    ? cost
    : BCRYPT_DEFAULT_COST;
}

/** The bcrypt hash of `password` at `cost`, with Go's "$2a$" prefix. */
export async function hashPassword(password: string, cost: number): Promise<string> {
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw new EtcdError(Status.UNKNOWN, "bcrypt: password length exceeds 72 bytes");
  }
  const salt = await bcrypt.genSalt(effectiveBcryptCost(cost));
  const h = await bcrypt.hash(password, salt);
  // $2b$ and $2a$ are the same algorithm for passwords under 255 bytes; Go writes $2a$.
  return h.startsWith("$2b$") ? `$2a$${h.slice(4)}` : h;
}

/** True if `password` matches the stored bcrypt hash (false for anything that is not one). */
export async function checkPassword(stored: Uint8Array, password: string): Promise<boolean> {
  const hash = Buffer.from(stored).toString("latin1");
  if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return false;
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) return false;
  try {
    return await bcrypt.compare(password, hash);
  } catch {
    return false;
  }
}

/** As hashPassword, blocking (only for entries that carry a plain password, applied synchronously). */
export function hashPasswordSync(password: string, cost: number): string {
  const h = bcrypt.hashSync(password, effectiveBcryptCost(cost));
  return h.startsWith("$2b$") ? `$2a$${h.slice(4)}` : h;
}
