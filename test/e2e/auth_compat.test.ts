// The same etcdctl 3.4 session against bin/etcd and against the real etcd 3.4: users, roles, permissions
// on keys, ranges, prefixes and from-key, their listings and details, etcd's errors (texts and exit
// codes), and what a user may or may not do. Outputs must be equal line for line. (Left out: a backwards
// range such as `grant-permission r read /c /b`, which etcd 3.5.8+ refuses with "invalid auth
// management", as etcd-ts does, and the Debian etcd 3.4.23 still accepts.)

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Cluster as C,
  type Cluster,
  etcdctl,
  haveRealEtcd,
  skipWithoutEtcdctl,
  startRealEtcd,
} from "./cluster.js";

/** One etcdctl command: its arguments, the user it runs as, and what it reads from stdin. */
interface Step {
  args: string[];
  user?: string;
  stdin?: string;
}

const R = "root:rootpw";
const step = (user: string | undefined, ...args: string[]): Step => ({ args, user });

const SESSION: Step[] = [
  step(undefined, "user", "add", "root:rootpw"),
  step(undefined, "user", "add", "root:again"),
  step(undefined, "role", "list"),
  step(undefined, "auth", "enable"),
  step(undefined, "user", "list"),
  step(R, "user", "list"),
  step(R, "role", "list"),
  step(R, "role", "get", "root"),
  step(R, "user", "get", "root"),
  step(R, "role", "add", "r1"),
  step(R, "role", "add", "r1"),
  step(R, "role", "add", "r2"),
  step(R, "role", "grant-permission", "r1", "read", "/a"),
  step(R, "role", "grant-permission", "r1", "write", "/b", "/c"),
  step(R, "role", "grant-permission", "r1", "readwrite", "--prefix", "/p/"),
  step(R, "role", "grant-permission", "r1", "read", "--from-key", "/z"),
  step(R, "role", "grant-permission", "r1", "write", "/a"),
  step(R, "role", "grant-permission", "nope", "read", "/a"),
  step(R, "role", "get", "r1"),
  step(R, "role", "get", "nope"),
  step(R, "role", "revoke-permission", "r1", "/b", "/c"),
  step(R, "role", "revoke-permission", "r1", "/nope"),
  step(R, "role", "get", "r1"),
  step(R, "user", "add", "u1:u1pw"),
  step(R, "user", "add", "u2:u2pw"),
  step(R, "user", "grant-role", "u1", "r1"),
  step(R, "user", "grant-role", "u1", "r2"),
  step(R, "user", "grant-role", "u1", "r1"),
  step(R, "user", "grant-role", "u1", "nope"),
  step(R, "user", "grant-role", "nope", "r1"),
  step(R, "user", "get", "u1"),
  step(R, "user", "get", "u1", "--detail"),
  step(R, "user", "get", "nope"),
  step(R, "user", "revoke-role", "u1", "r2"),
  step(R, "user", "revoke-role", "u1", "r2"),
  step(R, "user", "list"),
  step(R, "role", "list"),
  step(R, "put", "/p/x", "1"),
  step(R, "put", "/secret", "s"),
  step("u1:u1pw", "get", "/p/x"),
  step("u1:u1pw", "put", "/p/y", "2"),
  step("u1:u1pw", "get", "/p/", "--prefix"),
  step("u1:u1pw", "get", "/a"),
  step("u1:u1pw", "get", "/secret"),
  step("u1:u1pw", "put", "/a", "w"),
  step("u1:u1pw", "put", "/zz", "w"),
  step("u1:u1pw", "del", "/p/", "--prefix"),
  step("u1:u1pw", "user", "list"),
  step("u1:u1pw", "user", "get", "u1"),
  step("u1:u1pw", "user", "get", "u2"),
  step("u1:u1pw", "role", "get", "r1"),
  step("u1:u1pw", "role", "get", "r2"),
  step("u2:u2pw", "get", "/p/x"),
  step("u1:wrong", "get", "/p/x"),
  { args: ["user", "passwd", "u2", "--interactive=false"], user: R, stdin: "newpw\n" },
  step("u2:u2pw", "get", "/p/x"),
  step("u2:newpw", "get", "/p/x"),
  step(R, "user", "delete", "root"),
  step(R, "user", "revoke-role", "root", "root"),
  step(R, "role", "delete", "root"),
  step(R, "role", "delete", "r1"),
  step(R, "user", "get", "u1"),
  step(R, "user", "delete", "u2"),
  step(R, "user", "delete", "u2"),
  step(R, "role", "delete", "r1"),
  step("u1:u1pw", "auth", "disable"),
  step(R, "auth", "disable"),
  step(R, "auth", "disable"),
  step(undefined, "user", "list"),
  step(undefined, "get", "/secret"),
];

/** Runs the session; each step's exit code, stdout, and etcdctl's error lines (its logs left out). */
async function run(endpoint: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of SESSION) {
    const args = s.user === undefined ? s.args : [`--user=${s.user}`, ...s.args];
    const r = await etcdctl(args, { endpoints: [endpoint], stdin: s.stdin });
    const errors = r.stderr
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("{"))
      .join("\n");
    out.push(`$ etcdctl ${args.join(" ")}\n[exit ${r.code}]\n${r.stdout}${errors}`);
  }
  return out;
}

describe("etcdctl 3.4 auth session: bin/etcd answers as the real etcd 3.4", {
  skip: skipWithoutEtcdctl || (!haveRealEtcd && "no /usr/bin/etcd"),
  concurrency: 1,
  timeout: 120_000,
}, () => {
  let ours: Cluster | undefined;
  let real: Cluster | undefined;

  before(async () => {
    [ours, real] = await Promise.all([C.start({ size: 1 }), startRealEtcd()]);
  });

  after(async () => {
    await Promise.all([ours?.destroy(), real?.destroy()]);
  });

  test("same outputs, errors and exit codes, step by step", async () => {
    const [got, want] = await Promise.all([run(ours!.endpoints()[0]!), run(real!.endpoints()[0]!)]);
    for (let i = 0; i < SESSION.length; i++) assert.equal(got[i], want[i]);
  });
});
