#!/usr/bin/env bash
# scripts/timed.sh CMD...: runs one step of `make test` and prints how long it took, so a run that grows
# toward CI's 30-minute budget shows where its time went. Exits with CMD's status.
start=$(date +%s)
"$@"
rc=$?
echo "timed: $* took $(($(date +%s) - start)) s (exit $rc)"
exit "$rc"
