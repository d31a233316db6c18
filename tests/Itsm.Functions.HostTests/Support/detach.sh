#!/usr/bin/env bash
# detach.sh LOG WATCHED_PID COMMAND [ARGS...]
# Started under setsid by the tests: this script leads a session and process group of its own (the group id is its
# pid), runs COMMAND in it with all output appended to LOG, and kills the whole group when COMMAND ends or when
# WATCHED_PID (the test process) is gone, so a test run that crashes leaves no host, worker or Azurite behind.
set -u
log=$1 watched=$2
shift 2
exec </dev/null >>"$log" 2>&1
"$@" &
child=$!
while kill -0 "$watched" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
  sleep 1
done
kill -KILL -- -$$
