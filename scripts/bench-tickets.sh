#!/usr/bin/env bash
# Standalone POST /api/tickets (ticket create) throughput and latency, measured with the repo's load generator.
# Every request creates a ticket: a number from the per-tenant counter (ETag-conditional replace, retried on
# conflict) and the ticket with its "created" audit event in one transaction.
# Usage: scripts/bench-tickets.sh [concurrency] [duration-seconds]
#        scripts/bench-tickets.sh rate=200 [duration-seconds]   (open loop: 200 requests/s due whatever the answers,
#        latency from each request's due instant; the WAL's size is sampled every second during the run)
#        WARMUP=40 scripts/bench-tickets.sh ...          (a longer warm-up than the default 3 s, past the JIT's tiering)
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

# The checkpointer's log lines are counted at the end.
env Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning \
  "Logging__LogLevel__Itsm.Functions.Storage.Sqlite.SqliteWalCheckpointer=Information" \
  "$work/app/Itsm.Functions" >"$work/app.log" 2>&1 &
app=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

body='{"type":"Incident","title":"Printer on floor 3 jams on every job","description":"Paper jam light stays on after clearing the tray.","impact":2,"urgency":2,"category":"hardware","assignmentGroup":"service-desk","configurationItems":["ci-printer-0003"],"tags":["printer"]}'
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), dotnet $(dotnet --version); load at start: $load_at_start, before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
case "$concurrency" in
  rate=*) mode=(--rate "${concurrency#rate=}") ;;
  *) mode=(--concurrency "$concurrency") ;;
esac
# The largest WAL seen while the load runs (sampled every second).
( max=0; while kill -0 $app 2>/dev/null; do s=$(stat -c %s "$work/itsm.db-wal" 2>/dev/null || echo 0); [ "$s" -gt "$max" ] && max=$s && echo "$max" >"$work/wal-max"; sleep 1; done ) &
sampler=$!
# The app's CPU time (user + system) over the load: per create it depends far less on other processes than latency does.
cpu() { awk '{print $14 + $15}' "/proc/$app/stat"; }
cpu_before=$(cpu)
"$work/load/Itsm.LoadTest" --url "http://127.0.0.1:$port/api/tickets" --method POST --body "$body" \
  --header "Authorization: Bearer $token" "${mode[@]}" --duration "$duration" --warmup "${WARMUP:-3}" | tee "$work/load.txt" || status=$?
cpu_after=$(cpu)
echo "largest WAL during the run: $(( $(cat "$work/wal-max" 2>/dev/null || echo 0) / 1048576 )) MiB"
kill $sampler 2>/dev/null || true
echo "database after the run: $(du -h "$work/itsm.db" | cut -f1), WAL $(du -h "$work/itsm.db-wal" 2>/dev/null | cut -f1 || echo 0)"
for table in doc_tickets doc_counters; do echo "$table rows: $(sqlite3 "$work/itsm.db" "SELECT count(*) FROM $table" 2>/dev/null || echo '?')"; done
# No acknowledged write lost: every 201 the load tool saw is a ticket in the database (read while the app still runs).
acknowledged=$(sed -n 's/^acknowledged=//p' "$work/load.txt")
stored=$(sqlite3 "$work/itsm.db" "SELECT count(*) FROM doc_tickets WHERE json_extract(body, '$.docType') = 'ticket'" 2>/dev/null || echo '?')
echo "tickets acknowledged (201): $acknowledged, tickets in the database: $stored"
ticks=$(getconf CLK_TCK)
echo "app CPU during the load: $(( (cpu_after - cpu_before) * 1000 / ticks )) ms, $(( (cpu_after - cpu_before) * 1000000 / ticks / (acknowledged > 0 ? acknowledged : 1) )) us per acknowledged create (warm-up included)"
if [ -n "$acknowledged" ] && [ "$stored" != "?" ] && [ "$stored" -lt "$acknowledged" ]; then echo "LOST WRITES"; status=3; fi
echo "WAL checkpoints during the run: $(grep -c 'checkpointed and truncated' "$work/app.log" || true) truncated, $(grep -c 'deferred' "$work/app.log" || true) deferred"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "${status:-0}"
