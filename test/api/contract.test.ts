// The member (src/server/server.ts) offers what the client API needs (src/api/types.ts): checked by the
// compiler here, so a change on either side that breaks the other fails the build.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { ApiServer } from "../../src/api/types.js";
import type { EtcdServer } from "../../src/server/server.js";
import { FakeEtcd } from "./fake_server.js";

/** Compiles only if EtcdServer is an ApiServer. */
export function asApiServer(s: EtcdServer): ApiServer {
  return s;
}

test("EtcdServer and the tests' FakeEtcd both satisfy ApiServer", () => {
  const fake: ApiServer = new FakeEtcd();
  try {
    assert.equal(typeof asApiServer, "function");
    assert.equal(typeof fake.watchable.watchStream, "function");
  } finally {
    (fake as FakeEtcd).close();
  }
});
