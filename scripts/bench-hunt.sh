#!/usr/bin/env bash
# metron hunt on a big store: time to the first screen with data (80x24), a typical
# search and a pivot, and the slowest keypress while the search runs, next to the
# same queries through `metron store query` (a new process each, like the figures
# of bench-store.sh).
#
# The store: `metron generate zeek-conn -n EVENTS | metron parse | metron store
# ingest`, then ALERTS alert records generated from a sample of those events
# (priorities, scores, 50 rules, counts) and ingested the same way.
#
# Usage: scripts/bench-hunt.sh [EVENTS [ALERTS]]   (default: 1000000 10000)
#        PROFILE=dev scripts/bench-hunt.sh ...       (the debug build; default release)
#        KEEP=DIR keeps (and reuses) the store in DIR; BIN=PATH uses that metron
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/metron-target}
N=${1:-1000000}
A=${2:-10000}
if [ -n "${BIN:-}" ]; then
  : # a metron built already
elif [ "${PROFILE:-release}" = release ]; then
  cargo build --release --quiet --bin metron
  BIN=$CARGO_TARGET_DIR/release/metron
else
  cargo build --quiet --bin metron
  BIN=$CARGO_TARGET_DIR/debug/metron
fi
if [ -n "${KEEP:-}" ]; then
  WORK=$KEEP
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
fi
S=$WORK/store
ms() { date +%s%3N; }

if [ ! -f "$S/MANIFEST.json" ]; then
  t0=$(ms)
  "$BIN" generate zeek-conn -n "$N" | "$BIN" parse -q |
    /usr/bin/time -f '%e %M' -o "$WORK/ingest.time" "$BIN" store ingest -q --store "$S"
  read -r s_in m_in < "$WORK/ingest.time"
  awk -v n="$N" -v s="$s_in" -v m="$m_in" 'BEGIN { printf "ingest (generate | parse | store ingest): %d events in %.1fs, %.0f events/s, peak RSS %d MB\n", n, s, n / s, m / 1024 }'
  # Alert records for a sample of the events.
  "$BIN" store query --store "$S" --format csv \
    "SELECT guid, timestamp, ip_src_addr, ip_dst_addr FROM events USING SAMPLE $A ROWS" |
    tail -n +2 |
    awk -F, 'BEGIN { split("HIGH MED LOW", P, " ") }
      { p = P[NR % 3 + 1]; s = (NR * 37) % 100; r = NR % 50; c = 1 + NR % 7
        printf "{\"guid\":\"bench-alert-%d\",\"source.type\":\"alert\",\"alert_id\":\"bench-%d\",\"timestamp\":%s,", NR, NR, $2
        printf "\"priority\":\"%s\",\"description\":\"generated alert %d\",\"rule\":\"rule-%d\",\"rule.name\":\"Rule %d\",", p, NR, r, r
        printf "\"designated_host\":\"%s\",\"event_guid\":\"%s\",\"event_source_type\":\"zeek.conn\",", $3, $1
        printf "\"ip_src_addr\":\"%s\",\"ip_dst_addr\":\"%s\",\"threat.triage.score\":%d,\"count\":%d,", $3, $4, s, c
        printf "\"first_timestamp\":%s,\"last_timestamp\":%s}\n", $2, $2 }' |
    "$BIN" store ingest -q --store "$S"
  echo "built a store of $N events and $A alerts in $(( ($(ms) - t0) / 1000 ))s: $WORK"
fi
"$BIN" store stats --store "$S" | head -4

SEARCH=${SEARCH:-"ip_src_addr in 10.0.0.0/8 ip_dst_port=22"}
echo
echo "hunt --bench (first screen drawn into 80x24 with data; search; keys while it runs; pivot), 3 runs:"
for i in 1 2 3; do
  out=$("$BIN" hunt --store "$S" --bench "$SEARCH")
  echo "$out" | sed 's/^/  /'
done
pivot=$(echo "$out" | sed -n 's/^pivot_ms=.* pivot=//p')
ip=$(echo "$pivot" | sed -n "s/^ip_src_addr='\([^']*\)'.*/\1/p")
lo=$(echo "$pivot" | sed -n 's/.* since \([0-9-]*\) until.*/\1/p')
hi=$(echo "$pivot" | sed -n 's/.* until \([0-9-]*\)$/\1/p')

# The common hunting searches: an address, a CIDR and a port, a community_id, a time
# range, one source's view; each through the console's worker (hunt --bench), best of 3.
cid=$("$BIN" store query --store "$S" --format csv "SELECT community_id FROM events WHERE community_id IS NOT NULL LIMIT 1" | tail -1)
echo
echo "searches (console, first 1,000 rows by time), best of 3:"
for q in "ip_src_addr=$ip" "ip_src_addr in 10.0.0.0/8 ip_dst_port=22" "community_id='$cid'" \
  "since $lo until $hi" "in:zeek_conn duration>10 conn_state=SF"; do
  b=999999
  for i in 1 2 3; do
    t=$("$BIN" hunt --store "$S" --bench "$q" | sed -n 's/^search_ms=\([0-9]*\).*rows=\([0-9]*\).*/\1 \2/p')
    set -- $t
    [ "$1" -lt "$b" ] && b=$1 && rows=$2
  done
  printf '  %-52s %6s ms  %5s rows\n' "$q" "$b" "$rows"
done

q_queue="SELECT alert_id, coalesce(last_timestamp, \"timestamp\") AS t, \"threat.triage.score\" AS score, priority, status, coalesce(\"rule.name\", rule) AS rule, description, ip_src_addr, ip_dst_addr, \"count\", meta_alert, assignee, event_guid FROM alerts WHERE status NOT IN ('DISMISS', 'RESOLVE') ORDER BY score DESC NULLS LAST, t DESC NULLS LAST, alert_id LIMIT 2000"
q_search="SELECT * FROM events WHERE ip_src_addr LIKE '10.%' AND CAST(ip_dst_port AS VARCHAR) = '22' ORDER BY \"timestamp\" DESC NULLS LAST LIMIT 1000"
q_pivot="SELECT * FROM events WHERE CAST(ip_src_addr AS VARCHAR) = '$ip' AND \"timestamp\" >= $lo AND \"timestamp\" < $hi ORDER BY \"timestamp\" DESC NULLS LAST LIMIT 1000"
echo
echo "the same queries through metron store query (process start included), 3 runs each:"
for name in queue search pivot; do
  eval "q=\$q_$name"
  times=""
  for i in 1 2 3; do
    t0=$(ms)
    "$BIN" store query --store "$S" --format ndjson "$q" > /dev/null
    times="$times $(( $(ms) - t0 ))ms"
  done
  printf '  %-7s%s\n' "$name" "$times"
done
