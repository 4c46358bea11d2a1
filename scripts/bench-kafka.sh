#!/usr/bin/env bash
# Kafka between stages: parse -> Kafka -> enrich -> Kafka -> store ingest over N Zeek conn
# lines, each stage timed on its own (so the per-stage cost of Kafka shows), then the
# whole chain running at once with one and with two enrich consumers, next to the same
# stages piped without Kafka in the same run. The broker is tansu (memory storage) on
# loopback, on this same machine: its work shares the two cores with metron's.
# Usage: scripts/bench-kafka.sh [N]   (default N = 1000000)
# Needs tansu (cargo install tansu --locked --features dynostore,libsql) and a kafka build.
set -euo pipefail
N=${1:-1000000}
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
if [ -n "${METRON_BIN:-}" ]; then BIN=$METRON_BIN; else
  cargo build --release --quiet --features kafka
  BIN=$CARGO_TARGET_DIR/release/metron
fi
TANSU=${TANSU:-tansu}
PORT=${PORT:-19092}
B=127.0.0.1:$PORT

"$TANSU" broker --listener-url "tcp://$B" --advertised-listener-url "tcp://$B" \
  --storage-engine memory://tansu/ >"$WORK/tansu.log" 2>&1 &
TANSU_PID=$!
trap 'kill -9 $TANSU_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
for t in raw enriched enriched2 devnull; do
  "$TANSU" topic create $t --partitions 4 --broker "tcp://$B" >/dev/null
done

"$BIN" generate zeek-conn -n "$N" --seed 11 -o "$WORK/conn.log"
E="--internal 10.0.0.0/8"
q=--quiet

printf '%-58s %12s %9s %9s\n' "run ($N Zeek conn lines)" "events/s" "seconds" "peak RSS"
row() { printf '%-58s %12s %9.2f %8sM\n' "$1" "$(rate "$N" "$2")" "$2" "$(( $3 / 1024 ))"; }
timed() { local label=$1; shift; read -r s kb < <(measure "$@"); row "$label" "$s" "$kb"; }

# Each stage alone: files, then Kafka.
timed "parse file -> file" "$BIN" $q parse -f zeek "$WORK/conn.log" -o "$WORK/parsed.ndjson"
timed "parse file -> kafka" "$BIN" $q parse -f zeek "$WORK/conn.log" -o "kafka://$B/raw"
timed "enrich file -> file" "$BIN" $q enrich $E "$WORK/parsed.ndjson" -o "$WORK/enriched.ndjson"
timed "enrich kafka -> kafka (1 consumer)" "$BIN" $q enrich $E "kafka://$B/raw?group=e1&eof=true" -o "kafka://$B/enriched"
timed "enrich kafka -> /dev/null (1 consumer, reading only)" "$BIN" $q enrich $E "kafka://$B/raw?group=e0&eof=true" -o /dev/null
timed "store ingest file" "$BIN" $q store --store "$WORK/s1" ingest "$WORK/enriched.ndjson"
timed "store ingest kafka" "$BIN" $q store --store "$WORK/s2" ingest "kafka://$B/enriched?group=s&eof=true"

# Two enrich consumers in one group, each given two of the four partitions.
start=$(date +%s.%N)
"$BIN" $q enrich $E "kafka://$B/raw?group=e2&eof=true" -o "kafka://$B/enriched2" &
a=$!
"$BIN" $q enrich $E "kafka://$B/raw?group=e2&eof=true" -o "kafka://$B/enriched2" &
b=$!
wait $a $b
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
row "enrich kafka -> kafka (2 consumers, one group)" "$secs" 0

# The chain at once: piped, and through Kafka (parse, enrich, store running together).
start=$(date +%s.%N)
"$BIN" $q parse -f zeek "$WORK/conn.log" | "$BIN" $q enrich $E | "$BIN" $q store --store "$WORK/s3" ingest
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
row "parse | enrich | store ingest (pipes)" "$secs" 0
for t in raw3 enriched3; do "$TANSU" topic create $t --partitions 4 --broker "tcp://$B" >/dev/null; done
start=$(date +%s.%N)
"$BIN" $q enrich $E "kafka://$B/raw3?group=c" -o "kafka://$B/enriched3" &
en=$!
"$BIN" $q store --store "$WORK/s4" ingest "kafka://$B/enriched3?group=c" &
st=$!
"$BIN" $q parse -f zeek "$WORK/conn.log" -o "kafka://$B/raw3"
# The consumers run until told; stop each once its group has caught up.
until [ "$("$BIN" store --store "$WORK/s4" query --format csv 'SELECT count(*) FROM events' 2>/dev/null | tail -1)" = "$N" ]; do
  sleep 1
done
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
kill -TERM $en $st; wait $en $st || true
row "parse -> kafka -> enrich -> kafka -> store (at once)" "$secs" 0
