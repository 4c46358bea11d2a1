#!/usr/bin/env bash
# Whole-pipeline benchmarks on generated data, each next to a reference tool run on
# the same input in the same run. Prints events/s, the ratio, and peak memory.
# Usage: scripts/bench.sh [N]   (default N = 1000000 lines)
set -euo pipefail
N=${1:-1000000}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/metron-target}
cargo build --release --quiet
BIN=$CARGO_TARGET_DIR/release/metron
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# seconds and peak RSS (KiB) of a command, from GNU time
measure() {
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null
  cat "$WORK/time"
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }

"$BIN" generate zeek-conn -n "$N" -o "$WORK/conn.log"
"$BIN" generate suricata-eve -n "$N" -o "$WORK/eve.json"
# jq's reference input: the same number of NDJSON lines (the parsed events).
"$BIN" parse -q "$WORK/conn.log" -o "$WORK/conn.ndjson"

printf '%-36s %12s %12s %10s\n' "run ($N lines, one core)" "events/s" "seconds" "peak RSS"
report() { # name n secs rss
  printf '%-36s %12s %12s %9sM\n' "$1" "$(rate "$2" "$3")" "$3" "$(( $4 / 1024 ))"
}
read -r s_zeek m_zeek < <(measure taskset -c 0 "$BIN" parse -q --format zeek "$WORK/conn.log")
report "metron parse (zeek conn TSV)" "$N" "$s_zeek" "$m_zeek"
read -r s_eve m_eve < <(measure taskset -c 0 "$BIN" parse -q --format suricata "$WORK/eve.json")
report "metron parse (suricata EVE)" "$N" "$s_eve" "$m_eve"
read -r s_jq m_jq < <(measure taskset -c 0 jq -c . "$WORK/conn.ndjson")
report "jq -c . (same count of NDJSON)" "$N" "$s_jq" "$m_jq"
awk -v a="$s_jq" -v b="$s_zeek" -v c="$s_eve" 'BEGIN { printf "ratio vs jq: zeek TSV %.1fx, EVE %.1fx\n", a / b, a / c }'

if [ "${BENCH_10X:-0}" = 1 ]; then
  # Memory stays flat as input grows: 10x the lines, streamed from stdin.
  read -r s10 m10 < <(measure sh -c "'$BIN' generate zeek-conn -n $((N * 10)) | taskset -c 0 '$BIN' parse -q --format zeek")
  report "metron parse (zeek TSV, 10x, piped)" "$((N * 10))" "$s10" "$m10"
fi
