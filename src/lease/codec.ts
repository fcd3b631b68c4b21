// How a lease is kept in the backend's `lease` bucket, exactly as etcd keeps it (so a database file or
// snapshot reads the same in both): key = the ID as 8 bytes big-endian (its uint64 reading), value =
// leasepb.Lease in protobuf: 1 ID int64, 2 TTL int64, 3 RemainingTTL int64 (zero fields omitted).

/** A lease as stored. */
export interface LeaseRecord {
  id: bigint;
  ttl: number;
  remainingTtl: number;
}

export class LeaseDecodeError extends Error {
  constructor(message: string) {
    super(`lease: ${message}`);
    this.name = "LeaseDecodeError";
  }
}

/** The bucket key of a lease: 8 bytes big-endian. */
export function leaseKey(id: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, id));
  return b;
}

/** The lease ID of a bucket key. */
export function leaseIdOfKey(key: Uint8Array): bigint {
  if (key.length !== 8) throw new LeaseDecodeError(`lease key must be 8 bytes, got ${key.length}`);
  return BigInt.asIntN(64, Buffer.from(key.buffer, key.byteOffset, 8).readBigUInt64BE(0));
}

function pushVarint(out: number[], v: bigint): void {
  let u = BigInt.asUintN(64, v);
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
}

function pushField(out: number[], field: number, v: bigint): void {
  if (v === 0n) return;
  out.push(field << 3); // wire type 0: varint
  pushVarint(out, v);
}

export function encodeLease(r: LeaseRecord): Buffer {
  const out: number[] = [];
  pushField(out, 1, r.id);
  pushField(out, 2, BigInt(r.ttl));
  pushField(out, 3, BigInt(r.remainingTtl));
  return Buffer.from(out);
}

export function decodeLease(b: Uint8Array): LeaseRecord {
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= b.length) throw new LeaseDecodeError("truncated varint");
      const c = b[pos++];
      v |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return BigInt.asUintN(64, v);
    }
    throw new LeaseDecodeError("varint too long");
  };
  const int64 = (): number => {
    const v = BigInt.asIntN(64, varint());
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new LeaseDecodeError(`value ${v} out of range`);
    }
    return Number(v);
  };
  const r: LeaseRecord = { id: 0n, ttl: 0, remainingTtl: 0 };
  while (pos < b.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0 && field === 1) r.id = BigInt.asIntN(64, varint());
    else if (wire === 0 && field === 2) r.ttl = int64();
    else if (wire === 0 && field === 3) r.remainingTtl = int64();
    else if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = Number(varint()); // read before adding: `pos += varint()` would use the old pos
      pos += len;
    } else throw new LeaseDecodeError(`unsupported wire type ${wire}`);
    if (pos > b.length) throw new LeaseDecodeError("truncated field");
  }
  return r;
}
