import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type Permission, Permission_Type } from "../../src/api/gen/authpb/auth.js";
import {
  compareAffine,
  isValidPermissionRange,
  permissionInterval,
  UserPermissions,
} from "../../src/auth/perms.js";

const b = (s: string) => Buffer.from(s, "latin1");
const NUL = "\0";
const { READ, WRITE, READWRITE } = Permission_Type;

function perm(permType: Permission_Type, key: string, rangeEnd = ""): Permission {
  return { permType, key: b(key), rangeEnd: b(rangeEnd) };
}

/** etcdctl's --prefix range end: the prefix with its last byte incremented. */
function prefixEnd(p: string): string {
  return p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
}

describe("permission ranges", () => {
  test("a single key grants that key only", () => {
    const u = UserPermissions.of([perm(READ, "foo")]);
    assert.equal(u.permits("read", b("foo"), b("")), true);
    assert.equal(u.permits("read", b("fo"), b("")), false);
    assert.equal(u.permits("read", b("foo0"), b("")), false);
    assert.equal(u.permits("read", b("foo"), b("fop")), false, "a range beyond the key is not covered");
    assert.equal(u.permits("read", b("foo"), b(`foo${NUL}`)), true, "[foo, foo\\0) is just foo");
    assert.equal(u.permits("write", b("foo"), b("")), false);
  });

  test("a prefix grants every key under it and ranges inside it, nothing outside", () => {
    const u = UserPermissions.of([perm(READ, "/app/", prefixEnd("/app/"))]);
    assert.equal(u.permits("read", b("/app/"), b("")), true);
    assert.equal(u.permits("read", b("/app/x/y"), b("")), true);
    assert.equal(u.permits("read", b("/app/"), b(prefixEnd("/app/"))), true, "get --prefix /app/");
    assert.equal(u.permits("read", b("/app/a"), b("/app/b")), true);
    assert.equal(u.permits("read", b("/app"), b("")), false);
    assert.equal(u.permits("read", b("/app0"), b("")), false, "the range end is exclusive");
    assert.equal(u.permits("read", b("/a"), b(prefixEnd("/a"))), false, "a wider prefix");
    assert.equal(u.permits("read", b("/app/"), b(NUL)), false, "from-key reaches past the prefix");
  });

  test("open-ended (range_end \\0) grants from the key on; \\0 \\0 grants everything", () => {
    const u = UserPermissions.of([perm(WRITE, "m", NUL)]);
    assert.equal(u.permits("write", b("m"), b("")), true);
    assert.equal(u.permits("write", b("zzzz"), b(NUL)), true);
    assert.equal(u.permits("write", b("l"), b("")), false);
    assert.equal(u.permits("write", b("a"), b(NUL)), false);
    const all = UserPermissions.of([perm(READ, NUL, NUL)]);
    assert.equal(all.permits("read", b(NUL), b(NUL)), true, "get --from-key ''");
    assert.equal(all.permits("read", b("anything"), b("")), true);
  });

  test("ranges of several grants join when they touch or overlap, and leave gaps uncovered", () => {
    const u = UserPermissions.of([perm(READ, "a", "c"), perm(READ, "c", "e"), perm(READ, "g", "k")]);
    assert.equal(u.permits("read", b("a"), b("e")), true, "[a,c) + [c,e) cover [a,e)");
    assert.equal(u.permits("read", b("b"), b("d")), true);
    assert.equal(u.permits("read", b("a"), b("f")), false, "[e,f) is not granted");
    assert.equal(u.permits("read", b("d"), b("h")), false, "a gap [e,g) inside");
    assert.equal(u.permits("read", b("h"), b("")), true);
    const overlapping = UserPermissions.of([
      perm(READ, "a", "d"),
      perm(READ, "b", "c"),
      perm(READ, "c", "f"),
    ]);
    assert.equal(overlapping.permits("read", b("a"), b("f")), true);
  });

  test("READWRITE counts for both; READ and WRITE only for their own access", () => {
    const u = UserPermissions.of([perm(READ, "r"), perm(WRITE, "w"), perm(READWRITE, "rw")]);
    assert.deepEqual(
      ["r", "w", "rw"].map((k) => [u.permits("read", b(k), b("")), u.permits("write", b(k), b(""))]),
      [
        [true, false],
        [false, true],
        [true, true],
      ],
    );
  });

  test("valid permission ranges (etcd's isValidPermissionRange)", () => {
    assert.equal(isValidPermissionRange(b(""), b("")), false, "a key is needed");
    assert.equal(isValidPermissionRange(b("a"), b("")), true);
    assert.equal(isValidPermissionRange(b("a"), b("b")), true);
    assert.equal(isValidPermissionRange(b("b"), b("a")), false, "backwards");
    assert.equal(isValidPermissionRange(b("a"), b("a")), false, "empty");
    assert.equal(isValidPermissionRange(b("a"), b(NUL)), true, "open-ended");
    assert.equal(isValidPermissionRange(b(NUL), b(NUL)), true, "everything");
  });

  test("the empty end sorts above every key", () => {
    assert.equal(compareAffine(b(""), b("\xff\xff")), 1);
    assert.equal(compareAffine(b("a"), b("")), -1);
    assert.equal(compareAffine(b(""), b("")), 0);
    assert.equal(compareAffine(b("a"), b("b")), -1);
  });

  test("property: a request is permitted exactly when every key it names is granted (model check)", () => {
    const key = fc.stringMatching(/^[ab\0]{1,3}$/);
    const grant = fc.record({
      type: fc.constantFrom(READ, WRITE, READWRITE),
      key,
      end: fc.oneof(fc.constant(""), fc.constant(NUL), key),
    });
    const request = fc.record({ key, end: fc.oneof(fc.constant(""), fc.constant(NUL), key) });
    fc.assert(
      fc.property(fc.array(grant, { maxLength: 5 }), request, fc.boolean(), (grants, req, write) => {
        const perms = grants
          .filter((g) => isValidPermissionRange(b(g.key), b(g.end)))
          .map((g) => perm(g.type, g.key, g.end));
        const access = write ? "write" : "read";
        const got = UserPermissions.of(perms).permits(access, b(req.key), b(req.end));
        // The model: the keys the request names, checked one by one against the grants. Gaps between
        // grants start at a grant's end, so testing every endpoint (and the request's key) finds them.
        const mine = perms.filter((p) => (access === "read" ? p.permType !== WRITE : p.permType !== READ));
        const ivs = mine.map((p) => permissionInterval(p.key, p.rangeEnd));
        const granted = (k: Uint8Array) =>
          ivs.some((iv) => compareAffine(iv.begin, k) <= 0 && compareAffine(k, iv.end) < 0);
        let want: boolean;
        if (req.end === "") want = granted(b(req.key));
        else {
          const q = permissionInterval(b(req.key), b(req.end));
          const points = [b(req.key), ...ivs.flatMap((iv) => [iv.begin, iv.end])].filter(
            (k) => k.length > 0 && compareAffine(q.begin, k) <= 0 && compareAffine(k, q.end) < 0,
          );
          want = compareAffine(q.begin, q.end) < 0 ? points.every(granted) : got;
        }
        assert.equal(got, want, JSON.stringify({ grants, req, access }));
      }),
      { numRuns: 2000 },
    );
  });
});
