// Crash and corruption cases at every offset of the tail of the log: truncate the segment there, flip a
// byte there, lose the sector there. Recovery must give exactly the valid prefix of the records or a
// CorruptWALError naming the file and offset: never garbage, never a silent skip over damage.

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeEntry, decodeHardState } from "../../src/raft/codec.js";
import { type Entry, emptyHardState, type HardState } from "../../src/raft/types.js";
import { CorruptWALError, type ReadAllResult, WAL } from "../../src/wal/index.js";
import { SECTOR } from "../../src/wal/repair.js";
import { captureLogger, entry, type RecordSpan, RecordType, recordLayout, rmDir, tmpDir } from "./helpers.js";

const META = new TextEncoder().encode("member=7,cluster=9");
const SEG = 8192;
/** Records at the end of the log whose every byte is damaged in turn. */
const TAIL_RECORDS = 8;
/** Bytes after the last record also damaged (into the next sector). */
const AFTER = 700;

let root = "";
let segPath = "";
let orig: Uint8Array;
let recs: RecordSpan[];

/** What a log holding the first `r` records reads back as. */
function model(r: number): ReadAllResult {
  const entries: Entry[] = [];
  let hardState: HardState = emptyHardState;
  for (const rec of recs.slice(0, r)) {
    if (rec.type === RecordType.Entry) entries.push(decodeEntry(rec.data.slice()));
    if (rec.type === RecordType.State) hardState = decodeHardState(rec.data);
  }
  return { metadata: META, hardState, entries };
}

let logger = captureLogger();

/** Puts `bytes` in place of the segment and opens the WAL: the records read, or the CorruptWALError. */
async function recover(bytes: Uint8Array): Promise<ReadAllResult | CorruptWALError> {
  fs.writeFileSync(segPath, bytes);
  logger = captureLogger();
  try {
    const w = await WAL.open(join(root, "wal"), { index: 0, term: 0 }, { segmentBytes: SEG, logger });
    const r = w.readAll();
    await w.close();
    return r;
  } catch (err) {
    if (err instanceof CorruptWALError) return err;
    throw err;
  }
}

function assertPrefix(got: ReadAllResult | CorruptWALError, r: number, what: string): void {
  assert.ok(
    !(got instanceof CorruptWALError),
    `${what}: refused (${(got as Error).message}), want ${r} records`,
  );
  assert.deepEqual(got, model(r), `${what}: want the first ${r} records`);
}

function assertRefused(got: ReadAllResult | CorruptWALError, offset: number, what: string): void {
  assert.ok(got instanceof CorruptWALError, `${what}: opened, want a refusal at ${offset}`);
  assert.equal(got.file, segPath, what);
  assert.equal(got.offset, offset, `${what}: ${got.message}`);
  assert.ok(got.message.includes(segPath) && got.message.includes(`offset ${offset}`));
}

/** Index of the record holding byte `x`, or -1. */
function recordAt(x: number): number {
  return recs.findIndex((r) => r.off <= x && x < r.end);
}

describe("wal: damage at every offset of the tail", () => {
  before(async () => {
    root = tmpDir("wal-damage-");
    const dir = join(root, "wal");
    const w = await WAL.create(dir, META, { segmentBytes: SEG, logger });
    for (let i = 1; i <= 14; i++) {
      await w.save({ term: 1, vote: 1n, commit: i - 1 }, [entry(i, 1, (i * 37) % 130)]);
    }
    await w.close();
    const names = fs.readdirSync(dir).filter((n) => n.endsWith(".wal"));
    assert.equal(names.length, 1);
    segPath = join(dir, names[0]);
    orig = new Uint8Array(fs.readFileSync(segPath));
    assert.equal(orig.length, SEG);
    recs = recordLayout(orig);
    assert.equal(recs.length, 3 + 28);
  });
  after(() => rmDir(root));

  test("the undamaged log reads back whole", async () => {
    assertPrefix(await recover(orig), recs.length, "intact");
  });

  test("truncated at every offset: exactly the records that end before the cut, and appending continues", async () => {
    const from = recs[recs.length - TAIL_RECORDS].off;
    const lastEnd = recs[recs.length - 1].end;
    let cases = 0;
    for (let x = from; x <= lastEnd + AFTER; x++) {
      const r = recs.filter((rec) => rec.end <= x).length;
      const got = await recover(orig.subarray(0, x));
      assertPrefix(got, r, `truncated at ${x}`);
      // The repaired segment is whole again: preallocated, zeros after the last record.
      const repaired = fs.readFileSync(segPath);
      assert.equal(repaired.length, SEG);
      assert.ok(repaired.subarray(recs[r - 1].end).every((b) => b === 0));
      if (x % 16 === 0) {
        const w = await WAL.open(join(root, "wal"), { index: 0, term: 0 }, { segmentBytes: SEG, logger });
        const last = w.readAll().entries.at(-1)!.index;
        await w.save(undefined, [entry(last + 1, 2, 50)]);
        await w.close();
        const w2 = await WAL.open(join(root, "wal"), { index: 0, term: 0 }, { segmentBytes: SEG, logger });
        const ents = w2.readAll().entries;
        await w2.close();
        assert.deepEqual(ents.at(-1), entry(last + 1, 2, 50), `append after truncation at ${x}`);
      }
      cases++;
    }
    assert.ok(cases > 600, `${cases} cases`);
  });

  test("a flipped byte at every offset: refused at the damaged record, never read as data", async () => {
    const from = recs[recs.length - TAIL_RECORDS].off;
    const lastEnd = recs[recs.length - 1].end;
    const lastSectorEnd = (Math.floor(lastEnd / SECTOR) + 1) * SECTOR;
    let refused = 0;
    let repaired = 0;
    for (let x = from; x < lastEnd + AFTER; x++) {
      for (const mask of [0xff, 0x01, 0x80]) {
        const bytes = orig.slice();
        bytes[x] ^= mask;
        const what = `byte ${x} ^ 0x${mask.toString(16)}`;
        const got = await recover(bytes);
        const k = recordAt(x);
        if (k >= 0 && k < recs.length - 1) {
          // Damage before the tail: records after it may have been acknowledged.
          assertRefused(got, recs[k].off, what);
          refused++;
        } else if (k === recs.length - 1) {
          // The last record: refused, or (only if a whole sector of it reads as zeros) dropped as torn.
          if (got instanceof CorruptWALError) {
            assertRefused(got, recs[k].off, what);
            refused++;
          } else {
            assertPrefix(got, k, what);
            repaired++;
          }
        } else if (x < lastSectorEnd) {
          // Data after the end of the log in the same sector: no torn write leaves that.
          assertRefused(got, lastEnd, what);
          refused++;
        } else {
          // Garbage in a later sector, after an unwritten one: a torn tail; zeroed with a warning.
          assertPrefix(got, recs.length, what);
          assert.equal(fs.readFileSync(segPath)[x], 0, `${what}: garbage left in place`);
          assert.ok(logger.lines.some((l) => l.level === "warn" && l.fields?.offset === lastEnd));
          repaired++;
        }
      }
    }
    assert.ok(refused > 1000 && repaired > 100, `refused ${refused}, repaired ${repaired}`);
  });

  test("a lost sector (zeros where a batch's sector never landed): the records before it, later ones dropped", async () => {
    const from = recs[recs.length - TAIL_RECORDS].off;
    const lastEnd = recs[recs.length - 1].end;
    for (let s = Math.floor(from / SECTOR) * SECTOR; s < lastEnd; s += SECTOR) {
      const bytes = orig.slice();
      bytes.fill(0, s, s + SECTOR);
      // The first record whose bytes changed is where the log now ends.
      let r = recs.findIndex((rec) =>
        orig.subarray(rec.off, rec.end).some((b, i) => bytes[rec.off + i] !== b),
      );
      if (r < 0) r = recs.length;
      const got = await recover(bytes);
      assertPrefix(got, r, `sector at ${s} lost`);
      const warn = logger.lines.find((l) => l.level === "warn");
      assert.ok(warn && warn.fields?.file === segPath && warn.fields?.offset === recs[r - 1].end);
    }
  });

  test("lost sectors inside the last record only, later sectors landed: the record is torn", async () => {
    // Make the last record span several sectors, then lose one of its middle sectors.
    const dir = join(root, "big");
    const w = await WAL.create(dir, META, { segmentBytes: SEG, logger });
    await w.save({ term: 1, vote: 1n, commit: 0 }, [entry(1, 1, 100)]);
    await w.save(undefined, [entry(2, 1, 2000)]);
    await w.close();
    const file = join(dir, fs.readdirSync(dir).find((n) => n.endsWith(".wal"))!);
    const b = fs.readFileSync(file);
    const layout = recordLayout(b);
    const big = layout[layout.length - 1];
    const s = (Math.floor(big.off / SECTOR) + 2) * SECTOR;
    b.fill(0, s, s + SECTOR);
    fs.writeFileSync(file, b);
    const w2 = await WAL.open(dir, { index: 0, term: 0 }, { segmentBytes: SEG, logger });
    assert.deepEqual(
      w2.readAll().entries.map((e) => e.index),
      [1],
    );
    await w2.close();
  });
});
