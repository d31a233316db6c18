#!/usr/bin/env bash
# Standalone GET of the approval page (what a mail scanner's prefetch or an approver's phone does): verify the
# link's HMAC and expiry, read the approval record, check the answer rules, render the HTML. Measured with the
# repo's load generator against one pending approval.
# Usage: scripts/bench-approval-page.sh [concurrency] [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
concurrency=${1:-16}
duration=${2:-20}
port=7393
work=$(mktemp -d)
trap 'if [ -n "${app:-}" ]; then kill $app 2>/dev/null && wait $app 2>/dev/null; fi; rm -rf "$work"' EXIT

dotnet publish functions/Itsm.Functions -c Release -o "$work/app" >/dev/null
dotnet build tools/Itsm.LoadTest -c Release -o "$work/load" >/dev/null

export Itsm__Sqlite__Path="$work/itsm.db"
admin=$("$work/app/Itsm.Functions" token mint --user root --tenant bench --roles Itsm.Admin 2>/dev/null)
agent=$("$work/app/Itsm.Functions" token mint --user sam --tenant bench --roles Itsm.Agent 2>/dev/null)

Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning \
  "$work/app/Itsm.Functions" >"$work/app.log" 2>&1 &
app=$!
base="http://127.0.0.1:$port/api"
for _ in $(seq 1 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done

json=(-H "Content-Type: application/json")
curl -sf -X PUT "$base/admin/approvals/settings" -H "Authorization: Bearer $admin" "${json[@]}" \
  -d '{"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal"],"levels":[{"name":"CAB","approvers":[{"kind":"User","id":"bob"},{"kind":"User","id":"carol"}],"rule":"All"}]}]}' >/dev/null
start=$(date -u -d '+2 days' +%Y-%m-%dT%H:00:00Z); end=$(date -u -d '+2 days 2 hours' +%Y-%m-%dT%H:00:00Z)
change=$(curl -sf -X POST "$base/tickets" -H "Authorization: Bearer $agent" "${json[@]}" \
  -d "{\"type\":\"Change\",\"title\":\"Patch VPN gateway\",\"configurationItems\":[\"vpn-01\"],\"change\":{\"plannedStart\":\"$start\",\"plannedEnd\":\"$end\",\"implementationPlan\":\"Patch.\",\"backoutPlan\":\"Restore.\"}}" | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
curl -sf -X POST "$base/tickets/$change/actions/submit" -H "Authorization: Bearer $agent" >/dev/null
link=""
for _ in $(seq 1 100); do
  approval=$(curl -sf "$base/changes/$change/assessment" -H "Authorization: Bearer $agent" | grep -o '"approvals":\[{"id":"[^"]*"' | cut -d'"' -f6 || true)
  [ -n "$approval" ] && link=$(curl -sf "$base/approvals/$approval" -H "Authorization: Bearer $agent" | grep -o '"link":"[^"]*"' | head -1 | cut -d'"' -f4 || true)
  [ -n "$link" ] && break; sleep 0.1
done
[ -n "$link" ] || { echo "no approval link"; cat "$work/app.log"; exit 1; }
curl -sf "http://127.0.0.1:$port$link" | grep -q 'Patch VPN gateway'

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), dotnet $(dotnet --version); load at start: $load_at_start, before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/load/Itsm.LoadTest" --url "http://127.0.0.1:$port$link" --concurrency "$concurrency" --duration "$duration" --warmup 3
decisions=$(curl -sf "$base/approvals/$approval" -H "Authorization: Bearer $agent" | grep -o '"decisions":\[[^]]*\]')
echo "decisions after the run (GET never decides): $decisions"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
