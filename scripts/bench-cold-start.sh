#!/usr/bin/env bash
# Standalone cold start, split into what the runtime costs and what the app costs (docs/benchmarks.md, "Issue 18:
# Durable provider and SLA clocks"):
#   runtime:   `dotnet Itsm.Functions.dll token` (prints its usage and exits: the .NET host, the runtime and the app's
#              main assembly, none of the app's start-up);
#   listening: process start to the app's "listening on" line (configuration, DI, the SQLite stores and the Durable
#              provider opened, Kestrel bound);
#   answer:    process start to the first 200 of GET /api/health (the first request's JIT and first queries).
# Each start runs on a fresh database first, then restarts on the same database; the app is stopped with SIGTERM.
# The isolated app under the real Functions host is measured by scripts/bench-real-host.sh (its first row).
# Usage: scripts/bench-cold-start.sh [starts, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
starts=${1:-5}
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
dotnet build functions/Itsm.Functions -c Release -nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
app="$(pwd)/functions/Itsm.Functions/bin/Release/net10.0/Itsm.Functions.dll"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "machine: $(nproc) cores, $(uname -sr), dotnet $(dotnet --version); commit $(git rev-parse --short HEAD); load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$starts"); do
  t0=$(ms); dotnet "$app" token >/dev/null 2>&1 || true; runtime=$(( $(ms) - t0 ))
  [ "$i" = 1 ] && kind=fresh || kind=restart
  : >"$work/app.log"
  t0=$(ms)
  (cd "$work" && exec setsid env Itsm__Store__Provider=Sqlite Itsm__Sqlite__Path="$work/itsm.db" Itsm__Auth__Mode=DevTokens \
    Itsm__Standalone__Urls="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning dotnet "$app") >>"$work/app.log" 2>&1 &
  pid=$!
  listening=
  for _ in $(seq 1 6000); do
    [ -z "$listening" ] && grep -q "listening on" "$work/app.log" && listening=$(( $(ms) - t0 ))
    if curl -sf -o /dev/null "http://127.0.0.1:$port/api/health"; then break; fi
    kill -0 "$pid" 2>/dev/null || { cat "$work/app.log"; echo "the app exited" >&2; exit 1; }
    sleep 0.01
  done
  answer=$(( $(ms) - t0 ))
  # The line and the answer can come in the same 10 ms poll: then the answer time bounds the listening time.
  [ -z "$listening" ] && listening="<= $answer"
  echo "start $i ($kind): runtime only ${runtime} ms; listening ${listening} ms; first answer ${answer} ms; load $(cut -d' ' -f1-3 /proc/loadavg)"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  pid=
done
