#!/usr/bin/env bash
# The platform figures of docs/benchmarks.md ("Platform move"), measured in one run, one after the other:
#   1. a 3-activity chain on Microsoft's in-memory provider and on our SQLite provider (DurableTask.Core, in process);
#   2. ticket create over HTTP, standalone (16 closed-loop workers, 20 s);
#   3. 100,000 SLA clocks waiting on the new engine (memory), then timer lateness of 1,000 more due while they wait.
# Usage: scripts/bench-platform.sh [orchestrations] [sla-tickets]
set -euo pipefail
cd "$(dirname "$0")/.."
orchestrations=${1:-2000}
tickets=${2:-100000}
echo "== $(date -u +%FT%TZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. durable-chain --orchestrations $orchestrations"
dotnet run -c Release --project benchmarks/Itsm.Benchmarks -- durable-chain --orchestrations "$orchestrations"
echo "== 2. scripts/bench-tickets.sh 16 20"
scripts/bench-tickets.sh 16 20
echo "== 3. sla --tickets $tickets --alarms 1000"
dotnet run -c Release --project benchmarks/Itsm.Benchmarks -- sla --tickets "$tickets" --alarms 1000
