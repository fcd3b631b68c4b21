// One v2 store per backend file. The server replaces its Backend object when it installs a database
// snapshot (same file path, new object); the store follows, keeping its pending watches, which then look
// again in the new history (WatcherHub.recheck). The API and the apply step both reach the store of the
// member's current backend through v2StoreFor, so neither needs a reference kept in the server.

import type { Backend } from "../../backend/index.js";
import { V2Store } from "./store.js";
import { WatcherHub } from "./watchers.js";

const stores = new Map<string, V2Store>();

/** The v2 store kept in `backend` (created on first use; replaced when the backend object changes). */
export function v2StoreFor(backend: Backend): V2Store {
  const cur = stores.get(backend.path);
  if (cur !== undefined && cur.backend === backend) return cur;
  const store = new V2Store(backend, cur?.hub ?? new WatcherHub());
  stores.set(backend.path, store);
  if (cur !== undefined) store.hub.recheck(store);
  return store;
}
