#!/usr/bin/env bash
# CMDB at scale in the embedded store: generates a layered CMDB as CSV (100,000 CIs and 300,000 relationships by
# default), imports it with the app's own `cmdb import` command (Release build) under /usr/bin/time (wall time,
# CPU, peak resident memory), then times impact queries at depth 5 on the imported graph.
# Usage: scripts/bench-cmdb.sh [work-directory] [ci-count] [relationship-count] [impact-samples]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/itsm-bench-cmdb}
cis=${2:-100000}
relationships=${3:-300000}
samples=${4:-200}
mkdir -p "$work"
rm -f "$work/itsm.db" "$work/itsm.db-wal" "$work/itsm.db-shm"

dotnet publish functions/Itsm.Functions -c Release -o "$work/app" >/dev/null
dotnet build benchmarks/Itsm.Benchmarks -c Release >/dev/null
bench() { dotnet benchmarks/Itsm.Benchmarks/bin/Release/net10.0/Itsm.Benchmarks.dll "$@"; }

bench cmdb generate --out "$work/csv" --cis "$cis" --relationships "$relationships"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in cis relationships; do
  /usr/bin/time -f "$kind: %e s wall, %U s user, %S s sys, peak RSS %M KiB" \
    "$work/app/Itsm.Functions" cmdb import --tenant bench --kind "$kind" --file "$work/csv/$kind.csv" --db "$work/itsm.db" 2>&1 \
    | tr '\r' '\n' | tail -2
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
bench cmdb impact --db "$work/itsm.db" --tenant bench --depth 5 --samples "$samples" --cis "$cis"
