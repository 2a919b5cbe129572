#!/usr/bin/env bash
# cpg throughput on a 3-node ring in network namespaces, corosyncd and Debian's corosync 3.1.7
# measured in the same run with the same client (perf/corosync-ref/cpgflood.c through Debian's
# libcpg) and the same configuration. Needs root and the Debian packages corosync, libcpg-dev
# and iproute2. Everything it creates (namespaces cpg3-*, a work directory) is removed on exit.
#
# Usage: [DAEMONS="corosyncd corosync"] perf/cpg3/run.sh [SECONDS] [CRYPTO] [SIZES...]
#   CRYPTO: on (aes256/sha256 with an authkey, corosync's usual deployment) or off.
# For each daemon and size it prints two lines: one sender (node 1) and three senders (every
# node at once); msgs_per_s is what node 1's client saw delivered (its own and the others').
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seconds=${1:-5}; shift || true
crypto=${1:-on}; shift || true
sizes=${*:-64 1024 65536}
work=$(mktemp -d)
nodes=(1 2 3)

cleanup() {
  for i in "${nodes[@]}"; do
    ip netns pids "cpg3-n$i" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "cpg3-n$i" 2>/dev/null || true
  done
  ip netns del cpg3-br 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -o "$work/cpgflood" "$repo/perf/corosync-ref/cpgflood.c" -lcpg
(cd "$repo" && go build -o "$work/corosyncd" ./cmd/corosyncd)
head -c 256 /dev/urandom > "$work/authkey"

# A bridge in a namespace of its own, and one namespace per node on it.
ip netns add cpg3-br
ip -n cpg3-br link add br0 type bridge
ip -n cpg3-br link set br0 up
for i in "${nodes[@]}"; do
  ip netns add "cpg3-n$i"
  ip link add "cpg3v$i" netns "cpg3-n$i" type veth peer name "p$i" netns cpg3-br
  ip -n cpg3-br link set "p$i" master br0 up
  ip -n "cpg3-n$i" link set lo up
  ip -n "cpg3-n$i" link set "cpg3v$i" up
  ip -n "cpg3-n$i" addr add "10.99.0.$i/24" dev "cpg3v$i"
done

if [ "$crypto" = on ]; then cc="crypto_cipher: aes256
  crypto_hash: sha256
  keyfile: $work/authkey"; else cc="crypto_cipher: none
  crypto_hash: none"; fi
cat > "$work/corosync.conf" <<CONF
totem {
  version: 2
  cluster_name: cpg3
  transport: knet
  $cc
}
nodelist {
  node {
    ring0_addr: 10.99.0.1
    nodeid: 1
  }
  node {
    ring0_addr: 10.99.0.2
    nodeid: 2
  }
  node {
    ring0_addr: 10.99.0.3
    nodeid: 3
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

# node I DAEMON: in node I's namespace with private /run, /var/lib/corosync and /dev/shm
# (libqb's files), start the daemon, wait for three joined members, then run cpgflood for
# each size when told to (a file per round in $work) and write its line to $work.
node() {
  ip netns exec "cpg3-n$1" unshare --mount --fork bash -c '
    set -euo pipefail
    w=$0 i=$1 daemon=$2 senders=$3 seconds=$4 sizes=$5
    mount --make-rprivate /
    mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/lib/corosync; mount -t tmpfs tmpfs /dev/shm
    mkdir -p /var/log/corosync && mount -t tmpfs tmpfs /var/log/corosync
    if [ "$daemon" = corosyncd ]; then "$w/corosyncd" -f -c "$w/corosync.conf" 2>"$w/log.$i" & pid=$!
    else corosync -f -c "$w/corosync.conf" 2>"$w/log.$i" & pid=$!; fi
    for t in $(seq 1 300); do
      n=$(corosync-cmapctl runtime.members 2>/dev/null | grep -c "status (str) = joined" || true)
      [ "$n" = 3 ] && break; sleep 0.1
    done
    [ "$n" = 3 ] || { echo "node $i: ring did not form" >&2; kill $pid; exit 1; }
    touch "$w/up.$i"
    for s in $sizes; do
      for mode in one all; do
        while [ ! -e "$w/go.$s.$mode" ]; do sleep 0.01; done
        if [ "$mode" = all ] || [ "$i" = 1 ]; then
          "$w/cpgflood" "$s" "$seconds" > "$w/out.$s.$mode.$i" 2>&1 || echo "cpgflood failed: $(cat "$w/out.$s.$mode.$i")" > "$w/out.$s.$mode.$i"
        else
          sleep "$seconds"
        fi
        touch "$w/done.$s.$mode.$i"
      done
    done
    [ -n "${CPG3_STATS:-}" ] && [ "$i" = 1 ] && corosync-cmapctl -m stats stats.srp > "$w/stats.$daemon" 2>&1
    kill $pid; wait $pid || true
  ' "$work" "$1" "$2" "$3" "$seconds" "$sizes"
}

for daemon in ${DAEMONS:-corosyncd corosync}; do
  rm -f "$work"/up.* "$work"/go.* "$work"/done.* "$work"/out.*
  pids=()
  for i in "${nodes[@]}"; do node "$i" "$daemon" 3 & pids+=($!); done
  for i in "${nodes[@]}"; do
    for t in $(seq 1 600); do [ -e "$work/up.$i" ] && break; sleep 0.1; done
    [ -e "$work/up.$i" ] || { echo "$daemon: node $i did not come up"; cat "$work/log.$i"; exit 1; }
  done
  sleep 1
  for s in $sizes; do
    for mode in one all; do
      touch "$work/go.$s.$mode"
      for i in "${nodes[@]}"; do
        while [ ! -e "$work/done.$s.$mode.$i" ]; do sleep 0.05; done
      done
      echo "$daemon crypto=$crypto senders=$mode $(cat "$work/out.$s.$mode.1")"
      sleep 0.5
    done
  done
  wait "${pids[@]}" || true
  [ -n "${CPG3_STATS:-}" ] && cat "$work/stats.$daemon"
done
