// Placeholder until the server, client and offline-tool issues land: exits with a clear message.
console.error("etcdctl: not implemented yet in etcd-ts (the Raft core is being built first)");
process.exit(1);
