import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Permission_Type } from "../../src/api/gen/authpb/auth.js";
import type { InternalRaftRequest } from "../../src/api/gen/etcdserverpb/raft_internal.js";
import { applyAuthRequest, checkApplyPermission, NOT_AUTH } from "../../src/auth/apply.js";
import { hashPassword } from "../../src/auth/password.js";
import { SimpleTokenProvider } from "../../src/auth/simple_token.js";
import { AuthStore } from "../../src/auth/store.js";
import type { AuthInfo } from "../../src/auth/types.js";
import { Backend, Bucket } from "../../src/backend/index.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dbPath(): string {
  const d = mkdtempSync(join(tmpdir(), "auth-store-test-"));
  dirs.push(d);
  return join(d, "db");
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const b = (s: string) => Buffer.from(s);

/** Expects `f` to throw the catalog error with this message. */
function throwsMsg(f: () => unknown, message: string): void {
  assert.throws(f, (e: Error) => e.message === message);
}

function open(path = dbPath(), now = () => 1_000_000) {
  const be = Backend.open(path);
  const tokens = new SimpleTokenProvider({ ttlSeconds: 300, waitApplied: async () => true, now });
  const store = new AuthStore(be, tokens, quiet, 4);
  return { be, tokens, store, path };
}

async function hashed(pw: string): Promise<string> {
  return Buffer.from(await hashPassword(pw, 4)).toString("base64");
}

async function addUser(s: AuthStore, name: string, pw: string): Promise<void> {
  s.userAdd({ name, password: "", hashedPassword: await hashed(pw), options: undefined });
}

describe("AuthStore", () => {
  test("users and roles: etcd's errors and the auth revision", async () => {
    const { store: s } = open();
    assert.equal(s.revision(), 1, "a new store starts at revision 1");
    throwsMsg(
      () => s.userAdd({ name: "", password: "", hashedPassword: "", options: undefined }),
      "etcdserver: user name is empty",
    );
    await addUser(s, "alice", "pw");
    assert.equal(s.revision(), 2);
    await assert.rejects(addUser(s, "alice", "x"), { message: "etcdserver: user name already exists" });
    throwsMsg(() => s.roleAdd({ name: "" }), "etcdserver: role name is empty");
    s.roleAdd({ name: "reader" });
    throwsMsg(() => s.roleAdd({ name: "reader" }), "etcdserver: role name already exists");
    throwsMsg(() => s.userGrantRole({ user: "bob", role: "reader" }), "etcdserver: user name not found");
    throwsMsg(() => s.userGrantRole({ user: "alice", role: "nope" }), "etcdserver: role name not found");
    s.userGrantRole({ user: "alice", role: "reader" });
    const rev = s.revision();
    s.userGrantRole({ user: "alice", role: "reader" });
    assert.equal(s.revision(), rev, "granting a role twice changes nothing");
    s.userGrantRole({ user: "alice", role: "root" }); // root needs no role record
    assert.deepEqual(s.userGet("alice"), ["reader", "root"]);
    throwsMsg(
      () => s.userRevokeRole({ name: "alice", role: "writer" }),
      "etcdserver: role is not granted to the user",
    );
    s.userRevokeRole({ name: "alice", role: "root" });
    throwsMsg(() => s.userGet("bob"), "etcdserver: user name not found");
    throwsMsg(() => s.roleGet("nope"), "etcdserver: role name not found");
    await addUser(s, "bob", "pw");
    assert.deepEqual(s.userList(), ["alice", "bob"]);
    s.roleDelete({ role: "reader" });
    assert.deepEqual(s.userGet("alice"), [], "deleting a role takes it from its users");
    assert.deepEqual(s.roleList(), []);
  });

  test("permissions: granted sorted by key, a grant on the same range updates it, revoke needs an exact match", () => {
    const { store: s } = open();
    s.roleAdd({ name: "r" });
    throwsMsg(
      () => s.roleGrantPermission({ name: "r", perm: undefined }),
      "etcdserver: permission not given",
    );
    throwsMsg(
      () =>
        s.roleGrantPermission({
          name: "r",
          perm: { permType: Permission_Type.READ, key: b("b"), rangeEnd: b("a") },
        }),
      "etcdserver: invalid auth management",
    );
    throwsMsg(
      () =>
        s.roleGrantPermission({
          name: "x",
          perm: { permType: Permission_Type.READ, key: b("a"), rangeEnd: b("") },
        }),
      "etcdserver: role name not found",
    );
    s.roleGrantPermission({
      name: "r",
      perm: { permType: Permission_Type.READ, key: b("m"), rangeEnd: b("") },
    });
    s.roleGrantPermission({
      name: "r",
      perm: { permType: Permission_Type.WRITE, key: b("a"), rangeEnd: b("c") },
    });
    s.roleGrantPermission({
      name: "r",
      perm: { permType: Permission_Type.READWRITE, key: b("m"), rangeEnd: b("") },
    });
    assert.deepEqual(
      s
        .roleGet("r")
        .map((p) => [p.permType, Buffer.from(p.key).toString(), Buffer.from(p.rangeEnd).toString()]),
      [
        [Permission_Type.WRITE, "a", "c"],
        [Permission_Type.READWRITE, "m", ""],
      ],
    );
    throwsMsg(
      () => s.roleRevokePermission({ role: "r", key: b("a"), rangeEnd: b("") }),
      "etcdserver: permission is not granted to the role",
    );
    s.roleRevokePermission({ role: "r", key: b("a"), rangeEnd: b("c") });
    assert.equal(s.roleGet("r").length, 1);
  });

  test("auth enable needs root with the root role; root cannot be removed while enabled", async () => {
    const { store: s } = open();
    throwsMsg(() => s.authEnable(), "etcdserver: root user does not exist");
    await addUser(s, "root", "pw");
    throwsMsg(() => s.authEnable(), "etcdserver: root user does not have root role");
    s.userGrantRole({ user: "root", role: "root" });
    const rev = s.revision();
    s.authEnable();
    assert.equal(s.isEnabled(), true);
    assert.equal(s.revision(), rev, "enabling does not change the revision (etcd)");
    throwsMsg(() => s.userDelete({ name: "root" }), "etcdserver: invalid auth management");
    throwsMsg(() => s.userRevokeRole({ name: "root", role: "root" }), "etcdserver: invalid auth management");
    throwsMsg(() => s.roleDelete({ role: "root" }), "etcdserver: invalid auth management");
    s.authDisable();
    assert.equal(s.isEnabled(), false);
    assert.equal(s.revision(), rev + 1, "disabling bumps it");
  });

  test("checks: no user, stale revision, denied, root, and nothing while disabled", async () => {
    const { store: s } = open();
    await addUser(s, "root", "pw");
    s.userGrantRole({ user: "root", role: "root" });
    await addUser(s, "alice", "pw");
    s.roleAdd({ name: "reader" });
    s.roleGrantPermission({
      name: "reader",
      perm: { permType: Permission_Type.READ, key: b("/app/"), rangeEnd: b("/app0") },
    });
    s.userGrantRole({ user: "alice", role: "reader" });
    s.checkPut(undefined, b("x")); // disabled: anything goes
    s.authEnable();
    const cur = (username: string): AuthInfo => ({ username, revision: s.revision() });
    throwsMsg(() => s.checkRange(undefined, b("/app/x"), b("")), "etcdserver: user name is empty");
    s.checkRange(cur("alice"), b("/app/x"), b(""));
    throwsMsg(() => s.checkRange(cur("alice"), b("/other"), b("")), "etcdserver: permission denied");
    throwsMsg(() => s.checkPut(cur("alice"), b("/app/x")), "etcdserver: permission denied");
    throwsMsg(
      () => s.checkRange({ username: "alice", revision: s.revision() - 1 }, b("/app/x"), b("")),
      "etcdserver: revision of auth store is old",
    );
    s.checkPut(cur("root"), b("/anything"));
    throwsMsg(() => s.checkAdmin(cur("alice")), "etcdserver: permission denied");
    throwsMsg(
      () => s.checkAdmin({ username: "ghost", revision: s.revision() }),
      "etcdserver: user name not found",
    );
    throwsMsg(() => s.checkAdmin(undefined), "etcdserver: user name is empty");
  });

  test("passwords: checked against the bcrypt hash; no-password users cannot authenticate", async () => {
    const { store: s } = open();
    await addUser(s, "root", "secret");
    s.userGrantRole({ user: "root", role: "root" });
    s.userAdd({ name: "cert-user", password: "", hashedPassword: "", options: { noPassword: true } });
    await assert.rejects(s.checkPassword("root", "secret"), {
      message: "etcdserver: authentication is not enabled",
    });
    s.authEnable();
    assert.equal(await s.checkPassword("root", "secret"), s.revision());
    await assert.rejects(s.checkPassword("root", "wrong"), {
      message: "etcdserver: authentication failed, invalid user ID or password",
    });
    await assert.rejects(s.checkPassword("nobody", "x"), {
      message: "etcdserver: authentication failed, invalid user ID or password",
    });
    await assert.rejects(s.checkPassword("cert-user", "x"), {
      message: "auth: authentication failed, password was given for no password user",
    });
    throwsMsg(
      () => s.authenticate("cert-user", { index: 5, prefix: "p", issuedMs: 1 }),
      "etcdserver: authentication failed, invalid user ID or password",
    );
    // An entry carrying the password itself (from a proposer that did not hash) is hashed when applied.
    s.userChangePassword({ name: "root", password: "plain", hashedPassword: "" });
    assert.equal(await s.checkPassword("root", "plain"), s.revision());
  });

  test("auth state and simple-token records survive a reopen of the backend", async () => {
    let now = 1_000_000;
    const clock = () => now;
    const first = open(dbPath(), clock);
    await addUser(first.store, "root", "pw");
    first.store.userGrantRole({ user: "root", role: "root" });
    first.store.authEnable();
    const token = first.store.authenticate("root", { index: 42, prefix: "abcdefghijklmnop", issuedMs: now });
    assert.equal(token, "abcdefghijklmnop.42");
    let found = false;
    first.be.readTx().forEach(Bucket.auth, (k, v) => {
      if (Buffer.concat([k, v]).includes(Buffer.from("abcdefghijklmnop"))) found = true;
    });
    assert.equal(found, false, "the backend holds the token's digest, not the token");
    assert.deepEqual(await first.store.tokenInfo(token), {
      username: "root",
      revision: first.store.revision(),
    });
    const rev = first.store.revision();
    first.be.forceCommit();
    first.be.close();
    first.tokens.close();

    // A restarted member (a new provider, no memory of the token) accepts it from its record.
    now += 10_000;
    const again = open(first.path, clock);
    assert.equal(again.store.isEnabled(), true);
    assert.equal(again.store.revision(), rev);
    assert.deepEqual(again.store.userList(), ["root"]);
    assert.deepEqual(await again.store.tokenInfo(token), { username: "root", revision: rev });
    assert.equal(await again.store.tokenInfo("abcdefghijklmnop.43"), undefined, "unknown token");
    assert.equal(await again.store.tokenInfo("garbage"), undefined);
    // Unused for longer than the TTL on this member: refused from then on, even from its record.
    now += 301_000;
    assert.equal(await again.store.tokenInfo(token), undefined);
    now += 1;
    assert.equal(await again.store.tokenInfo(token), undefined);
    again.tokens.close();
    again.be.close();
  });

  test("simple tokens: TTL slides with use; a deleted user's or changed password's tokens stop; records are pruned", async () => {
    let now = 5_000_000;
    const { store: s, tokens } = open(dbPath(), () => now);
    await addUser(s, "root", "pw");
    s.userGrantRole({ user: "root", role: "root" });
    await addUser(s, "alice", "pw");
    s.authEnable();
    const t1 = s.authenticate("alice", { index: 10, prefix: "aaaaaaaaaaaaaaaa", issuedMs: now });
    for (let i = 0; i < 5; i++) {
      now += 200_000; // each use within the TTL keeps it alive
      assert.ok(await s.tokenInfo(t1));
    }
    s.userChangePassword({ name: "alice", password: "", hashedPassword: await hashed("new") });
    assert.equal(await s.tokenInfo(t1), undefined, "a password change ends the user's tokens");
    const t2 = s.authenticate("alice", { index: 11, prefix: "bbbbbbbbbbbbbbbb", issuedMs: now });
    const t3 = s.authenticate("root", { index: 12, prefix: "cccccccccccccccc", issuedMs: now });
    s.userDelete({ name: "alice" });
    assert.equal(await s.tokenInfo(t2), undefined, "deleting the user ends its tokens");
    assert.ok(await s.tokenInfo(t3));
    // A token issued past the retention after t3 prunes t3's record on every member alike.
    const later = now + tokens.retentionMs + 1;
    s.authenticate("root", { index: 13, prefix: "dddddddddddddddd", issuedMs: later });
    assert.equal(s.get(t3), undefined);
    s.authDisable();
    assert.equal(s.get("dddddddddddddddd.13"), undefined, "disabling clears every record");
    tokens.close();
  });

  test("apply: entries are checked against their header's user; auth requests answer etcd's responses", async () => {
    const { store: s } = open();
    const lessor = { exists: () => false, keysOf: () => [] };
    const ctx = {
      store: s,
      lessor,
      index: 7,
      header: () => ({ clusterId: 1n, memberId: 2n, revision: 3n, raftTerm: 4n }),
    };
    const req = (r: Partial<InternalRaftRequest>, user = "", rev = 0): InternalRaftRequest =>
      ({ header: { ID: 1n, username: user, authRevision: BigInt(rev) }, ...r }) as InternalRaftRequest;
    assert.equal(
      applyAuthRequest(
        ctx,
        req({
          put: {
            key: b("k"),
            value: b("v"),
            lease: 0n,
            prevKv: false,
            ignoreValue: false,
            ignoreLease: false,
          },
        }),
      ),
      NOT_AUTH,
    );
    applyAuthRequest(
      ctx,
      req({
        authUserAdd: { name: "root", password: "", hashedPassword: await hashed("pw"), options: undefined },
      }),
    );
    applyAuthRequest(ctx, req({ authUserGrantRole: { user: "root", role: "root" } }));
    applyAuthRequest(
      ctx,
      req({
        authUserAdd: { name: "alice", password: "", hashedPassword: await hashed("pw"), options: undefined },
      }),
    );
    applyAuthRequest(ctx, req({ authEnable: {} }));
    const rev = s.revision();
    const put = {
      key: b("k"),
      value: b("v"),
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    };
    throwsMsg(() => checkApplyPermission(ctx, req({ put })), "etcdserver: user name is empty");
    throwsMsg(() => checkApplyPermission(ctx, req({ put }, "alice", rev)), "etcdserver: permission denied");
    checkApplyPermission(ctx, req({ put }, "root", rev));
    throwsMsg(
      () => checkApplyPermission(ctx, req({ put }, "root", rev - 1)),
      "etcdserver: revision of auth store is old",
    );
    throwsMsg(
      () => checkApplyPermission(ctx, req({ authUserList: {} }, "alice", rev)),
      "etcdserver: permission denied",
    );
    // A user may read itself.
    checkApplyPermission(ctx, req({ authUserGet: { name: "alice" } }, "alice", rev));
    throwsMsg(
      () => checkApplyPermission(ctx, req({ authUserGet: { name: "root" } }, "alice", rev)),
      "etcdserver: permission denied",
    );
    // A txn is checked on every key it could touch, compares included.
    const txn = {
      compare: [{ result: 0, target: 0, key: b("secret"), rangeEnd: b(""), targetUnion: undefined }],
      success: [],
      failure: [],
    };
    applyAuthRequest(ctx, req({ authRoleAdd: { name: "w" } }, "root", rev));
    applyAuthRequest(
      ctx,
      req(
        {
          authRoleGrantPermission: {
            name: "w",
            perm: { permType: Permission_Type.READWRITE, key: b("k"), rangeEnd: b("") },
          },
        },
        "root",
        rev,
      ),
    );
    applyAuthRequest(ctx, req({ authUserGrantRole: { user: "alice", role: "w" } }, "root", rev));
    const rev2 = s.revision();
    checkApplyPermission(ctx, req({ put }, "alice", rev2));
    throwsMsg(() => checkApplyPermission(ctx, req({ txn }, "alice", rev2)), "etcdserver: permission denied");
    const status = applyAuthRequest(ctx, req({ authStatus: {} }, "root", rev2)) as {
      enabled: boolean;
      authRevision: bigint;
    };
    assert.equal(status.enabled, true);
    assert.equal(status.authRevision, BigInt(rev2));
    const auth = applyAuthRequest(
      ctx,
      req({
        authenticate: { name: "alice", password: "", simpleToken: "xxxxxxxxxxxxxxxx", issuedUnixMs: 1n },
      }),
    ) as { token: string };
    assert.equal(auth.token, "xxxxxxxxxxxxxxxx.7", "the token names the entry's index");
  });
});
