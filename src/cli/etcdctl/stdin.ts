// Line-by-line reading of stdin as Go's bufio.Reader.ReadString('\n') does it: each line with its
// newline; a last line without one comes back with `eof` set (Go returns the data and io.EOF).
// Synchronous (txn) and asynchronous (interactive watch) forms.

import { readSync } from "node:fs";

export interface LineResult {
  line: string;
  /** True when input ended before a newline (Go's err == io.EOF). */
  eof: boolean;
}

export class SyncLineReader {
  private buf = Buffer.alloc(0);
  private ended = false;

  private fill(): void {
    const chunk = Buffer.alloc(65536);
    for (;;) {
      try {
        const n = readSync(0, chunk, 0, chunk.length, null);
        if (n === 0) this.ended = true;
        else this.buf = Buffer.concat([this.buf, chunk.subarray(0, n)]);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") continue;
        if (code === "EOF") {
          this.ended = true;
          return;
        }
        throw e;
      }
    }
  }

  readLine(): LineResult {
    for (;;) {
      const i = this.buf.indexOf(0x0a);
      if (i >= 0) {
        const line = this.buf.subarray(0, i + 1).toString("utf8");
        this.buf = this.buf.subarray(i + 1);
        return { line, eof: false };
      }
      if (this.ended) {
        const line = this.buf.toString("utf8");
        this.buf = Buffer.alloc(0);
        return { line, eof: true };
      }
      this.fill();
    }
  }
}

/** Lines of stdin as they arrive (process.stdin in flowing mode). */
export class AsyncLineReader {
  private buf = "";
  private ended = false;
  private waiter: (() => void) | undefined;

  constructor() {
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (c: string) => {
      this.buf += c;
      this.wake();
    });
    process.stdin.on("end", () => {
      this.ended = true;
      this.wake();
    });
    process.stdin.on("error", () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async readLine(): Promise<LineResult> {
    for (;;) {
      const i = this.buf.indexOf("\n");
      if (i >= 0) {
        const line = this.buf.slice(0, i + 1);
        this.buf = this.buf.slice(i + 1);
        return { line, eof: false };
      }
      if (this.ended) {
        const line = this.buf;
        this.buf = "";
        return { line, eof: true };
      }
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
  }
}
