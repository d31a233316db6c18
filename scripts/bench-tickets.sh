#!/usr/bin/env bash
# Standalone POST /api/tickets (ticket create) throughput and latency, measured with the repo's load generator.
# Every request creates a ticket: a number from the per-tenant counter (ETag-conditional replace, retried on
# conflict) and the ticket with its "created" audit event in one transaction.
# Usage: scripts/bench-tickets.sh [concurrency] [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
concurrency=${1:-16}
duration=${2:-20}
port=7392
work=$(mktemp -d)
# Wait for the app to stop: closing the database checkpoints the WAL, which takes a while after a write-heavy run.
trap 'if [ -n "${app:-}" ]; then kill $app 2>/dev/null && wait $app 2>/dev/null; fi; rm -rf "$work"' EXIT

dotnet publish functions/Itsm.Functions -c Release -o "$work/app" >/dev/null
dotnet build tools/Itsm.LoadTest -c Release -o "$work/load" >/dev/null

export Itsm__Sqlite__Path="$work/itsm.db"
# The dev signing key is created next to the database on first use; the app reads the same file.
token=$("$work/app/Itsm.Functions" token mint --user bench --tenant bench --roles Itsm.Agent 2>/dev/null)

Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning \
  "$work/app/Itsm.Functions" >"$work/app.log" 2>&1 &
app=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

body='{"type":"Incident","title":"Printer on floor 3 jams on every job","description":"Paper jam light stays on after clearing the tray.","impact":2,"urgency":2,"category":"hardware","assignmentGroup":"service-desk","configurationItems":["ci-printer-0003"],"tags":["printer"]}'
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), dotnet $(dotnet --version); load at start: $load_at_start, before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/load/Itsm.LoadTest" --url "http://127.0.0.1:$port/api/tickets" --method POST --body "$body" \
  --header "Authorization: Bearer $token" --concurrency "$concurrency" --duration "$duration" --warmup 3
echo "database after the run: $(du -h "$work/itsm.db" | cut -f1), WAL $(du -h "$work/itsm.db-wal" 2>/dev/null | cut -f1 || echo 0)"
for table in doc_tickets doc_counters; do echo "$table rows: $(sqlite3 "$work/itsm.db" "SELECT count(*) FROM $table" 2>/dev/null || echo '?')"; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
