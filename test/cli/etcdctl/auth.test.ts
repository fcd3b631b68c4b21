// auth, user and role commands, and --user/--password, compared with the real etcdctl 3.4 (harness.ts's
// three servers kept in lockstep; outputs equal modulo IDs, terms and auth revisions).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { same, sameAll, skipWithoutReal, Trio } from "./harness.js";

describe("etcdctl auth/user/role, ours vs the real etcdctl", {
  skip: skipWithoutReal,
  concurrency: 1,
}, () => {
  let t: Trio;
  before(async () => {
    t = await Trio.start(1);
  });
  after(async () => {
    await t?.destroy();
  });

  test("roles: add, grant and revoke permissions (key, range, prefix, from-key), get, list, delete", async () => {
    await sameAll(t, [
      ["role", "add", "r1"],
      ["role", "add", "r2", "-w", "json"],
    ]);
    // Independent grants (a role's permissions are kept sorted by key, whatever the order they came in).
    await sameAll(t, [
      ["role", "grant-permission", "r1", "read", "k1"],
      ["role", "grant-permission", "r1", "write", "a", "c", "-w", "fields"],
      ["role", "grant-permission", "r1", "readwrite", "pfx/", "--prefix"],
      ["role", "grant-permission", "r1", "READ", "from", "--from-key", "-w", "json"],
      ["role", "grant-permission", "r2", "write", "", "--prefix"],
    ]);
    await sameAll(t, [
      ["role", "get", "r1"],
      ["role", "get", "r1", "-w", "json"],
      ["role", "get", "r1", "-w", "fields"],
      ["role", "get", "r2"],
      ["role", "list"],
      ["role", "list", "-w", "fields"],
      ["role", "get", "nope"],
    ]);
    await sameAll(t, [
      ["role", "revoke-permission", "r1", "k1"],
      ["role", "revoke-permission", "r1", "a", "c"],
      ["role", "revoke-permission", "r1", "from", "--from-key"],
      ["role", "revoke-permission", "r1", "nothing"],
      ["role", "delete", "r2"],
    ]);
    await same(t, ["role", "get", "r1"]);
    const errs = await sameAll(
      t,
      [
        ["role", "add"],
        ["role", "grant-permission", "r1", "read"],
        ["role", "grant-permission", "r1", "bogus", "k"],
        ["role", "grant-permission", "r1", "read", "k", "z", "--prefix"],
        ["role", "revoke-permission", "r1"],
      ],
      { realOnly: true },
    );
    for (const e of errs) assert.equal(e.ours.code, 128);
  });

  test("users: add (flag, user:password, stdin, no password), get, detail, list, roles, passwd, delete", async () => {
    await sameAll(t, [
      ["user", "add", "u1", "--new-user-password=p1"],
      ["user", "add", "u2:p2", "-w", "json"],
      ["user", "add", "u4", "--no-password", "-w", "fields"],
    ]);
    await same(t, ["user", "add", "u3", "--interactive=false"], { stdin: "p3\n" });
    await sameAll(t, [
      ["user", "grant-role", "u1", "r1"],
      ["user", "grant-role", "u1", "nope"],
    ]);
    await sameAll(t, [
      ["user", "get", "u1"],
      ["user", "get", "u1", "-w", "json"],
      ["user", "get", "u1", "--detail"],
      ["user", "list"],
      ["user", "list", "-w", "json"],
      ["user", "get", "nobody"],
    ]);
    await same(t, ["user", "passwd", "u1", "--interactive=false"], { stdin: "p1b\n" });
    await sameAll(t, [
      ["user", "revoke-role", "u2", "r1", "-w", "fields"],
      ["user", "delete", "u4"],
      ["user", "add", "u1", "--new-user-password=x"],
    ]);
    const errs = await sameAll(
      t,
      [
        ["user", "add"],
        ["user", "add", ":pw"],
        ["user", "grant-role", "u1"],
        ["user", "get"],
        ["user", "list", "x"],
      ],
      { realOnly: true },
    );
    for (const e of errs) assert.equal(e.ours.code, 128);
  });

  test("auth enable/status/disable; --user and --password; wrong and missing credentials", async () => {
    // `auth status` is new in 3.5.
    const st = await same(t, ["auth", "status"], { oursOnly: true });
    assert.match(st.ours.stdout, /^Authentication Status: false\nAuthRevision: \d+\n$/);
    await same(t, ["auth", "enable"]);
    await same(t, ["user", "add", "root", "--new-user-password=rootpw"]);
    // Enabling grants the root role to root when it is missing.
    await same(t, ["auth", "enable"]);
    const js = await same(t, ["--user=root:rootpw", "auth", "status", "-w", "json"], { oursOnly: true });
    assert.match(
      js.ours.stdout,
      /^\{"header":\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+\},"enabled":true,"authRevision":\d+\}\n$/,
    );
    await same(t, ["--user=root", "--password=rootpw", "put", "k", "v"]);
    await sameAll(t, [
      ["--user=u1:p1b", "get", "k"],
      ["--user=root:wrong", "get", "k"],
      ["get", "k"],
      ["--user=root:rootpw", "user", "get", "root"],
    ]);
    await same(t, ["--user=root:rootpw", "auth", "disable"]);
    await same(t, ["auth", "status"], { oursOnly: true });
    const r = await same(t, ["--user=root:rootpw", "get", "k", "--print-value-only"]);
    assert.equal(r.ours.stdout, "v\n");
    await same(t, ["auth", "enable", "x"], { realOnly: true });
  });
});
