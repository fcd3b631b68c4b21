// Shared helpers of the MVCC tests: temp backends that clean up after themselves, byte helpers.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { Backend, type BackendOptions } from "../../src/backend/backend.js";
import { KVStore, type KVStoreOptions } from "../../src/mvcc/kvstore.js";
import type { KeyValue, LeaseHooks } from "../../src/mvcc/types.js";

let root: string | undefined;
let seq = 0;
// Registered at load, so it runs when the importing test file ends (a hook added inside a test would not).
after(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/** A fresh backend path under a temp dir removed when the test file ends. */
export function tempDbPath(): string {
  root ??= mkdtempSync(join(tmpdir(), "etcd-ts-mvcc-test-"));
  return join(root, `m${seq++}`, "member", "snap", "db");
}

/** A store over a fresh backend, and a way to reopen both (a restart) and to close them. */
export class TestStore {
  backend: Backend;
  kv: KVStore;

  constructor(
    readonly path = tempDbPath(),
    private readonly bopts: BackendOptions = {},
    private readonly kopts: KVStoreOptions = {},
  ) {
    this.backend = Backend.open(path, bopts);
    this.kv = new KVStore(this.backend, kopts);
  }

  restart(kopts: KVStoreOptions = this.kopts): KVStore {
    this.kv.close();
    this.backend.close();
    this.backend = Backend.open(this.path, this.bopts);
    this.kv = new KVStore(this.backend, kopts);
    return this.kv;
  }

  close(): void {
    this.kv.close();
    this.backend.close();
  }
}

export const b = (s: string): Buffer => Buffer.from(s, "latin1");
export const str = (u: Uint8Array): string => Buffer.from(u).toString("latin1");

/** A KeyValue as "key=value c<create> m<mod> v<version>[ l<lease>]". */
export function fmt(kv: KeyValue): string {
  return `${str(kv.key)}=${str(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version}${kv.lease ? ` l${kv.lease}` : ""}`;
}

/** A lessor that knows a set of leases and records attachments. */
export class FakeLessor implements LeaseHooks {
  readonly leases = new Set<bigint>();
  readonly attached = new Map<bigint, Set<string>>();

  constructor(...ids: bigint[]) {
    for (const id of ids) this.leases.add(id);
  }

  exists(id: bigint): boolean {
    return this.leases.has(id);
  }

  attach(id: bigint, key: Uint8Array): void {
    let s = this.attached.get(id);
    if (s === undefined) this.attached.set(id, (s = new Set()));
    s.add(str(key));
  }

  detach(id: bigint, key: Uint8Array): void {
    this.attached.get(id)?.delete(str(key));
  }

  keys(id: bigint): string[] {
    return [...(this.attached.get(id) ?? [])].sort();
  }
}
