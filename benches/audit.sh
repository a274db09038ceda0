#!/usr/bin/env bash
# Benchmarks of atoctl's audit-database steps against a 10-million-row security_audit.
#
#   benches/audit.sh generate   # once: create database atoctl_bench and load it (~8 min on 2 cores)
#   benches/audit.sh run        # the measurements below (release build of atoctl)
#   benches/audit.sh drop       # drop atoctl_bench
#
# Environment: ATOCTL_BENCH_PG (server URL, default postgres://postgres@127.0.0.1:5432/),
# RUNS (default 5). Each figure is the median wall time of RUNS runs after one warm-up run;
# peak RSS comes from /usr/bin/time (apt-get install time). No timed assertions anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=${ATOCTL_BENCH_PG:-postgres://postgres@127.0.0.1:5432/}
DB="${SERVER%/}/atoctl_bench"
RUNS=${RUNS:-5}
ATOCTL=${ATOCTL:-target/release/atoctl}
HEAVY=00000000-0000-4000-8000-00000000b0b0

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# measure NAME CMD...: prints NAME, median seconds, max peak RSS (KiB)
measure() {
  local name=$1; shift
  "$@" >/dev/null 2>&1 || { echo "$name: command failed: $*" >&2; "$@" >/dev/null; }
  local times=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o /tmp/atoctl-bench.time "$@" >/dev/null 2>/dev/null
    read -r t m </tmp/atoctl-bench.time
    times+=("$t"); (( m > rss )) && rss=$m
  done
  printf '%-44s %8.3f s  peak RSS %7d KiB\n' "$name" "$(printf '%s\n' "${times[@]}" | median)" "$rss"
}

case "${1:-run}" in
generate)
  psql -X -q "${SERVER%/}/postgres" -c 'DROP DATABASE IF EXISTS atoctl_bench' -c 'CREATE DATABASE atoctl_bench'
  psql -X -q "$DB" -v rows=10000000 -v identities=1000000 -v heavy=1000000 -f benches/generate.sql
  ;;
drop)
  psql -X -q "${SERVER%/}/postgres" -c 'DROP DATABASE IF EXISTS atoctl_bench'
  ;;
run)
  export ATOCTL_DATABASE_URL=$DB
  # The stuffing IPs of the generator: 20 addresses x 3,000 identities in the last 12 hours.
  IPS=(); for i in $(seq 1 20); do IPS+=(--ip "203.0.113.$i"); done
  IPLIST=$(for i in $(seq 1 20); do printf "'203.0.113.%s'," "$i"; done); IPLIST=${IPLIST%,}
  echo "== pattern-scan: 20 IPs, 24h window (60,000 events, ~59,000 identities)"
  measure "atoctl pattern-scan -o json" "$ATOCTL" --timeout 120 pattern-scan "${IPS[@]}" --since 24h -o json
  measure "atoctl pattern-scan -o ids" "$ATOCTL" --timeout 120 pattern-scan "${IPS[@]}" --since 24h -o ids
  # The best hand-written SQL for the same answer: per-IP statistics and per-identity aggregate.
  HAND="SELECT host(source_ip), count(*), count(DISTINCT identity_id),
      count(*) FILTER (WHERE event_type = 'login.succeeded'), count(*) FILTER (WHERE event_type = 'login.failed'),
      count(*) FILTER (WHERE identity_id IS NULL), min(created_at), max(created_at)
    FROM security_audit WHERE source_ip = ANY(ARRAY[$IPLIST]::inet[]) AND created_at >= now() - interval '24 hours'
    GROUP BY source_ip ORDER BY source_ip;
  SELECT identity_id, array_agg(DISTINCT host(source_ip)),
      count(*) FILTER (WHERE event_type = 'login.succeeded') ok, count(*) FILTER (WHERE event_type = 'login.failed') failed,
      count(*) n, min(created_at), max(created_at)
    FROM security_audit WHERE source_ip = ANY(ARRAY[$IPLIST]::inet[]) AND created_at >= now() - interval '24 hours'
      AND identity_id IS NOT NULL
    GROUP BY identity_id ORDER BY ok DESC, failed DESC, n DESC, identity_id;"
  measure "psql, hand-written SQL (same answer)" psql -X -q -A -t "$DB" -c "$HAND"
  echo "== audit-query: one identity, 1,000,000 events in the window, JSON"
  measure "atoctl audit-query -o json" "$ATOCTL" --timeout 120 audit-query --identity "$HEAVY" --since 24h -o json
  measure "psql COPY of the same rows" psql -X -q "$DB" -c "COPY (SELECT id, event_type, source_ip, user_agent, created_at, metadata FROM security_audit WHERE identity_id = '$HEAVY' AND created_at >= now() - interval '24 hours' ORDER BY created_at DESC, id DESC) TO STDOUT"
  ;;
*) echo "usage: $0 generate|run|drop" >&2; exit 2 ;;
esac
