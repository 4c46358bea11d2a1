#!/usr/bin/env bash
# Regenerates the tshark oracles in this folder (see SOURCE.md). Needs tshark (4.0.17 made them).
set -euo pipefail
cd "$(dirname "$0")"
for f in *.pcap *.pcapng; do
  tshark -r "$f" -q -z conv,tcp -z conv,udp > "$f.tshark-conv-tcp-udp.txt" 2>&1 || true
  tshark --enable-protocol communityid -r "$f" -T fields -e frame.number -e communityid \
    > "$f.tshark-communityid.tsv" 2>/dev/null || true
done
mkdir -p roundtrip
# Round trip: the packets of one flow, chosen by Community ID, as tshark selects them.
while read -r f id; do
  tshark --enable-protocol communityid -r "$f" -Y "communityid == \"$id\"" -F pcap \
    -w "roundtrip/$f.$(echo "$id" | tr '/+=:' '_-__').pcap" 2>/dev/null
  echo -e "$f\t$id\troundtrip/$f.$(echo "$id" | tr '/+=:' '_-__').pcap"
done < roundtrip.wanted > roundtrip/INDEX.tsv
