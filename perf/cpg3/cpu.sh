#!/usr/bin/env bash
# CPU use of each daemon and client during a perf/cpg3 flood (64-byte messages, crypto on,
# 8 s rounds): starts `DAEMONS=DAEMON run.sh 8 on 64`, waits DELAY seconds after the first
# client starts (2: the one-sender round; 11: the three-sender round), reads user+system
# time of every daemon and cpgflood from /proc over 3 s, and prints the % of one core each
# used, the machine's busy %, then run.sh's own lines. Root, as run.sh.
#
# Usage: perf/cpg3/cpu.sh corosyncd|corosync [DELAY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
daemon=$1
delay=${2:-2}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
DAEMONS=$daemon timeout 300 "$here/run.sh" 8 on 64 > "$out" 2>&1 &
runner=$!
for _ in $(seq 1 300); do pgrep -x cpgflood > /dev/null && break; sleep 0.1; done
sleep "$delay"
pids="$(pgrep -f "$daemon -f -c" | tr '\n' ' ') $(pgrep -x cpgflood | tr '\n' ' ')"
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
declare -A before
for p in $pids; do before[$p]=$(ticks "$p"); done
read -r _ u0 n0 s0 i0 _ < /proc/stat
sleep 3
read -r _ u1 n1 s1 i1 _ < /proc/stat
hz=$(getconf CLK_TCK)
for p in $pids; do
  echo "$(cat "/proc/$p/comm") $p cpu% $(( ($(ticks "$p") - ${before[$p]}) * 100 / (3 * hz) ))"
done
echo "machine busy% $(( ((u1+n1+s1) - (u0+n0+s0)) * 100 / ((u1+n1+s1+i1) - (u0+n0+s0+i0)) ))"
wait "$runner" || true
cat "$out"
