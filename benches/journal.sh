#!/usr/bin/env bash
# Benchmarks reading an incident journal of N entries (default 1,000,000) with the release build:
#   1. `atoctl incident verify` against `sha256sum` of the same file (hyperfine; goal: verify
#      within 1.5x, since it reads every line once and hashes every byte as sha256sum does),
#      and, for the floor of hashing alone, `openssl dgst -sha256` (which, like atoctl, uses the
#      CPU's SHA instructions where there are some; coreutils' sha256sum may not);
#   2. `atoctl report > /dev/null`, Markdown and JSON, team and owner (hyperfine);
#   3. the peak RSS of each (/usr/bin/time -v), and of the report on a journal of N notes,
#      where no row of the timeline folds (its worst case for memory).
# The journals are generated (examples/gen_journal.rs: a credential-stuffing incident whose bulk
# revoke fills N entries, every line hash-chained) under $DATA, once, and kept.
#
# Usage: benches/journal.sh [N]           (DATA=bench-data RUNS=5 to change)
# Needs: hyperfine, GNU time (/usr/bin/time), sha256sum, python3; about 1 GB per million
# entries under $DATA (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000000}
DATA=${DATA:-bench-data}
RUNS=${RUNS:-5}
JOURNAL=$DATA/journal-$N.jsonl
NOTES=$DATA/journal-notes-$N.jsonl
mkdir -p "$DATA"

command -v hyperfine >/dev/null || { echo "journal.sh: install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "journal.sh: install GNU time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin atoctl --example gen_journal
BIN=target/release/atoctl
GEN=target/release/examples/gen_journal
[ -s "$JOURNAL" ] || "$GEN" "$JOURNAL" --entries "$N"
[ -s "$NOTES" ] || "$GEN" "$NOTES" --entries "$N" --notes

echo "journal: $JOURNAL, $(wc -c <"$JOURNAL") bytes, $N entries"
echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg); $($BIN --version); $(date -u +%Y-%m-%dT%H:%M:%SZ)"

# Warm the page cache: every tool reads the same file from memory.
cat "$JOURNAL" "$NOTES" >/dev/null
"$BIN" incident verify --incident "$JOURNAL"

echo
echo "== 1. incident verify vs sha256sum"
OPENSSL=()
command -v openssl >/dev/null && OPENSSL=(-n "openssl dgst -sha256" "openssl dgst -sha256 $JOURNAL")
hyperfine -N --warmup 1 --runs "$RUNS" \
  -n "sha256sum" "sha256sum $JOURNAL" \
  -n "atoctl incident verify" "$BIN incident verify --incident $JOURNAL" \
  "${OPENSSL[@]}" \
  --export-json "$DATA/journal-verify.json" --export-markdown "$DATA/journal-verify.md"
python3 - "$DATA/journal-verify.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
v = r["atoctl incident verify"]
for name, goal in (("sha256sum", " (goal <= 1.5x)"), ("openssl dgst -sha256", "")):
    if name in r:
        s = r[name]
        print(f"verify / {name}: mean {v['mean'] / s['mean']:.2f}x, "
              f"min {v['min'] / s['min']:.2f}x{goal}")
EOF

echo
echo "== 2. report > /dev/null"
hyperfine -N --warmup 1 --runs "$RUNS" \
  -n "report (team, markdown)" "$BIN report --incident $JOURNAL" \
  -n "report (team, json)" "$BIN report --incident $JOURNAL --format json" \
  -n "report (user, markdown)" "$BIN report --incident $JOURNAL --audience user" \
  --export-markdown "$DATA/journal-report.md"

echo
echo "== 3. peak RSS"
rss() {
  local name=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$DATA/time.txt" || { cat "$DATA/time.txt" >&2; exit 1; }
  printf '%-44s %8s kB, %s (m:ss)\n' "$name" \
    "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DATA/time.txt")" \
    "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DATA/time.txt")"
}
rss "sha256sum" sha256sum "$JOURNAL"
rss "incident verify" "$BIN" incident verify --incident "$JOURNAL"
rss "report (team, markdown)" "$BIN" report --incident "$JOURNAL"
rss "report (team, json)" "$BIN" report --incident "$JOURNAL" --format json
rss "report (user, json)" "$BIN" report --incident "$JOURNAL" --audience user --format json
rss "report (team, markdown), $N notes" "$BIN" report --incident "$NOTES"
rss "report (team, json), $N notes" "$BIN" report --incident "$NOTES" --format json
