#!/usr/bin/env bash
# GET /api/tickets latency with many tickets in the embedded store: seeds the database once (kept for re-runs),
# then starts the standalone app (Release) on it and times representative list requests one at a time.
# Usage: scripts/bench-ticket-list.sh [database-path] [ticket-count] [repetitions-per-query]
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-/tmp/itsm-bench-tickets/itsm.db}
count=${2:-1000000}
repeat=${3:-200}
port=7393
work=$(mktemp -d)
# Wait for the app to stop: closing the database checkpoints the WAL, which takes a while after a write-heavy run.
trap 'if [ -n "${app:-}" ]; then kill $app 2>/dev/null && wait $app 2>/dev/null; fi; rm -rf "$work"' EXIT

dotnet publish functions/Itsm.Functions -c Release -o "$work/app" >/dev/null
dotnet build benchmarks/Itsm.Benchmarks -c Release >/dev/null
bench() { dotnet benchmarks/Itsm.Benchmarks/bin/Release/net10.0/Itsm.Benchmarks.dll "$@"; }

if [ ! -f "$db" ]; then
  mkdir -p "$(dirname "$db")"
  bench tickets seed --db "$db" --count "$count"
fi
echo "database: $(du -h "$db" | cut -f1) ($db)"

export Itsm__Sqlite__Path="$db"
token=$("$work/app/Itsm.Functions" token mint --user bench --tenant bench --roles Itsm.Agent 2>/dev/null)
Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning \
  "$work/app/Itsm.Functions" >"$work/app.log" 2>&1 &
app=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

bench tickets query --url "http://127.0.0.1:$port" --token "$token" --repeat "$repeat"
kill $app; wait $app 2>/dev/null || true
bench tickets explain --db "$db" --tenant bench
