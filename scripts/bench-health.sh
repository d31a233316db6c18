#!/usr/bin/env bash
# Standalone GET /api/health throughput and latency, measured with the repo's load generator.
# Usage: scripts/bench-health.sh [concurrency] [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${1:-32}
duration=${2:-20}
port=7391
work=$(mktemp -d)
trap 'kill $app 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet publish functions/Itsm.Functions -c Release -o "$work/app" >/dev/null
dotnet build tools/Itsm.LoadTest -c Release -o "$work/load" >/dev/null

Itsm__Sqlite__Path="$work/itsm.db" Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning \
  "$work/app/Itsm.Functions" >"$work/app.log" 2>&1 &
app=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), dotnet $(dotnet --version)"
"$work/load/Itsm.LoadTest" --url "http://127.0.0.1:$port/api/health" --concurrency "$concurrency" --duration "$duration" --warmup 3
