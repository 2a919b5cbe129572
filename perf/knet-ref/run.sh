#!/usr/bin/env bash
# Reference for perf/cmd/linkbench: floods one direction through kronosnet (Debian's libknet1,
# the library behind corosync 3.1.7's knet transport) between two network namespaces joined by
# a veth pair set up exactly as linkbench does it (10.99.0.1/24 in tx, 10.99.0.2/24 in rx).
# Needs root, gcc and libknet-dev. Usage: perf/knet-ref/run.sh SIZE SECONDS [none|aes256]
# The last line printed is: link=knet[/aes256] size=SIZE pps=N MBps=N  (MBps = 10^6 B/s payload)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
size=${1:?usage: run.sh SIZE SECONDS [none|aes256]}
seconds=${2:?usage: run.sh SIZE SECONDS [none|aes256]}
crypto=${3:-none}
case $crypto in none|aes256) ;; *) echo "run.sh: crypto must be none or aes256" >&2; exit 2 ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: needs root to create network namespaces" >&2
	exit 1
fi

work=$(mktemp -d)
prefix=kn$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n') # unique, like linkbench's "cg" prefix
tx=$prefix-tx rx=$prefix-rx
rxpid=
cleanup() {
	# Namespaces go first: deleting them takes the veth pair with them.
	[ -n "$rxpid" ] && kill "$rxpid" 2>/dev/null || true
	ip netns del "$tx" 2>/dev/null || true
	ip netns del "$rx" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gcc -O2 -Wall -o "$work/knetflood" "$here/knetflood.c" -lknet -lpthread

ip netns add "$tx"
ip netns add "$rx"
ip -n "$tx" link set lo up
ip -n "$rx" link set lo up
ip link add veth0 netns "$tx" type veth peer name veth0 netns "$rx"
# (linkbench also passes nodad, which ip ignores for IPv4.)
ip -n "$tx" addr add 10.99.0.1/24 dev veth0
ip -n "$rx" addr add 10.99.0.2/24 dev veth0
ip -n "$tx" link set veth0 up
ip -n "$rx" link set veth0 up

ip netns exec "$rx" "$work/knetflood" rx -l 10.99.0.2 -r 10.99.0.1 -s "$size" -t "$seconds" -c "$crypto" \
	>"$work/rx.out" 2>"$work/rx.err" &
rxpid=$!
txrc=0
ip netns exec "$tx" "$work/knetflood" tx -l 10.99.0.1 -r 10.99.0.2 -s "$size" -t "$seconds" -c "$crypto" \
	2>"$work/tx.err" || txrc=$?
rxrc=0
wait "$rxpid" || rxrc=$?
rxpid=
sed 's/^/tx: /' "$work/tx.err" >&2
sed 's/^/rx: /' "$work/rx.err" >&2
if [ "$txrc" -ne 0 ] || [ "$rxrc" -ne 0 ]; then
	echo "run.sh: knetflood failed (tx rc=$txrc, rx rc=$rxrc)" >&2
	exit 1
fi
cat "$work/rx.out"

kind=knet
[ "$crypto" = none ] || kind=knet/$crypto
# rx prints: rx msgs=N bytes=N window=S drops=N
awk -v kind="$kind" -v size="$size" '/^rx msgs=/ {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["window"] <= 0) { print "run.sh: empty measurement window" > "/dev/stderr"; exit 1 }
	printf "link=%s size=%s pps=%.0f MBps=%.1f\n", kind, size, v["msgs"] / v["window"], v["bytes"] / v["window"] / 1e6
}' "$work/rx.out"
