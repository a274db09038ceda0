#!/usr/bin/env bash
# Benchmarks `atoctl hibp-check --offline` on a generated corpus of at least 50,000,000 lines:
#   1. one lookup as a whole process, against util-linux `look` on the same file (hyperfine):
#      the static release build (`cargo build-static`, the file that ships) and, for comparison,
#      the dynamically linked `cargo build --release`;
#   2. in-process lookups, warm (benches/hibp_lookup.rs);
#   3. `--sha1-file` with 100,000 hashes in one run (hyperfine), as lookups per second.
#
# Usage: benches/hibp.sh            (LINES=50000000 DATA=bench-data RUNS=300 to change)
#        PRIO="chrt -f 1" benches/hibp.sh   measures with real-time priority, i.e. without the
#        interference of other jobs on a shared machine (root; every measured run is short).
# Needs: hyperfine, look (util-linux), about 2.5 GB free under $DATA (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

PRIO=${PRIO:-}
DATA=${DATA:-bench-data}
LINES=${LINES:-50000000}
RUNS=${RUNS:-300}
CORPUS=$DATA/pwned-sha1-$LINES.txt
QUERIES=$DATA/queries-$LINES.txt
PRESENT=$DATA/present-$LINES.txt
mkdir -p "$DATA"

command -v hyperfine >/dev/null || { echo "hibp.sh: install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
command -v look >/dev/null || { echo "hibp.sh: install util-linux (look)" >&2; exit 2; }

cargo build --release --quiet --bin atoctl --example gen_pwned_corpus
cargo build-static --quiet
BENCH_BIN=$(cargo bench --bench hibp_lookup --no-run 2>&1 | grep -o 'target/release/deps/hibp_lookup-[0-9a-f]*' | head -n1)
BIN=target/x86_64-unknown-linux-gnu/release/atoctl
DYN=target/release/atoctl
if [ ! -s "$CORPUS" ]; then
  target/release/examples/gen_pwned_corpus "$CORPUS" --lines "$LINES" \
    --queries "$QUERIES" --present "$PRESENT"
fi
echo "corpus: $CORPUS, $(wc -c <"$CORPUS") bytes, $LINES lines"
echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg); $($BIN --version); priority: ${PRIO:-normal}"

# Warm the page cache: both tools are measured on a warm file, as on a server that checks often.
cat "$CORPUS" >/dev/null

HASH=$(sed -n 1234p "$PRESENT")
ABSENT=$(grep -v -F -x -f "$PRESENT" "$QUERIES" | sed -n 1p)

echo
echo "== 1. one lookup, whole process: atoctl vs look (found, then absent)"
# atoctl exits 4 for "found": -i keeps hyperfine going.
$PRIO hyperfine -N -i --warmup 30 --runs "$RUNS" \
  -n "atoctl --version (startup floor)" "$BIN --version" \
  -n "atoctl (found)" "$BIN hibp-check --offline $CORPUS --sha1 $HASH" \
  -n "look (found)" "look $HASH: $CORPUS" \
  -n "atoctl (absent)" "$BIN hibp-check --offline $CORPUS --sha1 $ABSENT" \
  -n "look (absent)" "look $ABSENT: $CORPUS" \
  -n "atoctl dynamically linked (found)" "$DYN hibp-check --offline $CORPUS --sha1 $HASH" \
  --export-markdown "$DATA/bench-process.md"

echo
echo "== 2. in-process lookups, warm"
HIBP_CORPUS=$CORPUS HIBP_QUERIES=$QUERIES $PRIO "$BENCH_BIN"

echo
echo "== 3. --sha1-file with $(wc -l <"$QUERIES") hashes in one run"
$PRIO hyperfine -N -i --warmup 2 --runs 10 \
  -n "atoctl --sha1-file" "$BIN hibp-check --offline $CORPUS --sha1-file $QUERIES" \
  --output=null --export-json "$DATA/bench-batch.json"
python3 - "$DATA/bench-batch.json" "$(wc -l <"$QUERIES")" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
n = int(sys.argv[2])
print(f"--sha1-file: mean {r['mean']*1e3:.1f} ms for {n} hashes = {n / r['mean']:,.0f} lookups/s "
      f"(min {r['min']*1e3:.1f} ms = {n / r['min']:,.0f} lookups/s)")
EOF
