#!/usr/bin/env bash
# cmap_get round trip against the daemons themselves (not the ipc package's test server):
# corosyncd and Debian's corosync 3.1.7, each alone on a one-node ring over loopback in a
# private network and mount namespace, with system.sched_rr yes (the default) and no. The
# client is ipc/testdata/cmapbench.c through Debian's unmodified libcmap. Needs root and the
# Debian packages corosync and libcmap-dev. Usage: perf/cmap1/run.sh [COUNT]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
count=${1:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/cmapbench" "$repo/ipc/testdata/cmapbench.c" -lcmap
(cd "$repo" && go build -o "$work/corosyncd" ./cmd/corosyncd)
for rr in yes no; do
  cat > "$work/corosync-$rr.conf" <<CONF
totem {
  version: 2
  cluster_name: bench
  crypto_cipher: none
  crypto_hash: none
}
nodelist {
  node {
    ring0_addr: 127.0.0.1
    nodeid: 1
  }
}
system {
  sched_rr: $rr
}
logging {
  to_stderr: no
  to_syslog: no
}
CONF
done
for daemon in "$work/corosyncd" corosync; do
  for rr in yes no; do
    unshare --net --mount --fork bash -c '
      set -euo pipefail
      ip link set lo up
      mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/lib/corosync; mount -t tmpfs tmpfs /dev/shm
      "$1" -f -c "$2" & pid=$!
      for i in $(seq 1 100); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.1; done
      echo "$(basename "$1") sched_rr=$3: $("$4" runtime.config.totem.token "$5")"
      kill $pid; wait $pid || true
    ' _ "$daemon" "$work/corosync-$rr.conf" "$rr" "$work/cmapbench" "$count"
  done
done
