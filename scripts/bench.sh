#!/usr/bin/env bash
# Whole-pipeline benchmarks on generated data, each next to a reference tool run on
# the same input in the same run. Prints events/s, the ratio, and peak memory.
# Usage: scripts/bench.sh [N]   (default N = 1000000 lines)
set -euo pipefail
N=${1:-1000000}
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
cargo build --release --quiet
BIN=$CARGO_TARGET_DIR/release/metron

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

# enrich: GeoIP City + ASN + an asset inventory + internal networks on the parsed events
{
  echo "ip,name,owner,type,asset_value"
  echo "10.0.0.0/8,corp,it,network,1"
  for a in 0 1 2 3; do for b in $(seq 0 254); do echo "10.$a.$b.0/24,subnet-$a-$b,team-$((b % 17)),subnet,2"; done; done
  for i in $(seq 1 254); do echo "10.0.7.$i,srv-$i,ops,server,$((i % 10))"; done
} > "$WORK/assets.csv"
MMDB=testdata/mmdb
read -r s_enr m_enr < <(measure taskset -c 0 "$BIN" enrich -q --geoip $MMDB/GeoIP2-City-Test.mmdb \
  --asn $MMDB/GeoLite2-ASN-Test.mmdb --assets "$WORK/assets.csv" --internal 10.0.0.0/8,192.168.0.0/16 \
  "$WORK/conn.ndjson")
report "metron enrich (geo+asn+assets+net)" "$N" "$s_enr" "$m_enr"

# label: the same events against N generated indicators (~1% hits), load included
"$BIN" generate intel -n "$N" -o "$WORK/intel.txt"
read -r s_load m_load < <(measure taskset -c 0 "$BIN" label -q --check --intel "$WORK/intel.txt")
report "metron label (load $N indicators)" "$N" "$s_load" "$m_load"
read -r s_label m_label < <(measure taskset -c 0 "$BIN" label -q --intel "$WORK/intel.txt" "$WORK/conn.ndjson")
report "metron label (zeek conn, ~1% hits)" "$N" "$s_label" "$m_label"

# alert: SigmaHQ's network rules on parsed Suricata events
"$BIN" parse -q "$WORK/eve.json" -o "$WORK/eve.ndjson"
read -r s_alert m_alert < <(measure taskset -c 0 "$BIN" alert -q --rules testdata/sigma/network \
  --alerts /dev/null "$WORK/eve.ndjson")
report "metron alert (sigma network rules)" "$N" "$s_alert" "$m_alert"
# alert's goal: 100 Sigma rules (the network rules over and over, each with an id and
# title of its own) plus a few rules of every other kind, as in benches/alert.rs
mkdir -p "$WORK/rules/sigma"
shipped=()
while IFS= read -r f; do shipped+=("$f"); done < <(LC_ALL=C ls testdata/sigma/network/*.yml)
for i in $(seq 0 99); do
  sed -e "s/^id: .*/id: bench-$i/" -e "s/^title: \(.*\)/title: \1 #$i/" "${shipped[$((i % ${#shipped[@]}))]}" \
    > "$WORK/rules/sigma/r$(printf %03d "$i").yml"
done
block=$(for i in $(seq 0 199); do printf '"203.0.%d.%d/32", ' $((i / 250)) $((i % 250)); done)
cat > "$WORK/rules/ours.yml" <<EOF
rules:
  - {id: ids, kind: all, source_types: [suricata.alert, snort]}
  - {id: intel, kind: intel}
  - {id: block, kind: list, block: [${block%, }]}
  - {id: outside, kind: list, fields: [ip_src_addr], allow: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]}
  - id: words
    kind: keyword
    keywords: [mimikatz, cobaltstrike, "powershell -enc", ".onion", "xmrig", "ngrok.io"]
    fields: [dns.rrname, http.hostname, query, uri]
  - {id: c2-port, kind: expression, expression: 'e[?"ip_dst_port"].orValue(0) == 4444'}
EOF
read -r s_al100 m_al100 < <(measure taskset -c 0 "$BIN" alert -q --rules "$WORK/rules" --alerts /dev/null "$WORK/eve.ndjson")
report "metron alert (100 sigma + 6 others)" "$N" "$s_al100" "$m_al100"
read -r s_jqeve m_jqeve < <(measure taskset -c 0 jq -c . "$WORK/eve.ndjson")
report "jq -c . (parsed EVE events)" "$N" "$s_jqeve" "$m_jqeve"
awk -v a="$s_jq" -v e="$s_enr" -v l="$s_label" -v j="$s_jqeve" -v al="$s_alert" -v h="$s_al100" \
  'BEGIN { printf "ratio vs jq: enrich %.1fx, label %.1fx, alert %.1fx (100 sigma rules %.1fx)\n", a / e, a / l, j / al, j / h }'

# profile: every detection on the parsed Zeek conn events (random pairs: the hardest
# shape, every pair a new entry), and on a generated day of traffic (hundreds of hosts,
# busy pairs, injections: what users' logs look like)
read -r s_prof m_prof < <(measure taskset -c 0 "$BIN" profile -q --only-findings "$WORK/conn.ndjson")
report "metron profile (zeek conn, all)" "$N" "$s_prof" "$m_prof"
"$BIN" generate traffic -q -n "$N" | "$BIN" parse -q -o "$WORK/traffic.ndjson"
read -r s_proft m_proft < <(measure taskset -c 0 "$BIN" profile -q --only-findings "$WORK/traffic.ndjson")
report "metron profile (traffic day, all)" "$N" "$s_proft" "$m_proft"
read -r s_jqt m_jqt < <(measure taskset -c 0 jq -c . "$WORK/traffic.ndjson")
report "jq -c . (traffic day events)" "$N" "$s_jqt" "$m_jqt"
awk -v a="$s_jq" -v p="$s_prof" -v t="$s_jqt" -v q="$s_proft" \
  'BEGIN { printf "ratio vs jq: profile zeek conn %.1fx, traffic day %.1fx\n", a / p, t / q }'

# capture: a generated pcap of at least 1,000,000 packets to flows, next to tshark's
# conversation table on the same file (skipped with a note when tshark is missing).
P=$(( N > 1000000 ? N : 1000000 ))
"$BIN" generate pcap -n "$P" -o "$WORK/bench.pcap"
PCAP_MB=$(awk -v b="$(stat -c %s "$WORK/bench.pcap")" 'BEGIN { printf "%.1f", b / 1e6 }')
read -r s_cap m_cap < <(measure taskset -c 0 "$BIN" capture -q -r "$WORK/bench.pcap")
report "metron capture -r (pcap to flows)" "$P" "$s_cap" "$m_cap"
awk -v mb="$PCAP_MB" -v s="$s_cap" 'BEGIN { if (s <= 0) s = 0.001; printf "metron capture: %.0f MB/s of pcap (%s MB)\n", mb / s, mb }'
read -r s_capp m_capp < <(measure taskset -c 0 "$BIN" capture -q --emit packets -r "$WORK/bench.pcap")
report "metron capture -r --emit packets" "$P" "$s_capp" "$m_capp"
read -r s_capw m_capw < <(measure taskset -c 0 "$BIN" capture -q -r "$WORK/bench.pcap" --write "$WORK/store")
report "metron capture -r --write DIR" "$P" "$s_capw" "$m_capw"
# DNS transactions too (18% of the generated flows are DNS exchanges, 2 packets each).
read -r s_capd m_capd < <(measure taskset -c 0 "$BIN" capture -q --emit flows,dns -r "$WORK/bench.pcap")
report "metron capture -r --emit flows,dns" "$P" "$s_capd" "$m_capd"
awk -v a="$s_capd" -v b="$s_cap" 'BEGIN { printf "flows,dns / flows time: %.2fx\n", a / b }'
if command -v tshark >/dev/null; then
  # (tshark's stderr only warns about running as root)
  read -r s_ts m_ts < <(measure taskset -c 0 tshark -q -z conv,ip -r "$WORK/bench.pcap" 2>/dev/null)
  report "tshark -q -z conv,ip -r (same pcap)" "$P" "$s_ts" "$m_ts"
  awk -v a="$s_ts" -v b="$s_cap" 'BEGIN { printf "ratio vs tshark: capture %.1fx\n", a / b }'
  # The same DNS fields dissected by tshark (every packet read, DNS ones printed).
  read -r s_tsd m_tsd < <(measure taskset -c 0 sh -c "tshark -r '$WORK/bench.pcap' -Y dns -T fields \
    -e dns.id -e dns.qry.name -e dns.qry.type -e dns.flags.rcode -e dns.a -e dns.cname -e dns.resp.ttl >/dev/null 2>&1")
  report "tshark -Y dns -T fields (same pcap)" "$P" "$s_tsd" "$m_tsd"
  awk -v a="$s_tsd" -v b="$s_capd" 'BEGIN { printf "ratio vs tshark: capture --emit flows,dns %.1fx\n", a / b }'
else
  echo "tshark not installed: no capture comparison (apt-get install -y tshark)"
fi

# Application records on short flows: DNS, HTTP (split, reordered, pipelined), TLS and
# SSH exchanges of a few packets each, written by testdata/pcaps/make-app-pcap.py.
python3 testdata/pcaps/make-app-pcap.py 200 > "$WORK/app.pcap"
AP=$("$BIN" capture -r "$WORK/app.pcap" --emit packets 2>/dev/null | wc -l)
read -r s_af m_af < <(measure taskset -c 0 "$BIN" capture -q -r "$WORK/app.pcap")
report "metron capture (app pcap, flows)" "$AP" "$s_af" "$m_af"
read -r s_aa m_aa < <(measure taskset -c 0 "$BIN" capture -q --emit flows,dns,http,tls,ssh -r "$WORK/app.pcap")
report "metron capture --emit flows,dns,http,tls,ssh" "$AP" "$s_aa" "$m_aa"
awk -v a="$s_aa" -v b="$s_af" 'BEGIN { printf "all records / flows time (app pcap): %.2fx\n", a / b }'
if command -v tshark >/dev/null; then
  # tshark dissecting the same fields, out-of-order segments reassembled as metron does.
  read -r s_tsa m_tsa < <(measure taskset -c 0 sh -c "tshark -r '$WORK/app.pcap' -o tcp.reassemble_out_of_order:TRUE \
    -Y 'dns || http || tls.handshake || ssh.kex.hassh || ssh.kex.hasshserver' -T fields -e dns.qry.name -e http.host \
    -e http.request.uri -e http.response.code -e tls.handshake.extensions_server_name -e tls.handshake.ja3 \
    -e tls.handshake.ja3s -e ssh.kex.hassh >/dev/null 2>&1")
  report "tshark -T fields (same fields, app pcap)" "$AP" "$s_tsa" "$m_tsa"
  awk -v a="$s_tsa" -v b="$s_aa" 'BEGIN { printf "ratio vs tshark: capture --emit flows,dns,http,tls,ssh %.1fx\n", a / b }'
fi

if [ "${BENCH_10X:-0}" = 1 ]; then
  # Memory stays flat as input grows: 10x the lines, streamed from stdin.
  read -r s10 m10 < <(measure sh -c "'$BIN' generate zeek-conn -n $((N * 10)) | taskset -c 0 '$BIN' parse -q --format zeek")
  report "metron parse (zeek TSV, 10x, piped)" "$((N * 10))" "$s10" "$m10"
  read -r s10p m10p < <(measure sh -c "'$BIN' generate zeek-conn -n $((N * 10)) | '$BIN' parse -q --format zeek \
    | taskset -c 0 '$BIN' profile -q --only-findings")
  report "metron profile (zeek conn, 10x, piped)" "$((N * 10))" "$s10p" "$m10p"
fi
