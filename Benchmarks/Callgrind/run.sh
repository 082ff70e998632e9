#!/usr/bin/env bash
# Instructions per item of one sluice-throughput workload, counted by callgrind (all threads),
# independent of the machine's load: the count at N items minus the count at N/10, over 0.9 N.
#
#   Benchmarks/Callgrind/run.sh W6_SLUICE_ONLY=one W6_N 200000
#   Benchmarks/Callgrind/run.sh W8_ONLY=observe W8_N 100000
#
# Arguments: the environment setting that picks the workload, the variable holding its item count,
# and N. Needs valgrind and a C compiler; builds sluice-throughput in release first, unless
# SLUICE_BINARY names a saved build to count instead (to compare two builds).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
select=$1 count_var=$2 n=${3:-200000}
if ! command -v valgrind > /dev/null; then echo "valgrind is not installed: skipped"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -shared -fPIC -O2 "$here/sigsuspend-shim.c" -o "$work/libsigsuspend-shim.so"
if [ -n "${SLUICE_BINARY:-}" ]; then
    binary=$SLUICE_BINARY
else
    swift build --package-path "$here/.." -c release --product sluice-throughput > /dev/null
    binary=$(swift build --package-path "$here/.." -c release --show-bin-path)/sluice-throughput
fi
workload=$(echo "$select" | sed 's/=.*//' | tr 'A-Z' 'a-z' | sed 's/_.*//')
count() {   # $1: items; prints the total instruction count
    env "$select" "$count_var=$1" LD_PRELOAD="$work/libsigsuspend-shim.so" \
        valgrind --tool=callgrind --callgrind-out-file="$work/out.$1" "$binary" 1 "$workload" \
        > "$work/log.$1" 2>&1 || { cat "$work/log.$1"; exit 1; }
    grep -o 'Collected : [0-9]*' "$work/log.$1" | grep -o '[0-9]*$'
}
small=$((n / 10))
big_count=$(count "$n")
small_count=$(count "$small")
per_item=$(( (big_count - small_count) / (n - small) ))
echo "$select: $big_count instructions at $n items, $small_count at $small: $per_item per item"
if [ -n "${CALLGRIND_KEEP:-}" ]; then cp "$work/out.$n" "$CALLGRIND_KEEP"; echo "profile: $CALLGRIND_KEEP (callgrind_annotate)"; fi
