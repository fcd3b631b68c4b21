// bin/etcdutl: etcd's offline administration tool (snapshot status/restore, backup, defrag, hashkv,
// version) for the files of a member that is not running.

import { etcdutlMain } from "./etcdutl/index.js";

process.exitCode = await etcdutlMain(process.argv.slice(2));
