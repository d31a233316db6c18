#!/usr/bin/env bash
# Where ticket create spends its time: publishes the app (Release), starts it standalone on a fresh database, runs
# 16 closed-loop workers of POST /api/tickets (the body of scripts/bench-tickets.sh) for 30 s, and after 8 s samples the
# app's thread stacks for 15 s with dotnet-trace (profile dotnet-sampled-thread-time, ~100 Hz, wall clock), then prints
# the methods most often on the stack (inclusive) and at the top of it (exclusive), and the trace file's path.
# Needs dotnet-trace (`dotnet tool install -g dotnet-trace`; looked for on PATH and in ~/.dotnet/tools).
# Usage: scripts/profile-tickets.sh [top-n]
set -euo pipefail
cd "$(dirname "$0")/.."
top=${1:-40}
trace_tool=$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")
port=7394
work=$(mktemp -d)
out=${PROFILE_OUT:-/tmp/itsm-profile-tickets.nettrace}
trap 'if [ -n "${app:-}" ]; then kill $app 2>/dev/null && wait $app 2>/dev/null; fi; rm -rf "$work"' EXIT

dotnet publish functions/Itsm.Functions -c Release -o "$work/app" >/dev/null
dotnet build tools/Itsm.LoadTest -c Release -o "$work/load" >/dev/null
export Itsm__Sqlite__Path="$work/itsm.db"
token=$("$work/app/Itsm.Functions" token mint --user bench --tenant bench --roles Itsm.Agent 2>/dev/null)
Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning "$work/app/Itsm.Functions" >"$work/app.log" 2>&1 &
app=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

body='{"type":"Incident","title":"Printer on floor 3 jams on every job","description":"Paper jam light stays on after clearing the tray.","impact":2,"urgency":2,"category":"hardware","assignmentGroup":"service-desk","configurationItems":["ci-printer-0003"],"tags":["printer"]}'
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/load/Itsm.LoadTest" --url "http://127.0.0.1:$port/api/tickets" --method POST --body "$body" \
  --header "Authorization: Bearer $token" --concurrency 16 --duration 30 --warmup 3 &
load=$!
sleep 8
"$trace_tool" collect -p "$app" --profile dotnet-sampled-thread-time --duration 00:00:00:15 -o "$out" >/dev/null
wait $load || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== inclusive (on the stack) =="
"$trace_tool" report "$out" topN -n "$top" --inclusive
echo "== exclusive (top of the stack) =="
"$trace_tool" report "$out" topN -n "$top"
echo "trace: $out"
