#!/usr/bin/env bash
# Benchmarks of atoctl's audit-database steps against a 10-million-row security_audit.
#
#   benches/audit.sh generate   # once: create database atoctl_bench and load it (~8 min on 2 cores)
#   benches/audit.sh run        # the measurements below (release build of atoctl)
#   benches/audit.sh drop       # drop atoctl_bench
#
# Environment: ATOCTL_BENCH_PG (server URL, default postgres://postgres@127.0.0.1:5432/),
# RUNS (default 5), ATOCTL (the build measured, default target/release/atoctl), BASELINE (another
# build, e.g. of the commit before a change: its atoctl commands then run in the same rounds,
# right after ATOCTL's, and are reported beside them). Every command runs once to warm up, then
# RUNS rounds run every command once each, in turn, so that a change of machine load hits all of
# them alike; each figure is the median wall time over the rounds, with the largest peak RSS
# (/usr/bin/time; apt-get install time), and the range of the times shows the noise. The load
# average is printed before and after. No timed assertions anywhere.
#
# The windows are fixed by the data, not by the clock: the generator put the heavy identity's
# 1,000,000 events and the stuffing events in the 24 h before it ran, so the figures do not
# change as the database ages.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=${ATOCTL_BENCH_PG:-postgres://postgres@127.0.0.1:5432/}
DB="${SERVER%/}/atoctl_bench"
RUNS=${RUNS:-5}
ATOCTL=${ATOCTL:-target/release/atoctl}
BASELINE=${BASELINE:-}
HEAVY=00000000-0000-4000-8000-00000000b0b0
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# once KEY CMD...: runs CMD with stdout to /dev/null, records wall time and peak RSS under KEY
once() {
  local key=$1; shift
  /usr/bin/time -f '%e %M' -o "$OUT/time" "$@" >/dev/null 2>"$OUT/stderr" \
    || { echo "$key: command failed: $*" >&2; cat "$OUT/stderr" >&2; exit 1; }
  read -r t m <"$OUT/time"
  echo "$t" >>"$OUT/$key.t"; echo "$m" >>"$OUT/$key.m"
}

# report KEY LABEL: median time (and range) and largest peak RSS of KEY
report() {
  printf '%-46s %8.3f s  peak RSS %7d KiB  (%s .. %s s)\n' "$2" \
    "$(median <"$OUT/$1.t")" "$(sort -n "$OUT/$1.m" | tail -1)" \
    "$(sort -n "$OUT/$1.t" | head -1)" "$(sort -n "$OUT/$1.t" | tail -1)"
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
  # When the data was generated (the heavy identity's newest event), to the minute above.
  read -r FROM TO SINCE_H < <(psql -X -A -t -F ' ' "$DB" -c "
    SELECT to_char(t - interval '24 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
           to_char(t, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
           24 + ceil(extract(epoch FROM now() - t) / 3600)::int
    FROM (SELECT (date_trunc('minute', max(created_at)) + interval '1 minute') AT TIME ZONE 'UTC' AS t
          FROM security_audit WHERE identity_id = '$HEAVY') s")
  echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "ATOCTL=$ATOCTL${BASELINE:+ BASELINE=$BASELINE}"
  echo "audit-query window $FROM .. $TO; pattern-scan --since ${SINCE_H}h (covers the same 24 h)"

  # pattern-scan: the 20 stuffing IPs of the generator, 3,000 identities each.
  IPS=(); for i in $(seq 1 20); do IPS+=(--ip "203.0.113.$i"); done
  IPLIST=$(for i in $(seq 1 20); do printf "'203.0.113.%s'," "$i"; done); IPLIST=${IPLIST%,}
  # The best hand-written SQL for the same answer: atoctl's two statements as a person would
  # type them (the per-IP statistics, the per-identity aggregate with the distinct shared IPs,
  # in the same order), timestamps as text. No statement of atoctl's that this leaves out
  # costs anything here (no target, no user agents).
  HAND="SELECT host(source_ip), count(*), count(DISTINCT identity_id),
      count(*) FILTER (WHERE event_type = 'login.succeeded'), count(*) FILTER (WHERE event_type = 'login.failed'),
      count(*) FILTER (WHERE identity_id IS NULL), min(created_at), max(created_at)
    FROM security_audit WHERE source_ip = ANY(ARRAY[$IPLIST]::inet[]) AND created_at >= now() - interval '$SINCE_H hours'
    GROUP BY source_ip ORDER BY source_ip;
  SELECT identity_id, array_agg(DISTINCT host(source_ip)),
      count(*) FILTER (WHERE event_type = 'login.succeeded') ok, count(*) FILTER (WHERE event_type = 'login.failed') failed,
      count(*) n, min(created_at), max(created_at)
    FROM security_audit WHERE source_ip = ANY(ARRAY[$IPLIST]::inet[]) AND created_at >= now() - interval '$SINCE_H hours'
      AND identity_id IS NOT NULL
    GROUP BY identity_id ORDER BY ok DESC, failed DESC, n DESC, identity_id;"
  # audit-query: the heavy identity's 1,000,000 events, newest first; the same rows through COPY,
  # as psql runs it (the server's defaults: a parallel bitmap scan + sort, JIT), and with the
  # plan atoctl's cursor gets (no parallel workers, no JIT: Index Scan Backward, no sort).
  COPY="COPY (SELECT id, event_type, source_ip, user_agent, created_at, metadata FROM security_audit
    WHERE identity_id = '$HEAVY' AND created_at >= '$FROM' AND created_at < '$TO'
    ORDER BY created_at DESC, id DESC) TO STDOUT"

  # aq KEY BUILD, ps KEY BUILD: audit-query and pattern-scan -o json of one build
  aq() { once "$1" "$2" --timeout 120 audit-query --identity "$HEAVY" --from "$FROM" --to "$TO" -o json; }
  ps() { once "$1" "$2" --timeout 120 pattern-scan "${IPS[@]}" --since "${SINCE_H}h" -o json; }
  # commands ROUND: one round; with a BASELINE, the two builds take turns at going first
  commands() {
    if [ -n "$BASELINE" ] && [ $(($1 % 2)) = 1 ]; then ps ps_json_base "$BASELINE"; fi
    ps ps_json "$ATOCTL"
    if [ -n "$BASELINE" ] && [ $(($1 % 2)) = 0 ]; then ps ps_json_base "$BASELINE"; fi
    once ps_ids "$ATOCTL" --timeout 120 pattern-scan "${IPS[@]}" --since "${SINCE_H}h" -o ids
    once ps_hand psql -X -q -A -t "$DB" -c "$HAND"
    if [ -n "$BASELINE" ] && [ $(($1 % 2)) = 1 ]; then aq aq_json_base "$BASELINE"; fi
    aq aq_json "$ATOCTL"
    if [ -n "$BASELINE" ] && [ $(($1 % 2)) = 0 ]; then aq aq_json_base "$BASELINE"; fi
    once aq_copy psql -X -q "$DB" -c "$COPY"
    once aq_copy_best psql -X -q "$DB" -c "SET jit = off" -c "SET max_parallel_workers_per_gather = 0" -c "$COPY"
  }
  commands 0
  rm -f "$OUT"/*.t "$OUT"/*.m
  for round in $(seq "$RUNS"); do commands "$round"; done

  # The answers are the expected size.
  "$ATOCTL" pattern-scan "${IPS[@]}" --since "${SINCE_H}h" -o ids 2>/dev/null | wc -l >"$OUT/n"
  echo "== pattern-scan: 20 IPs, 24 h (60,000 events, $(cat "$OUT/n") identities), median of $RUNS"
  report ps_json "atoctl pattern-scan -o json"
  report ps_ids "atoctl pattern-scan -o ids"
  report ps_hand "psql, hand-written SQL (same answer)"
  [ -z "$BASELINE" ] || report ps_json_base "BASELINE pattern-scan -o json"
  "$ATOCTL" --timeout 120 audit-query --identity "$HEAVY" --from "$FROM" --to "$TO" -o json \
    | tail -c 20000 | grep -o '"counts":{"events":[0-9]*' >"$OUT/n"
  echo "== audit-query: one identity, $(cut -d: -f3 "$OUT/n") events, JSON, median of $RUNS"
  report aq_json "atoctl audit-query -o json"
  report aq_copy "psql COPY of the same rows (server defaults)"
  report aq_copy_best "psql COPY, no parallel plan, no JIT"
  [ -z "$BASELINE" ] || report aq_json_base "BASELINE audit-query -o json"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  ;;
*) echo "usage: $0 generate|run|drop" >&2; exit 2 ;;
esac
