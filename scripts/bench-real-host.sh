#!/usr/bin/env bash
# Figures under the real Azure Functions host (../shared/functions-host, or Core Tools' func), with Azurite as its
# storage account, and the same figures for the standalone app on the same machine for comparison:
#   1. start to first answer: process start to the first 200 of GET /api/health (3 starts: a fresh task hub, then
#      two restarts after a graceful stop);
#   2. POST /api/tickets latency at 8 concurrent callers (tools/Itsm.LoadTest, 20 s after 3 s of warm-up);
#   3. SLA threshold lateness: 20 tickets under a policy of 20 one-second minutes with a 50 % warning; lateness is
#      the audit event's time minus the threshold's instant (both from the app's clock);
#   4. approval answer to completion: 10 normal changes, each approved through the decisions API; the time from
#      sending the answer to the change reading Scheduled (polled every 50 ms).
# Usage: scripts/bench-real-host.sh [functions|standalone|both] [maxQueuePollingInterval for the host, default 00:00:05 as host.json]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
which=${1:-both}
polling=${2:-00:00:05}
work=$(mktemp -d)
groups=()
cleanup() {
  for pid in "${groups[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# free_ports N: N distinct free loopback ports (the sockets are held open together, so no port comes back twice).
free_ports() { python3 -c 'import socket,sys; s=[socket.socket() for _ in range(int(sys.argv[1]))]; [x.bind(("127.0.0.1",0)) for x in s]; print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

dotnet build functions/Itsm.Functions -c Release -nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
dotnet build tools/Itsm.LoadTest -c Release -nologo -v q -o "$work/load" >>"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
app="$repo/functions/Itsm.Functions/bin/Release/net10.0"
if command -v func >/dev/null; then host_kind=func; else host_kind="$repo/../shared/functions-host/start.sh"; "$repo/../shared/functions-host/build.sh" >/dev/null; fi
[ -f tests/azurite/node_modules/azurite/dist/src/azurite.js ] || (cd tests/azurite && npm ci --no-audit --no-fund >/dev/null 2>&1)

echo "machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), dotnet $(dotnet --version), node $(node --version); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# start_app TARGET DIR PORT: starts the app in a process group of its own; its pid (the group id) in $app_pid.
start_app() {
  local target=$1 dir=$2 port=$3
  export Itsm__Store__Provider=Sqlite Itsm__Sqlite__Path="$dir/itsm.db" Itsm__Auth__Mode=DevTokens Itsm__Policies__MinuteLength=00:00:01
  if [ "$target" = functions ]; then
    if [ "$host_kind" = func ]; then
      (cd "$app" && exec setsid env "AzureFunctionsJobHost__logging__logLevel__Azure.Core=Warning" \
        AzureFunctionsJobHost__extensions__durableTask__storageProvider__maxQueuePollingInterval="$polling" \
        FUNCTIONS_WORKER_RUNTIME=dotnet-isolated func host start --port "$port") >>"$dir/app.log" 2>&1 &
    else
      (exec setsid env "AzureFunctionsJobHost__logging__logLevel__Azure.Core=Warning" \
        AzureFunctionsJobHost__extensions__durableTask__storageProvider__maxQueuePollingInterval="$polling" \
        "$host_kind" "$app" "$port") >>"$dir/app.log" 2>&1 &
    fi
  else
    (cd "$dir" && exec setsid env Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning \
      dotnet "$app/Itsm.Functions.dll") >>"$dir/app.log" 2>&1 &
  fi
  app_pid=$!
  groups+=("$app_pid")
}

# first_answer PORT PID: milliseconds from now (the caller's start instant) until /api/health answers 200.
wait_answer() {
  local port=$1 pid=$2 started=$3
  for _ in $(seq 1 3000); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/api/health"; then echo $(( $(ms) - started )); return; fi
    kill -0 "$pid" 2>/dev/null || { echo "the app exited" >&2; return 1; }
    sleep 0.05
  done
  echo "no answer" >&2; return 1
}

stop_app() {
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

measure() {
  local target=$1 dir="$work/$1"
  mkdir -p "$dir"
  if [ "$target" = functions ]; then
    local blob queue table
    read -r blob queue table < <(free_ports 3)
    (exec setsid node tests/azurite/node_modules/azurite/dist/src/azurite.js --silent --location "$dir/azurite" \
      --blobPort "$blob" --queuePort "$queue" --tablePort "$table" --skipApiVersionCheck) >"$dir/azurite.log" 2>&1 &
    groups+=("$!")
    for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$queue") 2>/dev/null && break; sleep 0.05; done
    export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
    echo "== under the Functions host ($host_kind), maxQueuePollingInterval $polling"
  else
    echo "== standalone"
  fi
  local port starts=()
  port=$(free_ports 1)
  for start in 1 2 3; do
    local t0
    t0=$(ms)
    start_app "$target" "$dir" "$port"
    starts+=("$(wait_answer "$port" "$app_pid" "$t0") ms")
    if [ "$start" -lt 3 ]; then stop_app "$app_pid"; fi
  done
  echo "start to first answer: ${starts[*]} (fresh storage, then two restarts)"

  local mint="dotnet $app/Itsm.Functions.dll token mint"
  local agent
  agent=$(Itsm__Sqlite__Path="$dir/itsm.db" $mint --user bench --tenant bench --roles Itsm.Agent 2>/dev/null)
  body='{"type":"Incident","title":"Printer on floor 3 jams on every job","description":"Paper jam light stays on after clearing the tray.","impact":2,"urgency":2,"category":"hardware","assignmentGroup":"service-desk","configurationItems":["ci-printer-0003"],"tags":["printer"]}'
  echo "load before the ticket run: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$work/load/Itsm.LoadTest" --url "http://127.0.0.1:$port/api/tickets" --method POST --body "$body" \
    --header "Authorization: Bearer $agent" --concurrency 8 --duration 20 --warmup 3 || true

  BASE="http://127.0.0.1:$port" \
  ADMIN=$(Itsm__Sqlite__Path="$dir/itsm.db" $mint --user root --tenant timing --roles Itsm.Admin 2>/dev/null) \
  AGENT=$(Itsm__Sqlite__Path="$dir/itsm.db" $mint --user sam --tenant timing --roles Itsm.Agent 2>/dev/null) \
  BOB=$(Itsm__Sqlite__Path="$dir/itsm.db" $mint --user bob --tenant timing --roles Itsm.Approver 2>/dev/null) \
  python3 - <<'PY'
import json, os, statistics, time, urllib.request
from datetime import datetime, timedelta, timezone

base = os.environ["BASE"]
def call(method, path, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read().decode()
        return json.loads(text) if text else None
def at(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))
def summary(name, values):
    values = sorted(values)
    p = lambda q: values[min(len(values) - 1, max(0, int(round(q / 100 * len(values) + 0.5)) - 1))]
    print(f"{name}: n={len(values)} min={values[0]:.2f} s median={statistics.median(values):.2f} s p90={p(90):.2f} s max={values[-1]:.2f} s")

admin, agent, bob = os.environ["ADMIN"], os.environ["AGENT"], os.environ["BOB"]
days = {d: ["00:00-24:00"] for d in ["monday","tuesday","wednesday","thursday","friday","saturday","sunday"]}
call("PUT", "/api/manage/sla/calendars/24x7", admin, {"name": "24x7", "timeZone": "Etc/UTC", "weeklyHours": days})
call("PUT", "/api/manage/sla/policies/fast", admin, {"name": "Fast", "calendarId": "24x7", "resolutionMinutes": {"3": 20}, "warnings": [50], "onBreach": {"notify": []}})
tickets = []
for i in range(20):
    tickets.append(call("POST", "/api/tickets", agent, {"type": "Incident", "title": f"Clock {i}", "impact": 2, "urgency": 2})["id"])
    time.sleep(0.25)
deadline = time.time() + 180
warn, breach = [], []
while True:
    warn, breach = [], []
    for t in tickets:
        for e in call("GET", f"/api/tickets/{t}/history", agent)["items"]:
            changes = {c["field"]: c["new"] for c in e["changes"]}
            if e["action"] == "sla.warning":
                warn.append((at(e["at"]) - at(changes["reachedAt"])).total_seconds())
            if e["action"] == "sla.breach":
                breach.append((at(e["at"]) - at(changes["breachedAt"])).total_seconds())
    if len(breach) == len(tickets) or time.time() > deadline:
        break
    time.sleep(1)
summary("sla warning lateness", warn)
summary("sla breach lateness", breach)

call("PUT", "/api/manage/approvals/settings", admin, {"policies": [{"id": "cab", "name": "CAB", "changeTypes": ["Normal"], "levels": [{"name": "Owner", "approvers": [{"kind": "User", "id": "bob"}], "rule": "Any"}]}]})
durations = []
for i in range(10):
    start = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    end = (datetime.now(timezone.utc) + timedelta(days=2, hours=2)).isoformat()
    change = call("POST", "/api/tickets", agent, {"type": "Change", "title": f"Patch {i}", "description": "Fix.", "change": {"changeType": "Normal", "plannedStart": start, "plannedEnd": end, "implementationPlan": "Patch.", "backoutPlan": "Restore."}})["id"]
    call("POST", f"/api/tickets/{change}/actions/submit", agent, {})
    approval = None
    while approval is None:
        approvals = call("GET", f"/api/changes/{change}/assessment", agent)["approvals"]
        if approvals and call("GET", f"/api/approvals/{approvals[-1]['id']}", agent)["prompts"]:
            approval = approvals[-1]["id"]
        else:
            time.sleep(0.2)
    t0 = time.monotonic()
    call("POST", f"/api/approvals/{approval}/decisions", bob, {"verdict": "Approve"})
    while call("GET", f"/api/tickets/{change}", agent)["state"] != "Scheduled":
        time.sleep(0.05)
    durations.append(time.monotonic() - t0)
summary("approval answer to change scheduled", durations)
PY
  stop_app "$app_pid"
}

case $which in
  functions|standalone) measure "$which" ;;
  both) measure standalone; measure functions ;;
  *) echo "usage: $0 [functions|standalone|both] [maxQueuePollingInterval]" >&2; exit 2 ;;
esac
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
