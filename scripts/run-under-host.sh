#!/usr/bin/env bash
# Runs the app under the real Azure Functions host on http://localhost:7071, the way `func start` would: builds the
# app, starts Azurite (from tests/azurite, installed with npm ci on first use) as its storage account, then the host
# (Core Tools' `func` when it is on the PATH, else ../shared/functions-host/start.sh, the host built from source).
# Ctrl+C stops both. Data (Azurite's files, the SQLite store, the dev signing key) stays in .itsm/host/.
#
# Environment: PORT (7071), CONFIGURATION (Release), AZURITE_PORT (10000: blob; queue and table take the next two),
# ITSM_HOST_DATA (.itsm/host). Other app settings can be exported as usual (Itsm__..., AzureFunctionsJobHost__...).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
port=${PORT:-7071}
configuration=${CONFIGURATION:-Release}
blob=${AZURITE_PORT:-10000}
queue=$((blob + 1))
table=$((blob + 2))
data=${ITSM_HOST_DATA:-$repo/.itsm/host}
app="$repo/functions/Itsm.Functions/bin/$configuration/net10.0"

if command -v func >/dev/null; then
  host=(func host start --port "$port")
  host_dir=$app
elif [ -x "$repo/../shared/functions-host/start.sh" ]; then
  host=("$repo/../shared/functions-host/start.sh" "$app" "$port")
  host_dir=$repo
else
  echo "Neither Azure Functions Core Tools (func) nor ../shared/functions-host/start.sh is available." >&2
  exit 2
fi
command -v npm >/dev/null || { echo "Node.js (npm) is needed for Azurite." >&2; exit 2; }

echo "building the app ($configuration)..." >&2
mkdir -p "$data"
dotnet build functions/Itsm.Functions -c "$configuration" -nologo -v q >"$data/build.log" 2>&1 || { cat "$data/build.log" >&2; exit 1; }
if [ ! -f tests/azurite/node_modules/azurite/dist/src/azurite.js ]; then
  (cd tests/azurite && npm ci --no-audit --no-fund >&2)
fi
if [ "${host[0]}" != func ]; then
  "$repo/../shared/functions-host/build.sh" >/dev/null   # once, ~35 s; start.sh finds it built
fi

mkdir -p "$data/azurite"
azurite_pid=""
host_pid=""
stop() {
  trap - INT TERM EXIT
  # Each runs in a process group of its own (setsid): the host's worker is a child that a kill of the host alone
  # leaves running. SIGTERM first (the host stops its worker gracefully), SIGKILL after 20 s.
  for pid in $host_pid $azurite_pid; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    alive=""
    for pid in $host_pid $azurite_pid; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.5
  done
  for pid in $host_pid $azurite_pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  echo "stopped." >&2
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

setsid node tests/azurite/node_modules/azurite/dist/src/azurite.js --silent --location "$data/azurite" \
  --blobPort "$blob" --queuePort "$queue" --tablePort "$table" --skipApiVersionCheck >"$data/azurite.log" 2>&1 &
azurite_pid=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$queue") 2>/dev/null && break
  kill -0 "$azurite_pid" 2>/dev/null || { cat "$data/azurite.log" >&2; exit 1; }
  sleep 0.2
done

# The well-known development account of Azurite (Microsoft's documented emulator key, not a secret).
export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
export FUNCTIONS_WORKER_RUNTIME=dotnet-isolated
# Locally: the embedded store and dev tokens (deployed, the app uses Cosmos DB and Entra ID).
export Itsm__Store__Provider=${Itsm__Store__Provider:-Sqlite}
export Itsm__Sqlite__Path=${Itsm__Sqlite__Path:-$data/itsm.db}
export Itsm__Auth__Mode=${Itsm__Auth__Mode:-DevTokens}

started=$(date +%s%N)
# The storage SDK logs every request at Information (its category has a dot, so it is passed with env).
(cd "$host_dir" && exec setsid env "AzureFunctionsJobHost__logging__logLevel__Azure.Core=Warning" "${host[@]}") &
host_pid=$!
for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; then
    echo "Functions host: http://localhost:$port/api (answered after $(( ($(date +%s%N) - started) / 1000000 )) ms); Azurite on $blob-$table; data in $data." >&2
    echo "Token: Itsm__Sqlite__Path=$Itsm__Sqlite__Path dotnet $app/Itsm.Functions.dll token mint --user ana --roles Itsm.Agent" >&2
    echo "Press Ctrl+C to stop." >&2
    break
  fi
  kill -0 "$host_pid" 2>/dev/null || { echo "the host exited" >&2; exit 1; }
  sleep 0.2
done
wait "$host_pid"
