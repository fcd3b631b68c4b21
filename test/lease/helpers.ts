// Shared pieces of the lessor tests: a fake clock and a member's storage (backend + key space + lessor).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Backend } from "../../src/backend/backend.js";
import { Lessor, type LessorOptions } from "../../src/lease/lessor.js";
import { KVStore } from "../../src/mvcc/kvstore.js";

/** A clock that moves only when told to. */
export class FakeClock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A temporary directory for backends, removed by cleanup(). */
export class TempDirs {
  private readonly root = mkdtempSync(join(tmpdir(), "etcd-ts-lease-test-"));
  private seq = 0;
  dbPath(): string {
    return join(this.root, `m${this.seq++}`, "member", "snap", "db");
  }
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** One member's storage: backend, lessor (recovered first, as etcd), then the key space re-attaching keys. */
export interface Member {
  backend: Backend;
  lessor: Lessor;
  kv: KVStore;
  close(): void;
}

export function openMember(path: string, opts: LessorOptions): Member {
  const backend = Backend.open(path, { batchIntervalMs: 10_000 });
  const lessor = new Lessor(backend, opts);
  const kv = new KVStore(backend);
  kv.setLessor(lessor);
  lessor.setRangeDeleter(() => kv.write());
  return {
    backend,
    lessor,
    kv,
    close() {
      lessor.close();
      kv.close();
      backend.close();
    },
  };
}

export const b = (s: string): Buffer => Buffer.from(s, "latin1");
export const str = (u: Uint8Array): string => Buffer.from(u).toString("latin1");

/** Puts `key` with `lease` (0n: none), returning the new revision. */
export function put(kv: KVStore, key: string, lease = 0n, value = "v"): number {
  return kv.put({ key: b(key), value: b(value), lease }).header.revision;
}

export function get(kv: KVStore, key: string): string | undefined {
  const kvs = kv.range(b(key)).kvs;
  return kvs.length === 0 ? undefined : str(kvs[0].value);
}
