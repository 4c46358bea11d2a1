#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another, then
# minimizes each corpus. Logs and libFuzzer's final stats go to $OUT (default
# /tmp/metron-fuzz); crashes to fuzz/artifacts/TARGET/. Needs cargo-fuzz and nightly.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH=${1:-600}
OUT=${OUT:-/tmp/metron-fuzz}
mkdir -p "$OUT"
targets=${TARGETS:-"parse pcap packets stix_pattern stix_bundle feeds sigma search shape statement listen"}
for t in $targets; do
  echo "== $t ($SECONDS_EACH s)"
  cargo +nightly fuzz run "$t" -O -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=3072 -timeout=20 \
    -print_final_stats=1 > "$OUT/$t.log" 2>&1
  echo "   exit $?; $(grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$OUT/$t.log" | tr '\n' ' ')"
  grep -E '^#[0-9]+.*(DONE|cov:)' "$OUT/$t.log" | tail -1
done
for t in $targets; do
  cargo +nightly fuzz cmin "$t" -O > "$OUT/$t.cmin.log" 2>&1
  echo "== $t corpus after cmin: $(ls "corpus/$t" | wc -l) files"
done
