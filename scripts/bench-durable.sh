#!/usr/bin/env bash
# The 3-activity chain on Microsoft's in-memory provider and on our SQLite provider, in the same process, round after
# round (docs/benchmarks.md, "Issue 18: Durable provider and SLA clocks"). With a baseline commit, that commit's
# benchmark is built from `git archive` in a temporary folder and the two alternate, baseline first, so before and
# after see the same machine load.
# Usage: scripts/bench-durable.sh [orchestrations, default 2000] [rounds, default 3] [baseline commit, optional]
set -euo pipefail
cd "$(dirname "$0")/.."
orchestrations=${1:-2000}
rounds=${2:-3}
baseline=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build benchmarks/Itsm.Benchmarks -c Release -nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
current="$(pwd)/benchmarks/Itsm.Benchmarks/bin/Release/net10.0/Itsm.Benchmarks.dll"
if [ -n "$baseline" ]; then
  mkdir "$work/baseline"
  git archive "$baseline" | tar -x -C "$work/baseline"
  (cd "$work/baseline" && dotnet build benchmarks/Itsm.Benchmarks -c Release -nologo -v q >"$work/build-baseline.log" 2>&1) || { cat "$work/build-baseline.log"; exit 1; }
fi
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD)${baseline:+, baseline $baseline}; load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  if [ -n "$baseline" ]; then
    echo "-- round $round, baseline $baseline (load $(cut -d' ' -f1-3 /proc/loadavg))"
    dotnet "$work/baseline/benchmarks/Itsm.Benchmarks/bin/Release/net10.0/Itsm.Benchmarks.dll" durable-chain --orchestrations "$orchestrations" | grep -v '^machine'
  fi
  echo "-- round $round, $(git rev-parse --short HEAD) (load $(cut -d' ' -f1-3 /proc/loadavg))"
  dotnet "$current" durable-chain --orchestrations "$orchestrations" | grep -v '^machine'
done
