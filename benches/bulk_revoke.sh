#!/usr/bin/env bash
# Bulk revoke benchmark (issue 2): `atoctl revoke --stdin` of N identities against the Kratos
# double with L ms of added latency per request, compared with
#   - the floor: requests × latency / concurrency (the requests counted by the double), and
#   - a sequential curl loop doing what the runbook does by hand (one DELETE per identity).
# Also times `atoctl --version` (process start-up).
#
# Usage: benches/bulk_revoke.sh [N=10000] [LATENCY_MS=10] [CONCURRENCY=80]
# SKIP_CURL=1 leaves out the curl loop (it takes N x ~21 ms).
# DOUBLE_FLAGS="--no-validate" serves an older atoctl that the OpenAPI check would refuse, and
# leaves the double's request checking out of the CPU the two share on a small machine.
# RATE_LIMIT=PS,PM gives the double Ory Network's rate-limit budget per bucket (PS a second, PM
# a minute): the run then reports the 429s atoctl met (goal 0) and its time against the
# budget's floor (the busiest bucket's requests at the budget's pace).
# ATOCTL_BIN=PATH measures that executable, e.g. the static release build:
#   cargo build-static && ATOCTL_BIN=target/x86_64-unknown-linux-gnu/release/atoctl benches/bulk_revoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
LAT=${2:-10}
C=${3:-80}
SESSIONS=${SESSIONS:-2}

cargo build --release -q -p atoctl -p atoctl-testkit
ATOCTL=${ATOCTL_BIN:-$PWD/target/release/atoctl}
DOUBLE=$PWD/target/release/kratos-double
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

start_double() {
  # shellcheck disable=SC2086
  "$DOUBLE" --latency-ms "$LAT" --seed-identities "$N" --sessions-per-identity "$SESSIONS" \
    --ids-out "$work/ids" ${DOUBLE_FLAGS:-} ${RATE_LIMIT:+--rate-limit $RATE_LIMIT} \
    >"$work/double.out" &
  for _ in $(seq 1 600); do
    grep -q '^listening on ' "$work/double.out" 2>/dev/null && break
    sleep 0.1
  done
  URL=$(sed -n 's/^listening on //p' "$work/double.out")
  [ -n "$URL" ] || { echo "the double did not start" >&2; exit 1; }
  sleep 2   # let the freshly seeded double settle before timing anything against it
}
stop_double() { kill %1 2>/dev/null || true; wait 2>/dev/null || true; }
requests() { curl -s "$URL/__double/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
served_ms() { curl -s "$URL/__double/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mean_served_ms"])'; }
stats() { curl -s "$URL/__double/stats" >"$work/stats.json"; }
now() { date +%s.%N; }

echo "== bulk revoke: $N identities × $SESSIONS sessions, ${LAT} ms latency, concurrency $C"
start_double
before=$(requests)
t0=$(now)
KRATOS_ADMIN_URL=$URL ATOCTL_INCIDENT=$work/incident.jsonl ATOCTL_OPERATOR=bench \
  "$ATOCTL" revoke --stdin --yes --concurrency "$C" -o json <"$work/ids" >"$work/result.json"
t1=$(now)
after=$(requests)
served=$(served_ms)
stats
stop_double
reqs=$((after - before))
python3 - "$t0" "$t1" "$reqs" "$LAT" "$C" "$N" "$work/result.json" "$served" "$work/wall" <<'PY'
import json, sys
t0, t1, reqs, lat, c, n, res = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
served = float(sys.argv[8])
s = json.load(open(res))["summary"]
wall = t1 - t0
floor = reqs * lat / 1000.0 / c
print(f"atoctl: {wall:.2f} s for {n} identities ({s['ok']} ok, {s['sessions_ended']} sessions ended), {reqs} requests")
print(f"floor (requests x latency / concurrency): {floor:.2f} s  ->  atoctl / floor = {wall/floor:.3f}")
print(f"the double served each request in {served:.2f} ms on average (added latency + its own work)")
open(sys.argv[9], "w").write(str(wall))
PY
if [ -n "${RATE_LIMIT:-}" ]; then
python3 - "$work/stats.json" "$RATE_LIMIT" "$work/wall" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
ps, pm = (int(x) for x in sys.argv[2].split(","))
wall = float(open(sys.argv[3]).read())
# Requests per rate-limit bucket (the OpenAPI document's x-ory-ratelimit-bucket).
bucket = {"GET /admin/identities/{id}/sessions": "kratos-admin-medium",
          "DELETE /admin/identities/{id}/sessions": "kratos-admin-low",
          "GET /admin/identities/{id}": "kratos-admin-high"}
per = {}
for route, n in st["by_route"].items():
    b = bucket.get(route, route)
    per[b] = per.get(b, 0) + n
# A bucket's floor: its requests at the tighter of the two budgets.
floor = max(max(n / ps, n / pm * 60) for n in per.values())
print(f"budget {ps}/s and {pm}/min per bucket; requests per bucket {per}")
print(f"429s met: {st.get('rate_limited', 0)}; budget floor {floor:.2f} s -> atoctl / floor = {wall / floor:.3f}")
PY
fi

if [ -z "${SKIP_CURL:-}" ]; then
echo "== sequential curl loop (one DELETE per identity, as a runbook does by hand)"
start_double
t0=$(now)
while read -r id; do
  curl -s -o /dev/null -X DELETE "$URL/admin/identities/$id/sessions"
done <"$work/ids"
t1=$(now)
stop_double
python3 - "$t0" "$t1" "$work/wall" <<'PY'
import sys
curl = float(sys.argv[2]) - float(sys.argv[1])
wall = float(open(sys.argv[3]).read())
print(f"curl loop: {curl:.2f} s  ->  atoctl is {curl / wall:.1f}x faster")
PY
fi

echo "== atoctl --version (process start-up), 200 runs"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 20 --runs 200 "$ATOCTL --version"
else
  t0=$(now)
  for _ in $(seq 1 200); do "$ATOCTL" --version >/dev/null; done
  t1=$(now)
  python3 -c "import sys; print(f'mean {(float(sys.argv[2])-float(sys.argv[1]))/200*1000:.2f} ms per run (includes the shell loop)')" "$t0" "$t1"
fi
