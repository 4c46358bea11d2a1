#!/usr/bin/env bash
# `store ingest` next to the official DuckDB release (the Python package) turning the
# same NDJSON file into zstd Parquet, on two shapes of events, in the same run:
#   small  Zeek conn events (parse's direct path: flat, about 400 bytes)
#   large  Suricata EVE events (alerts, dns, http, tls, flow: nested, about 1 KB)
# Prints events/s and peak RSS for both, the time ratio, and bytes per event of the
# store's live segments next to DuckDB's one Parquet file.
# Usage: scripts/bench-ingest.sh [N...]   (default: 400000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
release_bin
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
report() { printf '%-52s %10s/s %8ss %7sM\n' "$1" "$(rate "$2" "$3")" "$3" "$(( $4 / 1024 ))"; }

for N in "${@:-400000}"; do
  for shape in small large; do
    rm -rf "${WORK:?}"/*
    case $shape in
      small) "$BIN" generate zeek-conn -n "$N" | "$BIN" parse -q -f zeek > "$WORK/events.ndjson" ;;
      large) "$BIN" generate suricata-eve -n "$N" | "$BIN" parse -q > "$WORK/events.ndjson" ;;
    esac
    size=$(stat -c %s "$WORK/events.ndjson")
    echo
    echo "$shape events: $N, $(( size / N )) bytes each as NDJSON"
    read -r s_in m_in < <(measure "$BIN" store ingest -q --store "$WORK/store" "$WORK/events.ndjson")
    report "metron store ingest" "$N" "$s_in" "$m_in"
    read -r s_py m_py < <(measure python3 -c "import duckdb, sys
c = duckdb.connect(); c.execute('SET enable_progress_bar = false')
c.execute(\"COPY (SELECT * FROM read_json(?)) TO '\" + sys.argv[2] + \"' (FORMAT parquet, COMPRESSION zstd)\", [sys.argv[1]])" \
      "$WORK/events.ndjson" "$WORK/ref.parquet")
    report "official duckdb $(python3 -c 'import duckdb; print(duckdb.__version__)'): read_json -> zstd parquet" "$N" "$s_py" "$m_py"
    store_bytes=$(python3 -c "import json, sys; print(sum(s['bytes'] for s in json.load(open(sys.argv[1]))['events']))" "$WORK/store/MANIFEST.json")
    pq_bytes=$(stat -c %s "$WORK/ref.parquet")
    awk -v a="$s_in" -v b="$s_py" -v s="$store_bytes" -v p="$pq_bytes" -v n="$N" \
      'BEGIN { printf "ingest time / duckdb time: %.2fx; bytes per event: store %.1f, duckdb %.1f (%.2fx)\n", a / b, s / n, p / n, s / p }'
  done
done
