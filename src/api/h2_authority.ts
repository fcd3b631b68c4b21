// Tolerating the :authority that etcdctl 3.4 sends on some calls.
//
// clientv3 3.4 dials a single endpoint for `endpoint status` / `endpoint hashkv` with the target
// "passthrough:///http://127.0.0.1:2379", so grpc-go sends `:authority: http://127.0.0.1:2379`. etcd's
// Go HTTP/2 server accepts it; node's (nghttp2) resets the stream with PROTOCOL_ERROR because "/" is not
// allowed in an authority. Node offers no switch for that check, so the client listener rewrites such a
// value before nghttp2 sees it: the first HEADERS frames of a connection are decoded (HPACK) and an
// :authority with characters nghttp2 refuses gets them replaced by "_" (same length, so the dynamic
// table entry the value creates has the same size in encoder and decoder; later requests refer to that
// entry by index and need no rewrite).
//
// This module holds the pure parts: HPACK integers and strings (RFC 7541), the Huffman code, and the
// rewrite of one HEADERS frame.

/** HPACK Huffman code lengths of the symbols 0..255 and EOS (RFC 7541 Appendix B); the code is canonical. */
// biome-ignore format: a table, 16 symbols a row
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;

/** Canonical code of every symbol, and per length the first code, the count, and where its symbols start. */
const CODES: number[] = new Array(257).fill(0);
const FIRST_CODE: number[] = new Array(31).fill(0);
const COUNT: number[] = new Array(31).fill(0);
const OFFSET: number[] = new Array(31).fill(0);
const SORTED: number[] = [...Array(257).keys()].sort((a, b) => CODE_LENGTHS[a]! - CODE_LENGTHS[b]! || a - b);
{
  let code = 0;
  let len = CODE_LENGTHS[SORTED[0]!]!;
  for (let i = 0; i < SORTED.length; i++) {
    const s = SORTED[i]!;
    const l = CODE_LENGTHS[s]!;
    code <<= l - len;
    len = l;
    if (COUNT[l] === 0) {
      FIRST_CODE[l] = code;
      OFFSET[l] = i;
    }
    COUNT[l]!++;
    CODES[s] = code++;
  }
}

/** Decodes an HPACK Huffman string; undefined if it is malformed (bad padding, EOS inside). */
export function huffmanDecode(data: Uint8Array): Buffer | undefined {
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (const byte of data) {
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      if (len > 30) return undefined;
      const idx = code - FIRST_CODE[len]!;
      if (COUNT[len]! > 0 && idx >= 0 && idx < COUNT[len]!) {
        const sym = SORTED[OFFSET[len]! + idx]!;
        if (sym === EOS) return undefined;
        out.push(sym);
        code = 0;
        len = 0;
      }
    }
  }
  // Padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (len > 7 || code !== (1 << len) - 1) return undefined;
  return Buffer.from(out);
}

export function huffmanEncode(data: Uint8Array): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const sym of data) {
    const l = CODE_LENGTHS[sym]!;
    const c = CODES[sym]!;
    for (let i = l - 1; i >= 0; i--) {
      acc = (acc << 1) | ((c >>> i) & 1);
      if (++bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push((acc << (8 - bits)) | ((1 << (8 - bits)) - 1));
  return Buffer.from(out);
}

/** Reads an HPACK integer with an N-bit prefix at `pos`; [value, next position] or undefined if cut short. */
export function readInt(buf: Uint8Array, pos: number, prefixBits: number): [number, number] | undefined {
  if (pos >= buf.length) return undefined;
  const max = (1 << prefixBits) - 1;
  let v = buf[pos]! & max;
  pos++;
  if (v < max) return [v, pos];
  let shift = 0;
  for (;;) {
    if (pos >= buf.length || shift > 28) return undefined;
    const b = buf[pos++]!;
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [v, pos];
  }
}

/** Writes an HPACK integer with an N-bit prefix, the prefix byte's high bits being `flags`. */
export function writeInt(v: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (v < max) return [flags | v];
  const out = [flags | max];
  v -= max;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Characters nghttp2 accepts in :authority (RFC 3986 authority: unreserved, sub-delims, ":", "@", "%", "[]"). */
const AUTHORITY_OK = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%[]") {
  AUTHORITY_OK[c.charCodeAt(0)] = 1;
}

/** `value` with every character nghttp2 refuses in an authority replaced by "_"; undefined if all are fine. */
export function sanitizeAuthority(value: Uint8Array): Buffer | undefined {
  let bad = false;
  for (const c of value) if (!AUTHORITY_OK[c]) bad = true;
  if (!bad) return undefined;
  return Buffer.from(value.map((c) => (AUTHORITY_OK[c] ? c : 0x5f)));
}

const AUTHORITY = Buffer.from(":authority");

interface StringAt {
  huffman: boolean;
  start: number; // position of the length prefix
  end: number; // after the string
  data: Uint8Array; // the raw (possibly Huffman) bytes
}

function readString(buf: Uint8Array, pos: number): StringAt | undefined {
  if (pos >= buf.length) return undefined;
  const huffman = (buf[pos]! & 0x80) !== 0;
  const n = readInt(buf, pos, 7);
  if (n === undefined) return undefined;
  const [len, at] = n;
  if (at + len > buf.length) return undefined;
  return { huffman, start: pos, end: at + len, data: buf.subarray(at, at + len) };
}

function decoded(s: StringAt): Buffer | undefined {
  return s.huffman ? huffmanDecode(s.data) : Buffer.from(s.data);
}

/**
 * A header block with every :authority literal made acceptable to nghttp2 (see the file comment), or
 * undefined if it needs no change or cannot be parsed whole.
 */
export function fixAuthorityInBlock(block: Uint8Array): Buffer | undefined {
  const parts: Uint8Array[] = [];
  let copied = 0;
  let pos = 0;
  let changed = false;
  while (pos < block.length) {
    const b = block[pos]!;
    if (b & 0x80) {
      // Indexed field.
      const n = readInt(block, pos, 7);
      if (n === undefined) return undefined;
      pos = n[1];
      continue;
    }
    if ((b & 0xe0) === 0x20) {
      // Dynamic table size update.
      const n = readInt(block, pos, 5);
      if (n === undefined) return undefined;
      pos = n[1];
      continue;
    }
    // Literal: with incremental indexing (01), without indexing (0000) or never indexed (0001).
    const prefix = (b & 0xc0) === 0x40 ? 6 : 4;
    const n = readInt(block, pos, prefix);
    if (n === undefined) return undefined;
    let [nameIndex, at] = n;
    let isAuthority = nameIndex === 1; // static table entry 1 is :authority
    if (nameIndex === 0) {
      const name = readString(block, at);
      if (name === undefined) return undefined;
      const nameText = decoded(name);
      isAuthority = nameText?.equals(AUTHORITY) ?? false;
      at = name.end;
    }
    const value = readString(block, at);
    if (value === undefined) return undefined;
    pos = value.end;
    if (!isAuthority) continue;
    const text = decoded(value);
    if (text === undefined) return undefined;
    const fixed = sanitizeAuthority(text);
    if (fixed === undefined) continue;
    const data = value.huffman ? huffmanEncode(fixed) : fixed;
    parts.push(
      block.subarray(copied, value.start),
      Uint8Array.from(writeInt(data.length, 7, value.huffman ? 0x80 : 0)),
      data,
    );
    copied = value.end;
    changed = true;
  }
  if (!changed) return undefined;
  parts.push(block.subarray(copied));
  return Buffer.concat(parts);
}

export const FRAME_HEADER_BYTES = 9;
export const FRAME_DATA = 0x0;
export const FRAME_HEADERS = 0x1;
export const FRAME_SETTINGS = 0x4;
export const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;

/** An empty SETTINGS frame: a server connection preface that changes nothing. */
export const EMPTY_SETTINGS_FRAME = Buffer.from([0, 0, 0, FRAME_SETTINGS, 0, 0, 0, 0, 0]);

/**
 * A whole HEADERS frame (header included) with its :authority fixed, or undefined if unchanged (also
 * when the header block continues in CONTINUATION frames: left alone).
 */
export function fixAuthorityInHeadersFrame(frame: Buffer): Buffer | undefined {
  const flags = frame[4]!;
  if ((flags & FLAG_END_HEADERS) === 0) return undefined;
  const payload = frame.subarray(FRAME_HEADER_BYTES);
  let start = 0;
  let padLength = 0;
  if (flags & FLAG_PADDED) {
    if (payload.length < 1) return undefined;
    padLength = payload[0]!;
    start = 1;
  }
  if (flags & FLAG_PRIORITY) start += 5;
  const end = payload.length - padLength;
  if (end < start) return undefined;
  const block = fixAuthorityInBlock(payload.subarray(start, end));
  if (block === undefined) return undefined;
  const newPayload = Buffer.concat([payload.subarray(0, start), block, payload.subarray(end)]);
  const head = Buffer.from(frame.subarray(0, FRAME_HEADER_BYTES));
  head.writeUIntBE(newPayload.length, 0, 3);
  return Buffer.concat([head, newPayload]);
}
