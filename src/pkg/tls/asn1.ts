// The little DER (X.690) this package needs: encoding a self-signed certificate (selfcert.ts) and
// walking a certificate revocation list (crl.ts). Not a general ASN.1 library: definite lengths only,
// tags of one byte.

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: `tag`, the DER length, then the concatenated contents. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Buffer[]): Buffer => tlv(TAG.SET, ...items);

/** A context-specific constructed tag [n] (explicit tagging). */
export const explicit = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 | n, ...items);

/** An INTEGER from unsigned big-endian magnitude bytes (a 0x00 is prepended when the top bit is set). */
export function uintBytes(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let m = magnitude.subarray(i);
  if (m.length === 0) m = Buffer.from([0]);
  if ((m[0]! & 0x80) !== 0) m = Buffer.concat([Buffer.from([0]), m]);
  return tlv(TAG.INTEGER, m);
}

export const smallInt = (n: number): Buffer => uintBytes(Buffer.from([n]));

export function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

export const bitString = (bytes: Buffer, unusedBits = 0): Buffer =>
  tlv(TAG.BIT_STRING, Buffer.from([unusedBits]), bytes);

export const octetString = (bytes: Buffer): Buffer => tlv(TAG.OCTET_STRING, bytes);
export const utf8 = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, "utf8"));
export const bool = (b: boolean): Buffer => tlv(TAG.BOOLEAN, Buffer.from([b ? 0xff : 0]));

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  if (y < 2050) return tlv(TAG.UTC_TIME, Buffer.from(`${p(y % 100)}${rest}`, "latin1"));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${p(y, 4)}${rest}`, "latin1"));
}

// ---- reading ----------------------------------------------------------------------------------------------

export interface Element {
  tag: number;
  /** The contents (without tag and length). */
  body: Buffer;
  /** The whole TLV. */
  raw: Buffer;
}

/** Reads the TLV at `offset`; throws on truncated or indefinite-length input. */
export function readElement(buf: Buffer, offset = 0): Element {
  if (offset + 2 > buf.length) throw new Error("asn1: truncated element");
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error("asn1: unsupported length encoding");
    if (start + n > buf.length) throw new Error("asn1: truncated length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > buf.length) throw new Error("asn1: element longer than its input");
  return { tag, body: buf.subarray(start, start + len), raw: buf.subarray(offset, start + len) };
}

/** The elements inside a constructed element's contents. */
export function children(body: Buffer): Element[] {
  const out: Element[] = [];
  for (let off = 0; off < body.length; ) {
    const e = readElement(body, off);
    out.push(e);
    off += e.raw.length;
  }
  return out;
}
