#!/usr/bin/env bash
# Installs the Debian packages the compatibility tests and benchmarks use as outside judges:
# the real etcdctl (etcd-client) and etcd server (etcd-server), version 3.4 on Debian 12.
# Skips anything already present; needs root (as on the project's machines and CI).
set -euo pipefail
need=()
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || need+=(etcd-server)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: not root; missing ${need[*]} (compatibility tests will be skipped)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's etcd-server package starts a system etcd on 127.0.0.1:2379; the tests need those ports.
if command -v systemctl >/dev/null 2>&1; then systemctl stop etcd >/dev/null 2>&1 || true; fi
echo "install-system-deps: installed ${need[*]}"
