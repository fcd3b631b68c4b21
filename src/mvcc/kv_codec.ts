// The backend value of a revision: mvccpb.KeyValue in protobuf encoding, byte for byte what etcd stores,
// so hashes (HashKV) are computed over the same bytes etcd hashes and etcd's db files stay readable.
//   1 key bytes, 2 create_revision int64, 3 mod_revision int64, 4 version int64, 5 value bytes,
//   6 lease int64. Zero fields are omitted (proto3).

import type { KeyValue } from "./types.js";

const TWO_32 = 4294967296;
const EMPTY = new Uint8Array(0);

export class KeyValueDecodeError extends Error {
  readonly code = "ErrKeyValueDecode";
  constructor(message: string) {
    super(`mvcc: bad KeyValue encoding: ${message}`);
    this.name = "KeyValueDecodeError";
  }
}

function varintLen(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  if (n < 0x80000000) {
    while (n > 127) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
  } else {
    while (n >= 128) {
      buf[pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
  }
  buf[pos++] = n;
  return pos;
}

function leaseVarint(lease: bigint): number[] {
  let u = BigInt.asUintN(64, lease);
  const out: number[] = [];
  while (u >= 128n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}

/** Encodes `kv` as protobuf mvccpb.KeyValue. */
export function encodeKeyValue(kv: KeyValue): Buffer {
  const { key, value, createRevision, modRevision, version, lease } = kv;
  let size = 0;
  if (key.length > 0) size += 1 + varintLen(key.length) + key.length;
  if (createRevision !== 0) size += 1 + varintLen(createRevision);
  if (modRevision !== 0) size += 1 + varintLen(modRevision);
  if (version !== 0) size += 1 + varintLen(version);
  if (value.length > 0) size += 1 + varintLen(value.length) + value.length;
  const lv = lease === 0n ? undefined : leaseVarint(lease);
  if (lv !== undefined) size += 1 + lv.length;
  const buf = Buffer.allocUnsafe(size);
  let p = 0;
  if (key.length > 0) {
    buf[p++] = 0x0a;
    p = writeVarint(buf, p, key.length);
    buf.set(key, p);
    p += key.length;
  }
  if (createRevision !== 0) {
    buf[p++] = 0x10;
    p = writeVarint(buf, p, createRevision);
  }
  if (modRevision !== 0) {
    buf[p++] = 0x18;
    p = writeVarint(buf, p, modRevision);
  }
  if (version !== 0) {
    buf[p++] = 0x20;
    p = writeVarint(buf, p, version);
  }
  if (value.length > 0) {
    buf[p++] = 0x2a;
    p = writeVarint(buf, p, value.length);
    buf.set(value, p);
    p += value.length;
  }
  if (lv !== undefined) {
    buf[p++] = 0x30;
    for (const byte of lv) buf[p++] = byte;
  }
  return buf;
}

// A varint's low and high 32 bits, set by readVarint (avoids allocating per field).
let LO = 0;
let HI = 0;

function readVarint(b: Uint8Array, pos: number, end: number): number {
  let lo = 0;
  let byte: number;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw new KeyValueDecodeError("truncated varint");
    byte = b[pos++];
    lo |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      LO = lo >>> 0;
      HI = 0;
      return pos;
    }
  }
  if (pos >= end) throw new KeyValueDecodeError("truncated varint");
  byte = b[pos++];
  lo |= (byte & 0x0f) << 28;
  let hi = (byte & 0x7f) >> 4;
  if (byte < 0x80) {
    LO = lo >>> 0;
    HI = hi;
    return pos;
  }
  for (let shift = 3; shift < 32; shift += 7) {
    if (pos >= end) throw new KeyValueDecodeError("truncated varint");
    byte = b[pos++];
    hi |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      LO = lo >>> 0;
      HI = hi >>> 0;
      return pos;
    }
  }
  throw new KeyValueDecodeError("varint too long");
}

function copyBytes(b: Uint8Array, start: number, end: number): Uint8Array {
  if (end === start) return EMPTY;
  const out = Buffer.allocUnsafe(end - start);
  if (Buffer.isBuffer(b)) b.copy(out, 0, start, end);
  else out.set(b.subarray(start, end));
  return out;
}

/**
 * Decodes a protobuf mvccpb.KeyValue. Key and value are copied out of `b`, which may be a transient
 * view into the database map; with `withValue` false the value is skipped (left empty).
 */
export function decodeKeyValue(b: Uint8Array, withValue = true): KeyValue {
  let key: Uint8Array = EMPTY;
  let value: Uint8Array = EMPTY;
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  let lease = 0n;
  const end = b.length;
  let p = 0;
  while (p < end) {
    const tag = b[p++];
    if (tag >= 0x80) throw new KeyValueDecodeError(`unexpected tag ${tag}`);
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) {
      p = readVarint(b, p, end);
      const n = HI * TWO_32 + LO;
      if (field === 2) createRevision = n;
      else if (field === 3) modRevision = n;
      else if (field === 4) version = n;
      else if (field === 6) lease = BigInt.asIntN(64, (BigInt(HI) << 32n) | BigInt(LO));
    } else if (wire === 2) {
      p = readVarint(b, p, end);
      const len = LO;
      if (HI !== 0 || p + len > end) throw new KeyValueDecodeError("length past the end");
      if (field === 1) key = copyBytes(b, p, p + len);
      else if (field === 5 && withValue) value = copyBytes(b, p, p + len);
      p += len;
    } else if (wire === 1) {
      p += 8;
    } else if (wire === 5) {
      p += 4;
    } else {
      throw new KeyValueDecodeError(`unsupported wire type ${wire}`);
    }
  }
  if (p !== end) throw new KeyValueDecodeError("truncated field");
  return { key, createRevision, modRevision, version, value, lease };
}
