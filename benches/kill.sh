#!/usr/bin/env bash
# The kill test, as a script anyone can run: a bulk revoke killed at a random moment, again and
# again, and what it leaves behind checked.
#
#   benches/kill.sh [RUNS=20] [N=300]
#
# Each run seeds a fresh Kratos double with N identities of 2 sessions (LAT ms added to every
# request, default 5), starts `atoctl revoke --stdin --concurrency C` (default 16) and, after a
# random moment within the run's expected length, sends it a signal:
#   - SIGKILL: the journal must still verify, and no identity may have lost its sessions
#     without their snapshot in the journal (deleted without evidence; goal 0);
#   - SIGINT: also exit 130, a journaled "interrupted" summary, and the "interrupted after K of
#     N" line must say as many identities as the journal's summary lists done, and exactly those
#     must have lost their sessions.
# ATOCTL_BIN and DOUBLE name the executables (default: the release builds, built if missing).
# No timed assertions: the script prints counts.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
N=${2:-300}
LAT=${LAT:-5}
C=${C:-16}
ATOCTL=${ATOCTL_BIN:-$PWD/target/release/atoctl}
DOUBLE=${DOUBLE:-$PWD/target/release/kratos-double}
[ -x "$ATOCTL" ] || cargo build --release --quiet --bin atoctl
[ -x "$DOUBLE" ] || cargo build --release --quiet -p atoctl-testkit --bin kratos-double
work=$(mktemp -d)
trap 'if [ -n "${dpid:-}" ]; then kill "$dpid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
# The run's expected length: 3 requests per identity, C at a time.
span_ms=$((N * 3 * LAT / C))

check() {
  # check MODE EXIT: prints one line of findings for this run
  python3 - "$1" "$2" "$URL" "$work/ids" "$work/incident.jsonl" "$work/out" "$verify" <<'PY'
import json, sys, urllib.request
mode, code, url, ids_path, journal, out_path, verify = sys.argv[1:8]
ids = [l.strip() for l in open(ids_path) if l.strip()]
records = []
if verify != "missing":
    for l in open(journal, encoding="utf-8", errors="replace"):
        try:
            records.append(json.loads(l))
        except ValueError:
            pass  # a torn line: `incident verify` has already called the journal DAMAGED
snap = {r.get("identity") for r in records if r.get("step") == "sessions"}
deleted = []
for i in ids:
    with urllib.request.urlopen(f"{url}/admin/identities/{i}/sessions?page_size=500") as r:
        if json.load(r) == []:
            deleted.append(i)
unproven = [i for i in deleted if i not in snap]
line = f"{mode:4} exit {code:>3}  journal {verify:9}  sessions ended for {len(deleted):4} of {len(ids)}  without evidence {len(unproven)}"
if mode == "INT":
    summ = [r for r in records if r.get("interrupted")]
    out = open(out_path).read()
    said = None
    for l in out.splitlines():
        if "interrupted after" in l:
            said = int(l.split("interrupted after ")[1].split(" ")[0])
    done = summ[-1]["done"] if summ else None
    ok = (code == "130" and said is not None and done is not None and said == len(done)
          and sorted(done) == sorted(deleted))
    # A run that finished before the signal arrived has nothing to say about it.
    if code == "0":
        line += "  (finished before the signal)"
    else:
        line += f"  said {said} done, journal {len(done) if done is not None else None}: {'ok' if ok else 'MISMATCH'}"
print(line)
PY
}

for mode in KILL INT; do
  for run in $(seq 1 "$RUNS"); do
    rm -f "$work/incident.jsonl" "$work/double.out" "$work/ids" "$work/out"
    "$DOUBLE" --latency-ms "$LAT" --seed-identities "$N" --sessions-per-identity 2 \
      --ids-out "$work/ids" --no-validate >"$work/double.out" &
    dpid=$!
    for _ in $(seq 1 600); do
      grep -q '^listening on ' "$work/double.out" 2>/dev/null && break
      sleep 0.05
    done
    URL=$(sed -n 's/^listening on //p' "$work/double.out")
    KRATOS_ADMIN_URL=$URL ATOCTL_INCIDENT=$work/incident.jsonl ATOCTL_OPERATOR=bench \
      "$ATOCTL" revoke --stdin --yes --concurrency "$C" <"$work/ids" >"$work/out" 2>/dev/null &
    apid=$!
    delay_ms=$((RANDOM % (span_ms + 1) + 20))
    sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -s "$mode" "$apid" 2>/dev/null || true
    code=0
    { wait "$apid"; } 2>/dev/null || code=$?
    verify=missing
    if [ -f "$work/incident.jsonl" ]; then
      if "$ATOCTL" --incident "$work/incident.jsonl" incident verify >/dev/null 2>&1; then
        verify=verified
      else
        verify=DAMAGED
      fi
    fi
    check "$mode" "$code"
    if [ "$verify" = DAMAGED ] && [ -n "${KEEP:-}" ]; then
      mkdir -p "$KEEP" && cp "$work/incident.jsonl" "$KEEP/$mode-$run.jsonl"
    fi
    kill "$dpid" 2>/dev/null || true
    wait "$dpid" 2>/dev/null || true
  done
done | tee "$work/report"
echo "== $RUNS runs per signal, $N identities each"
echo "journals damaged:            $(grep -c DAMAGED "$work/report" || true)"
echo "deletions without evidence:  $(grep -o 'without evidence [0-9]*' "$work/report" | awk '{s += $3} END {print s + 0}')"
echo "SIGINT runs whose line and journal disagree: $(grep -c MISMATCH "$work/report" || true)"
