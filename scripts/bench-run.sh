#!/usr/bin/env bash
# `metron run --once` (sources, stages and store fused in one process) next to the same
# stages piped (`parse | enrich | ... | store ingest`), on the same generated Zeek conn
# log, each into a fresh store, in the same run; both use both cores. Then the official
# DuckDB Python package importing the same events as NDJSON, for scale.
# Usage: scripts/bench-run.sh [N]   (default N = 1000000 lines)
set -euo pipefail
N=${1:-1000000}
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
release_bin
MMDB=$PWD/testdata/mmdb
mkdir -p "$WORK/logs"
"$BIN" generate zeek-conn -n "$N" -o "$WORK/logs/conn.log"
"$BIN" generate intel -n 100000 -o "$WORK/intel.txt"
mkdir -p "$WORK/rules"
cat > "$WORK/rules/rules.yml" <<'RULES'
rules:
  - id: intel
    kind: intel
  - id: rdp
    kind: expression
    expression: 'e["ip_dst_port"] == 3389'
RULES

config() { # stages...
  local stages
  stages=$(printf '"%s",' "$@")
  cat <<TOML
[store]
dir = "$WORK/store"
[enrich]
geoip = "$MMDB/GeoIP2-City-Test.mmdb"
asn = "$MMDB/GeoLite2-ASN-Test.mmdb"
internal = ["10.0.0.0/8", "192.168.0.0/16"]
[label]
intel = ["$WORK/intel.txt"]
[alert]
rules = ["$WORK/rules"]
[[run.source]]
follow = "$WORK/logs"
format = "zeek"
[run]
stages = [${stages%,}]
TOML
}

printf '%-44s %12s %9s %10s\n' "run ($N zeek conn lines, 2 cores)" "events/s" "seconds" "peak RSS"
report() { printf '%-44s %12s %9s %9sM\n' "$1" "$(rate "$N" "$2")" "$2" "$(( $3 / 1024 ))"; }

for stages in "enrich" "enrich label alert"; do
  # shellcheck disable=SC2086
  config $stages > "$WORK/metron.toml"
  rm -rf "$WORK/store"
  read -r s_run m_run < <(measure "$BIN" -q --config "$WORK/metron.toml" run --once)
  stored=$("$BIN" store query --store "$WORK/store" --format csv 'SELECT count(*) FROM events' | tail -1)
  report "metron run --once: $stages" "$s_run" "$m_run"
  rm -rf "$WORK/store"
  pipe="$BIN -q --config $WORK/metron.toml parse --format zeek $WORK/logs/conn.log"
  for s in $stages; do pipe="$pipe | $BIN -q --config $WORK/metron.toml $s"; done
  pipe="$pipe | $BIN -q --config $WORK/metron.toml store ingest"
  read -r s_pipe m_pipe < <(measure sh -c "$pipe")
  report "piped: parse | ${stages// / | } | store ingest" "$s_pipe" "$m_pipe"
  awk -v a="$s_pipe" -v b="$s_run" -v n="$stored" \
    'BEGIN { printf "  run is %.2fx the pipes (%s events stored)\n", a / b, n }'
done

# For scale: DuckDB's own NDJSON import of the parsed events (installed if missing).
if python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb >/dev/null 2>&1; then
  "$BIN" parse -q --format zeek "$WORK/logs/conn.log" -o "$WORK/conn.ndjson"
  read -r s_duck m_duck < <(measure python3 -c "
import duckdb, sys
c = duckdb.connect()
c.execute(\"COPY (SELECT * FROM read_json('$WORK/conn.ndjson', format='newline_delimited')) TO '$WORK/duck.parquet' (FORMAT parquet, COMPRESSION zstd)\")
")
  report "duckdb (python) NDJSON -> zstd parquet" "$s_duck" "$m_duck"
fi
