// Services the member does not offer yet (Auth, Lock, Election): every method answers UNIMPLEMENTED with
// grpc-go's text for an unimplemented method ("method AuthEnable not implemented"), which clients show.

import type { ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";

/** An implementation of `def` whose every method answers UNIMPLEMENTED. */
export function unimplementedService(def: ServiceDefinition): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [name, m] of Object.entries(def)) {
    const method = m.path.slice(m.path.lastIndexOf("/") + 1);
    const status = { code: 12, details: `method ${method} not implemented` };
    if (m.responseStream) {
      impl[name] = ((call: { emit(e: "error", s: typeof status): void }) =>
        call.emit("error", status)) as never;
    } else {
      impl[name] = ((_call: unknown, callback: (s: typeof status) => void) => callback(status)) as never;
    }
  }
  return impl;
}
