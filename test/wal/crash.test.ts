// A child process saves entries in a write storm and prints each index once its save resolved; it is
// killed with SIGKILL in the middle. Every index it printed must be in the log after reopening, with
// its data, and the log must be a gap-free sequence (a torn tail at most drops unacknowledged entries).

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { WAL } from "../../src/wal/index.js";
import { captureLogger, entry, rmDir, tmpDir } from "./helpers.js";

const writer = fileURLToPath(new URL("./fixtures/writer.js", import.meta.url));
const children: ChildProcess[] = [];
const root = tmpDir("wal-crash-");
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmDir(root);
});

interface Round {
  first: number;
  acked: number[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer until it has acknowledged `acks` indexes, then SIGKILLs it. */
function storm(dir: string, acks: number, concurrency: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [writer, dir, String(concurrency)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(c);
    const acked: number[] = [];
    let first = -1;
    let buf = "";
    let stderr = "";
    let killed = false;
    c.stderr.on("data", (b) => (stderr += b));
    c.stdout.on("data", (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith("ready ")) first = Number(l.slice(6));
        else acked.push(Number(l));
      }
      if (!killed && acked.length >= acks) {
        killed = true;
        c.kill("SIGKILL");
      }
    });
    c.on("error", reject);
    c.on("exit", (code, signal) => {
      if (!killed) reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
      else resolve({ first, acked, signal, stderr });
    });
  });
}

test("wal: every save a SIGKILLed writer reported durable is there after reopening", async () => {
  const dir = join(root, "wal");
  let expectNext = 1;
  const all = new Set<number>();
  for (const [acks, concurrency] of [
    [3000, 64],
    [1500, 256],
    [800, 1],
    [4000, 16],
  ]) {
    const round = await storm(dir, acks, concurrency);
    assert.equal(round.signal, "SIGKILL");
    assert.equal(round.first, expectNext, "the writer continued after the last entry in the log");
    for (const i of round.acked) all.add(i);

    const logger = captureLogger();
    const w = await WAL.open(dir, { index: 0, term: 0 }, { segmentBytes: 128 * 1024, logger });
    const { entries, metadata } = w.readAll();
    await w.close();
    assert.equal(new TextDecoder().decode(metadata), "writer");
    for (let i = 0; i < entries.length; i++)
      assert.equal(entries[i].index, i + 1, "entries are gap-free from 1");
    const last = entries.at(-1)?.index ?? 0;
    for (const i of all) {
      assert.ok(i <= last, `acknowledged index ${i} lost (log ends at ${last})`);
      assert.deepEqual(entries[i - 1], entry(i, 1, i % 300), `entry ${i}`);
    }
    expectNext = last + 1;
  }
  assert.ok(all.size >= 9000);
});
