#!/usr/bin/env bash
# The store next to DuckDB on its own, on the same generated events in the same run:
# ingest events/s next to DuckDB's CREATE TABLE ... AS SELECT * FROM read_json(...);
# bytes per event next to the same events as one zstd Parquet file written by DuckDB;
# five hunting queries through `metron store query` next to the official DuckDB build
# (the Python package, installed if missing) over the store's own segment files.
# Usage: scripts/bench-store.sh [N...]   (default: 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
# METRON_BIN and REF_BIN name binaries built already (another DuckDB build's, say).
[ -n "${METRON_BIN:-}" ] || cargo build --release --quiet --bin metron --example duckdb_ref
# The official DuckDB build, for the queries' reference.
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
BIN=${METRON_BIN:-$CARGO_TARGET_DIR/release/metron}
REF=${REF_BIN:-$CARGO_TARGET_DIR/release/examples/duckdb_ref}
report() { printf '%-44s %12s %9ss %9sM\n' "$1" "$(rate "$2" "$3")" "$3" "$(( $4 / 1024 ))"; }

for N in "${@:-1000000}"; do
  rm -rf "$WORK"/*
  # Zeek conn events and Suricata events (alerts, dns, http, flow), half each.
  "$BIN" generate zeek-conn -n $((N / 2)) | "$BIN" parse -q > "$WORK/events.ndjson"
  "$BIN" generate suricata-eve -n $((N / 2)) | "$BIN" parse -q >> "$WORK/events.ndjson"
  echo
  printf '%-44s %12s %10s %10s\n' "store, $N events (both cores)" "events/s" "time" "peak RSS"
  read -r s_in m_in < <(measure "$BIN" store ingest -q --store "$WORK/store" "$WORK/events.ndjson")
  report "metron store ingest" "$N" "$s_in" "$m_in"
  read -r s_db m_db < <(measure "$REF" import "$WORK/events.ndjson" "$WORK/ref.duckdb")
  report "duckdb CREATE TABLE AS read_json (same file)" "$N" "$s_db" "$m_db"
  awk -v a="$s_in" -v b="$s_db" 'BEGIN { printf "ingest time / duckdb import time: %.2fx\n", a / b }'
  # The official build (the Python package), on the same import: the bundled library
  # is built at -O3 as DuckDB's own release is (Cargo.toml), so the two should agree.
  if python3 -c 'import duckdb' 2>/dev/null; then
    read -r s_py m_py < <(measure python3 -c "import duckdb, sys
c = duckdb.connect(sys.argv[2]); c.execute('SET enable_progress_bar = false')
c.execute(\"CREATE TABLE t AS SELECT * FROM read_json(?, sample_size = -1)\", [sys.argv[1]])" \
      "$WORK/events.ndjson" "$WORK/py.duckdb")
    report "same import, official duckdb $(python3 -c 'import duckdb; print(duckdb.__version__)')" "$N" "$s_py" "$m_py"
    rm -f "$WORK/py.duckdb"
  fi

  "$REF" parquet "$WORK/events.ndjson" "$WORK/ref.parquet" >/dev/null
  # The live event segments (what MANIFEST.json names). The segments compaction
  # replaced stay on disk for 10 minutes for readers still using them (TRASH_GRACE_MS).
  store_bytes=$(jq '[.events[].bytes] | add' "$WORK/store/MANIFEST.json")
  disk_bytes=$(du -sb "$WORK/store/events" | cut -f1)
  pq_bytes=$(stat -c %s "$WORK/ref.parquet")
  awk -v s="$store_bytes" -v p="$pq_bytes" -v n="$N" -v d="$disk_bytes" \
    'BEGIN { printf "bytes per event: store %.1f, duckdb zstd parquet %.1f (%.2fx); %.1f on disk until the replaced segments go\n", s / n, p / n, s / p, d / n }'

  ip=$("$BIN" store query --store "$WORK/store" --format csv \
    "SELECT ip_src_addr FROM events WHERE ip_src_addr IS NOT NULL LIMIT 1" | tail -1)
  range=$("$BIN" store query --store "$WORK/store" --format csv \
    "SELECT min(timestamp) + (max(timestamp) - min(timestamp)) / 4, min(timestamp) + (max(timestamp) - min(timestamp)) / 2 FROM events" | tail -1)
  lo=${range%,*}; hi=${range#*,}
  q1='SELECT "source.type", count(*) FROM events GROUP BY 1 ORDER BY 2 DESC'
  q2="SELECT * FROM events WHERE (ip_src_addr = '$ip' OR ip_dst_addr = '$ip') AND timestamp BETWEEN $lo AND $hi"
  q3='SELECT ip_src_addr, ip_dst_addr, count(*) AS n FROM events GROUP BY 1, 2 ORDER BY n DESC LIMIT 10'
  q4='SELECT ip_src_addr, count(DISTINCT ip_dst_addr) AS n FROM events GROUP BY 1 ORDER BY n DESC LIMIT 10'
  q5='SELECT conn_state, quantile_cont(duration, 0.95) AS p95 FROM zeek_conn GROUP BY 1 ORDER BY 1'
  # The official DuckDB (the Python package, DuckDB's release build) over the store's
  # own segment files, through the very views metron's reader makes; each query a new
  # process for both, less that process's time for `SELECT 1` (start, open, views).
  "$BIN" store query --store "$WORK/store" --format ndjson \
    "SELECT sql FROM duckdb_views() WHERE NOT internal ORDER BY view_name NOT IN ('events', 'alert_records', 'errors', 'triage', 'searches'), view_name = 'alerts'" |
    jq -s '[.[].sql]' > "$WORK/views.json"
  best() { # best wall time of 3 runs of a command, in seconds
    local b=999 t
    for _ in 1 2 3; do
      t=$( { /usr/bin/time -f '%e' "$@" >/dev/null; } 2>&1 | tail -1 )
      b=$(awk -v a="$b" -v t="$t" 'BEGIN { print (t < a) ? t : a }')
    done
    echo "$b"
  }
  m0=$(best "$BIN" store query --store "$WORK/store" --format ndjson "SELECT 1")
  p0=$(best python3 scripts/duckdb-official.py "$WORK/views.json" "SELECT 1")
  echo "process start, open and views (SELECT 1): metron ${m0}s, official duckdb ${p0}s; subtracted below"
  for q in "$q1" "$q2" "$q3" "$q4" "$q5"; do
    s_q=$(best "$BIN" store query --store "$WORK/store" --format ndjson "$q")
    s_p=$(best python3 scripts/duckdb-official.py "$WORK/views.json" "$q")
    awk -v a="$s_q" -v b="$s_p" -v a0="$m0" -v b0="$p0" -v q="${q:0:60}" \
      'BEGIN { a -= a0; b -= b0; if (a < 0.005) a = 0.005; if (b < 0.005) b = 0.005
               printf "query %-62s store %6.2fs  official duckdb %6.2fs  (%.2fx)\n", q, a, b, a / b }'
  done
done
