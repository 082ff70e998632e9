#!/usr/bin/env bash
# measure-scaleout.sh [JOBS] [PROCESSES…]: the throughput of sluice-worker over the PostgreSQL queue
# with 1, 2, … processes on this machine (release build). For each count: fresh tables, JOBS jobs
# enqueued, that many `sluice-worker run --drain` processes started together, wall time until the
# last one exits, then `sluice-worker check` (every job done exactly once).
#
#   Integrations/scripts/measure-scaleout.sh                 # 100,000 jobs, 1 then 2 processes
#   WORK=20000 Integrations/scripts/measure-scaleout.sh 100000 1 2 3
#
# WORK (rounds of CPU work per job, default 2000), WORKERS (the process stage's workers per process,
# default 2), BATCH (jobs per claim, default 64). Starts its own PostgreSQL (with-postgres.sh) unless
# SLUICE_PGHOST is set.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${SLUICE_PGHOST:-}" ]; then
    exec Integrations/scripts/with-postgres.sh "$0" "$@"
fi
JOBS=${1:-100000}
shift || true
if [ $# -gt 0 ]; then COUNTS=("$@"); else COUNTS=(1 2); fi
WORK=${WORK:-2000} WORKERS=${WORKERS:-2} BATCH=${BATCH:-64}
export PGOPTIONS="-c client_min_messages=warning"

swift build --package-path Integrations -c release --product sluice-worker 2>&1 | tail -n 1
WORKER=$(swift build --package-path Integrations -c release --show-bin-path)/sluice-worker

echo "jobs=$JOBS work=$WORK workers/process=$WORKERS batch=$BATCH cores=$(nproc) $(psql -Atc 'show server_version')"
for P in "${COUNTS[@]}"; do
    T=(--jobs "scale_jobs_$P" --results "scale_results_$P")
    psql -qc "DROP TABLE IF EXISTS scale_jobs_$P, scale_results_$P" >/dev/null
    "$WORKER" setup "${T[@]}"
    "$WORKER" enqueue "$JOBS" "${T[@]}" >/dev/null
    psql -qc "VACUUM ANALYZE scale_jobs_$P" >/dev/null
    TIMER=()
    [ -x /usr/bin/time ] && TIMER=(/usr/bin/time -f "cpu %U %S")
    cpu_before=$(head -n 1 /proc/stat)
    start=$(date +%s.%N)
    pids=()
    for i in $(seq "$P"); do
        "${TIMER[@]}" "$WORKER" run --drain --name "w$i" --workers "$WORKERS" --batch "$BATCH" --work "$WORK" --lease 60 "${T[@]}" \
            > "/tmp/sluice-measure-$P-$i.log" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    end=$(date +%s.%N)
    cpu_after=$(head -n 1 /proc/stat)
    worker_cpu=$(cat /tmp/sluice-measure-"$P"-*.log | awk '/^cpu /{s += $2 + $3} END {printf "%.1f", s}')
    "$WORKER" check "$JOBS" "${T[@]}" > "/tmp/sluice-measure-$P-check.log" || { cat "/tmp/sluice-measure-$P-check.log"; exit 1; }
    share=$(psql -Atc "SELECT string_agg(worker || ' ' || n, ', ' ORDER BY worker) FROM (SELECT worker, count(*) n FROM scale_results_$P GROUP BY worker) s")
    # Machine CPU busy during the run (all processes: workers, PostgreSQL, anything else running).
    python3 - "$start" "$end" "$P" "$JOBS" "$share" "$cpu_before" "$cpu_after" "$worker_cpu" <<'PY'
import sys
start, end, p, jobs, share, before, after, worker_cpu = sys.argv[1:]
s = float(end) - float(start)
b = [int(x) for x in before.split()[1:]]
a = [int(x) for x in after.split()[1:]]
d = [y - x for x, y in zip(b, a)]
idle = d[3] + d[4]
busy = 1 - idle / sum(d)
print(f"processes={p}: {s:.2f} s, {int(jobs) / s:,.0f} jobs/s; machine CPU busy {busy:.0%} of the cores, "
      f"workers' own CPU {worker_cpu} s (results by worker: {share}); check OK")
PY
done
