// Framing of the peer message stream: every frame is a big-endian u32 length followed by that many bytes
// of encodeMessage() output. A zero-length frame carries nothing: it is the link heartbeat a sender
// writes when it has been idle, so that the receiver can tell a quiet link from a dead one.
//
// There is no per-frame checksum: the stream runs over TCP (and later TLS), as etcd's does, and the
// messages it carries are re-sent by Raft when lost. Backend snapshots carry their own SHA-256.

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** The frame-level heartbeat: a frame of length zero. */
export const HEARTBEAT_FRAME: Uint8Array = new Uint8Array(FRAME_HEADER_BYTES);

/** The stream broke the framing rules (for example a length above the limit). */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/**
 * Writes `payloads` as frames into one buffer, so that a batch of messages costs one socket write.
 * `bytes` is the sum of the payload lengths (the caller tracks it already).
 */
export function encodeFrames(payloads: readonly Uint8Array[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes + FRAME_HEADER_BYTES * payloads.length);
  let pos = 0;
  for (const p of payloads) {
    out.writeUInt32BE(p.length, pos);
    out.set(p, pos + FRAME_HEADER_BYTES);
    pos += FRAME_HEADER_BYTES + p.length;
  }
  return out;
}

/** One frame around `payload`. */
export function encodeFrame(payload: Uint8Array): Buffer {
  return encodeFrames([payload], payload.length);
}

/**
 * Incremental frame parser: feed it the chunks of a byte stream as they arrive, in order, and it calls
 * `onFrame` once per complete non-empty frame, in order. Frames may be split across chunks anywhere
 * (even inside the length prefix). A frame that lies whole inside one chunk is passed as a view of that
 * chunk (no copy); one split across chunks is assembled into a buffer of its exact size.
 */
export class FrameDecoder {
  /** Bytes of a length prefix that arrived split across chunks. */
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  /** The frame being assembled from several chunks, and how much of it has arrived. */
  private body: Buffer | undefined;
  private bodyFilled = 0;
  /** Frames delivered, heartbeats included. */
  frames = 0;

  constructor(
    private readonly onFrame: (payload: Uint8Array) => void,
    private readonly maxFrameBytes = 512 * 1024 * 1024,
  ) {}

  /** True when the input so far ends exactly at a frame boundary. */
  get idle(): boolean {
    return this.headerFilled === 0 && this.body === undefined;
  }

  /** Parses `chunk`. Throws FrameError on a frame longer than the limit (the stream is then unusable). */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      if (this.body !== undefined) {
        const take = Math.min(this.body.length - this.bodyFilled, n - pos);
        this.body.set(chunk.subarray(pos, pos + take), this.bodyFilled);
        this.bodyFilled += take;
        pos += take;
        if (this.bodyFilled === this.body.length) {
          const frame = this.body;
          this.body = undefined;
          this.bodyFilled = 0;
          this.deliver(frame);
        }
        continue;
      }
      let len: number;
      if (this.headerFilled === 0 && n - pos >= FRAME_HEADER_BYTES) {
        len = ((chunk[pos] << 24) | (chunk[pos + 1] << 16) | (chunk[pos + 2] << 8) | chunk[pos + 3]) >>> 0;
        pos += FRAME_HEADER_BYTES;
      } else {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFilled, n - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFilled);
        this.headerFilled += take;
        pos += take;
        if (this.headerFilled < FRAME_HEADER_BYTES) return;
        this.headerFilled = 0;
        len = this.header.readUInt32BE(0);
      }
      if (len > this.maxFrameBytes) {
        throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`);
      }
      if (len === 0) {
        this.frames++;
        continue;
      }
      if (n - pos >= len) {
        const frame = chunk.subarray(pos, pos + len);
        pos += len;
        this.deliver(frame);
      } else {
        this.body = Buffer.allocUnsafe(len);
        this.bodyFilled = 0;
      }
    }
  }

  private deliver(frame: Uint8Array): void {
    this.frames++;
    this.onFrame(frame);
  }
}
