#!/usr/bin/env bash
# Wall time of `atoctl drill`: the sandbox started, the takeover answered (the immediate and the
# 1-hour phases), the report and the notice rendered, the journal and the end state verified.
#
#   benches/drill.sh            # RUNS (default 10), ATOCTL (default: the static release build)
#
# Without a database, then with one (a scratch database on ATOCTL_BENCH_PG, default
# postgres://postgres@127.0.0.1:5432/, created and dropped here; each drill seeds and drops its
# own schema in it). hyperfine; no timed assertions anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
ATOCTL=${ATOCTL:-target/x86_64-unknown-linux-gnu/release/atoctl}
SERVER=${ATOCTL_BENCH_PG:-postgres://postgres@127.0.0.1:5432/}
DB=atoctl_drill_bench
[ -x "$ATOCTL" ] || cargo build-static --quiet
psql "${SERVER%/}/postgres" -qc "drop database if exists $DB" -qc "create database $DB"
trap 'psql "${SERVER%/}/postgres" -qc "drop database if exists $DB"' EXIT
OUT=$(mktemp -d)
export TMPDIR=$OUT   # each drill's directory goes here, and goes with it
hyperfine -N --warmup 2 --runs "$RUNS" \
  -n 'drill' "$ATOCTL drill" \
  -n 'drill --database-url' "$ATOCTL drill --database-url ${SERVER%/}/$DB" \
  --export-json "$OUT/drill.json"
rm -rf "$OUT"
