#!/usr/bin/env bash
# Measures Debian's corosync 3.1.7 with cpgflood on a one-node ring over loopback, isolated in
# a private network namespace (libqb's abstract sockets are per network namespace) with private
# /run, /var/lib/corosync, /var/log/corosync and /dev/shm. Needs root and the Debian packages
# corosync and libcpg-dev. Usage: perf/corosync-ref/run.sh [SECONDS] [SIZES...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-5}; shift || true
sizes=${*:-64 1024 65536}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/cpgflood" "$here/cpgflood.c" -lcpg
cat > "$work/corosync.conf" <<CONF
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
quorum {
  provider: corosync_votequorum
}
logging {
  to_stderr: no
  to_logfile: no
  to_syslog: no
}
CONF
unshare --net --mount --fork bash -c '
  set -euo pipefail
  ip link set lo up
  mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/lib/corosync; mount -t tmpfs tmpfs /dev/shm
  mkdir -p /var/log/corosync && mount -t tmpfs tmpfs /var/log/corosync
  corosync -f -c "$0/corosync.conf" & pid=$!
  for i in $(seq 1 100); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.1; done
  for s in $1; do "$0/cpgflood" "$s" "$2"; done
  kill $pid; wait $pid || true
' "$work" "$sizes" "$seconds"
