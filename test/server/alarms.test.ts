import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { AlarmMember, AlarmType } from "../../src/api/gen/etcdserverpb/rpc.js";
import { Backend, Bucket } from "../../src/backend/index.js";
import { AlarmStore, alarmMemberString } from "../../src/server/alarms.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dbPath(): string {
  const d = mkdtempSync(join(tmpdir(), "alarms-test-"));
  dirs.push(d);
  return join(d, "db");
}

describe("AlarmStore", () => {
  test("activate, deactivate, get by type; activating twice keeps one alarm", () => {
    const be = Backend.open(dbPath());
    const warned: string[] = [];
    const a = new AlarmStore(be, { warn: (_f, msg) => warned.push(msg) });
    assert.deepEqual(a.get(), []);
    assert.equal(a.has(AlarmType.NOSPACE), false);

    const m = a.activate(7n, AlarmType.NOSPACE);
    assert.deepEqual(m, { memberID: 7n, alarm: AlarmType.NOSPACE });
    assert.equal(a.activate(7n, AlarmType.NOSPACE), m, "the stored alarm comes back");
    a.activate(3n, AlarmType.NOSPACE);
    a.activate(5n, AlarmType.CORRUPT);
    assert.deepEqual(warned, ["alarm raised", "alarm raised"], "logged once per type raised");
    assert.equal(a.has(AlarmType.NOSPACE), true);
    assert.deepEqual(
      a.get().map((x) => [x.memberID, x.alarm]),
      [
        [3n, AlarmType.NOSPACE],
        [7n, AlarmType.NOSPACE],
        [5n, AlarmType.CORRUPT],
      ],
    );
    assert.deepEqual(
      a.get(AlarmType.CORRUPT).map((x) => x.memberID),
      [5n],
    );

    assert.equal(a.deactivate(9n, AlarmType.NOSPACE), undefined);
    assert.equal(a.deactivate(5n, AlarmType.NOSPACE), undefined, "member 5 has no NOSPACE alarm");
    assert.deepEqual(a.deactivate(7n, AlarmType.NOSPACE), { memberID: 7n, alarm: AlarmType.NOSPACE });
    assert.equal(a.has(AlarmType.NOSPACE), true, "member 3's alarm is still up");
    a.deactivate(3n, AlarmType.NOSPACE);
    assert.equal(a.has(AlarmType.NOSPACE), false);
    assert.deepEqual(warned.slice(2), ["alarm disarmed"]);
    be.close();
  });

  test("persisted as etcd does (key: AlarmMember protobuf, empty value) and restored on open", () => {
    const path = dbPath();
    let be = Backend.open(path);
    const a = new AlarmStore(be);
    a.activate(0x1234n, AlarmType.NOSPACE);
    a.activate(0xfedcba9876543210n, AlarmType.CORRUPT);
    a.activate(0x99n, AlarmType.NOSPACE);
    a.deactivate(0x99n, AlarmType.NOSPACE);
    be.close();

    be = Backend.open(path);
    const pairs = be.readTx().range(Bucket.alarm);
    const keys = pairs.map(([k]) => Buffer.from(k).toString("hex")).sort();
    // protoc --encode=etcdserverpb.AlarmMember: memberID: 0x1234 alarm: NOSPACE -> 08 b4 24 10 01
    assert.ok(keys.includes("08b4241001"), keys.join(","));
    assert.equal(pairs.length, 2);
    for (const [, v] of pairs) assert.equal(v.length, 0);
    assert.deepEqual(AlarmMember.decode(Buffer.from("08b4241001", "hex")), {
      memberID: 0x1234n,
      alarm: AlarmType.NOSPACE,
    });

    const b = new AlarmStore(be);
    assert.deepEqual(
      b.get().map((x) => [x.memberID, x.alarm]),
      [
        [0x1234n, AlarmType.NOSPACE],
        [0xfedcba9876543210n, AlarmType.CORRUPT],
      ],
    );
    be.close();
  });

  test("text form as etcd prints it (Status errors, etcdctl alarm list)", () => {
    assert.equal(
      alarmMemberString({ memberID: 7383792418829112008n, alarm: AlarmType.NOSPACE }),
      "memberID:7383792418829112008 alarm:NOSPACE ",
    );
    assert.equal(alarmMemberString({ memberID: 5n, alarm: AlarmType.CORRUPT }), "memberID:5 alarm:CORRUPT ");
    assert.equal(alarmMemberString({ memberID: 0n, alarm: AlarmType.NOSPACE }), "alarm:NOSPACE ");
  });
});
