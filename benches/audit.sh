#!/usr/bin/env bash
# Benchmarks of atoctl's audit-database steps against a 10-million-row security_audit.
#
#   benches/audit.sh generate   # once: create database atoctl_bench and load it (~8 min on 2 cores)
#   benches/audit.sh run        # the heavy case, then the light case (release build of atoctl)
#   benches/audit.sh light      # the light case alone
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
#
# The light case (issue 13): one compromised identity (…a0a0, a month of logins from home, then
# a takeover from two new IPs), a 7-day window, six other identities found, each step appending
# to an incident journal opened before the rounds: `pattern-scan --identity … -o ids` and
# `audit-query --identity … -o json`, each against the best hand-written SQL for the same answer,
# one statement through `psql -f` (connection included), and `psql -c 'select 1'` for the cost
# of connecting alone. These take tens of milliseconds, so they are timed with the shell's
# microsecond clock (EPOCHREALTIME) rather than /usr/bin/time; LIGHT_RUNS rounds (default 21), the
# commands of a round in an order that rotates from round to round; medians, ranges and the
# ratio of the medians.
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

# once_ms KEY CMD...: runs CMD with stdout to /dev/null, records its wall time in ms under KEY
once_ms() {
  local key=$1; shift
  local s=$EPOCHREALTIME
  "$@" >/dev/null 2>"$OUT/stderr" \
    || { echo "$key: command failed: $*" >&2; cat "$OUT/stderr" >&2; exit 1; }
  local e=$EPOCHREALTIME
  echo $(( ${e//[!0-9]/} - ${s//[!0-9]/} )) | awk '{printf "%.1f\n", $1 / 1000}' >>"$OUT/$key.ms"
}

# report_ms KEY LABEL [VS]: median time (and range) of KEY, and its ratio to VS's median
report_ms() {
  local m; m=$(median <"$OUT/$1.ms")
  printf '%-52s %7.1f ms  (%s .. %s ms)%s\n' "$2" "$m" \
    "$(sort -n "$OUT/$1.ms" | head -1)" "$(sort -n "$OUT/$1.ms" | tail -1)" \
    "${3:+$(awk -v a="$m" -v b="$(median <"$OUT/$3.ms")" 'BEGIN {printf "  %.2fx", a / b}')}"
}

# The light case (see the top of this file).
light() {
  export ATOCTL_DATABASE_URL=$DB
  local runs=${LIGHT_RUNS:-21} light=00000000-0000-4000-8000-00000000a0a0
  # When the generator ran: the light identity's newest event is a day before it.
  local from to since_h
  read -r from to since_h < <(psql -X -A -t -F ' ' "$DB" -c "
    SELECT to_char(t - interval '7 days', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
           to_char(t, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
           168 + ceil(extract(epoch FROM now() - t) / 3600)::int
    FROM (SELECT (date_trunc('minute', max(created_at)) + interval '1 day 1 minute') AT TIME ZONE 'UTC' AS t
          FROM security_audit WHERE identity_id = '$light') s")
  [ -n "$since_h" ] || { echo "no light identity in $DB: run benches/audit.sh generate" >&2; exit 1; }
  echo "== light case: identity $light; pattern-scan --since ${since_h}h (the generator's last 7 days);"
  echo "   audit-query --from $from --to $to; into an open journal; $runs rounds"
  echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "ATOCTL=$ATOCTL${BASELINE:+ BASELINE=$BASELINE}"
  "$ATOCTL" incident open --identity "$light" --incident "$OUT/light.jsonl" >/dev/null 2>&1
  [ -z "$BASELINE" ] || "$BASELINE" incident open --identity "$light" --incident "$OUT/light-base.jsonl" >/dev/null 2>&1
  # The best hand-written SQL for pattern-scan's answer (-o ids: the other identities, in the
  # same order): the target's new IPs and the identities from them, in one statement.
  cat >"$OUT/ps_hand.sql" <<SQL
WITH w AS (SELECT now() - interval '$since_h hours' AS f, now() AS t),
new AS (
  SELECT e.source_ip FROM security_audit e, w
  WHERE e.identity_id = '$light' AND e.created_at >= w.f AND e.created_at < w.t AND e.source_ip IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM security_audit b WHERE b.identity_id = e.identity_id AND b.source_ip = e.source_ip
                    AND b.created_at >= w.f - interval '30 days' AND b.created_at < w.f)
  GROUP BY e.source_ip)
SELECT m.identity_id, array_agg(DISTINCT host(m.source_ip)),
  count(*) FILTER (WHERE m.event_type = 'login.succeeded') ok, count(*) FILTER (WHERE m.event_type = 'login.failed') failed,
  count(*) n, min(m.created_at), max(m.created_at)
FROM security_audit m, w
WHERE m.source_ip IN (SELECT source_ip FROM new) AND m.created_at >= w.f AND m.created_at < w.t
  AND m.identity_id IS NOT NULL AND m.identity_id <> '$light'
GROUP BY m.identity_id ORDER BY ok DESC, failed DESC, n DESC, m.identity_id;
SQL
  # The best hand-written SQL for audit-query's answer: the events of the window, newest first,
  # with new-ip against the baseline, the e-mail field of settings changes, and for each located
  # event the previous located one (back into the baseline) with the distance and the time
  # between them, from which impossible travel follows; in one statement.
  cat >"$OUT/aq_hand.sql" <<SQL
WITH located AS (
  SELECT id, created_at, (metadata->'geo'->>'lat')::float8 AS lat, (metadata->'geo'->>'lon')::float8 AS lon
  FROM security_audit
  WHERE identity_id = '$light' AND created_at >= timestamptz '$from' - interval '30 days' AND created_at < '$to'
    AND jsonb_typeof(metadata->'geo'->'lat') = 'number' AND jsonb_typeof(metadata->'geo'->'lon') = 'number'),
legs AS (
  SELECT id, lag(id) OVER w AS prev, lat, lon, lag(lat) OVER w AS plat, lag(lon) OVER w AS plon,
         extract(epoch FROM created_at - lag(created_at) OVER w) / 3600 AS hours
  FROM located WINDOW w AS (ORDER BY created_at, id))
SELECT e.id, e.event_type, host(e.source_ip), e.user_agent, e.created_at, e.metadata,
  e.source_ip IS NOT NULL AND e.source_ip NOT IN (
    SELECT b.source_ip FROM security_audit b WHERE b.identity_id = '$light' AND b.source_ip IS NOT NULL
      AND b.created_at >= timestamptz '$from' - interval '30 days' AND b.created_at < '$from') AS new_ip,
  CASE WHEN e.event_type = 'settings.changed'
    THEN jsonb_path_exists(e.metadata, '\$.fields[*] ? (@ like_regex "email" flag "i")') END AS email_field,
  l.prev, 2 * 6371 * asin(sqrt(sin(radians(l.lat - l.plat) / 2) ^ 2
    + cos(radians(l.plat)) * cos(radians(l.lat)) * sin(radians(l.lon - l.plon) / 2) ^ 2)) AS km, l.hours
FROM security_audit e LEFT JOIN legs l ON l.id = e.id
WHERE e.identity_id = '$light' AND e.created_at >= '$from' AND e.created_at < '$to'
ORDER BY e.created_at DESC, e.id DESC;
SQL
  local cmds=(ps ps_hand aq aq_hand select1)
  [ -z "$BASELINE" ] || cmds=(ps ps_base ps_hand aq aq_base aq_hand select1)
  light_cmd() {
    case $1 in
    ps) once_ms ps "$ATOCTL" --incident "$OUT/light.jsonl" pattern-scan --identity "$light" --since "${since_h}h" -o ids ;;
    ps_base) once_ms ps_base "$BASELINE" --incident "$OUT/light-base.jsonl" pattern-scan --identity "$light" --since "${since_h}h" -o ids ;;
    ps_hand) once_ms ps_hand psql -X -q -A -t "$DB" -f "$OUT/ps_hand.sql" ;;
    aq) once_ms aq "$ATOCTL" --incident "$OUT/light.jsonl" audit-query --identity "$light" --from "$from" --to "$to" -o json ;;
    aq_base) once_ms aq_base "$BASELINE" --incident "$OUT/light-base.jsonl" audit-query --identity "$light" --from "$from" --to "$to" -o json ;;
    aq_hand) once_ms aq_hand psql -X -q -A -t "$DB" -f "$OUT/aq_hand.sql" ;;
    select1) once_ms select1 psql -X -q -A -t "$DB" -c 'select 1' ;;
    esac
  }
  local n=${#cmds[@]} round k
  for k in "${cmds[@]}"; do light_cmd "$k"; done
  rm -f "$OUT"/*.ms
  for round in $(seq "$runs"); do
    for ((k = 0; k < n; k++)); do light_cmd "${cmds[(k + round) % n]}"; done
  done
  local ids events
  ids=$("$ATOCTL" pattern-scan --identity "$light" --since "${since_h}h" -o ids 2>/dev/null | wc -l)
  events=$("$ATOCTL" audit-query --identity "$light" --from "$from" --to "$to" -o json 2>/dev/null \
    | grep -o '"counts":{"events":[0-9]*' | cut -d: -f3)
  echo "-- pattern-scan -o ids: $ids identities; median of $runs"
  report_ms ps "atoctl pattern-scan -o ids, into the journal" ps_hand
  [ -z "$BASELINE" ] || report_ms ps_base "BASELINE pattern-scan -o ids, into the journal" ps_hand
  report_ms ps_hand "psql -f, hand-written SQL (same answer)"
  echo "-- audit-query -o json: $events events; median of $runs"
  report_ms aq "atoctl audit-query -o json, into the journal" aq_hand
  [ -z "$BASELINE" ] || report_ms aq_base "BASELINE audit-query -o json, into the journal" aq_hand
  report_ms aq_hand "psql -f, hand-written SQL (same answer)"
  report_ms select1 "psql -c 'select 1' (connecting alone)"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
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
  light
  ;;
light)
  light
  ;;
*) echo "usage: $0 generate|run|light|drop" >&2; exit 2 ;;
esac
