// bin/etcdctl: etcd 3.5's etcdctl (v3 API) over etcd's gRPC API: the same commands, flags, output
// formats and exit codes (src/cli/etcdctl/).

import { main } from "./etcdctl/main.js";
import { flushAndExit } from "./etcdctl/out.js";

main(process.argv.slice(2)).then(flushAndExit, (e: unknown) => {
  process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
  flushAndExit(1);
});
