#!/usr/bin/env bash
# Regenerates the tshark oracles in this folder (see SOURCE.md). Needs tshark (4.0.17 made them).
set -euo pipefail
cd "$(dirname "$0")"
for f in *.pcap *.pcapng; do
  [ "$f" = app-generated.pcap ] && python3 make-app-pcap.py > app-generated.pcap
  tshark -r "$f" -q -z conv,tcp -z conv,udp > "$f.tshark-conv-tcp-udp.txt" 2>&1 || true
  tshark --enable-protocol communityid -r "$f" -T fields -e frame.number -e communityid \
    > "$f.tshark-communityid.tsv" 2>/dev/null || true
done
# app-generated.pcap is made by make-app-pcap.py (no metron code): its IP conversations too.
tshark -r app-generated.pcap -q -z conv,ip > app-generated.pcap.tshark-conv.txt 2>&1
# DNS messages over UDP (DNS, mDNS, LLMNR), one line per message, for --emit dns.
for f in zeek-wikipedia.pcap zeek-ipv6-fragmented-dns.pcap zeek-pcapng-multi-interface.pcapng app-generated.pcap; do
  tshark -r "$f" -Y '(dns || mdns || llmnr) && udp' -T fields -e udp.srcport -e udp.dstport -e dns.id \
    -e dns.flags.response -e dns.qry.name -e dns.flags.rcode -e dns.count.answers -e dns.a -e dns.aaaa \
    > "$f.tshark-dns.tsv" 2>/dev/null
done
# DNS over TCP, the same fields.
tshark -r app-generated.pcap -o tcp.reassemble_out_of_order:TRUE -Y 'dns && tcp' -T fields -e tcp.srcport \
  -e tcp.dstport -e dns.id -e dns.flags.response -e dns.qry.name -e dns.flags.rcode -e dns.count.answers -e dns.a \
  -e dns.aaaa > app-generated.pcap.tshark-dns-tcp.tsv 2>/dev/null
# HTTP requests and responses, TLS hellos, SSH key exchanges, for --emit http,tls,ssh
# (out-of-order segments reassembled, as metron does; tshark's default leaves them).
o=(-o tcp.reassemble_out_of_order:TRUE)
for f in app-generated.pcap zeek-http-get.pcap zeek-wikipedia.pcap; do
  tshark -r "$f" "${o[@]}" -Y http.request -T fields -e tcp.srcport -e tcp.dstport -e http.request.method \
    -e http.host -e http.request.uri -e http.user_agent > "$f.tshark-http-requests.tsv" 2>/dev/null
  tshark -r "$f" "${o[@]}" -Y http.response -T fields -e tcp.srcport -e tcp.dstport -e http.response.code \
    -e http.response.phrase > "$f.tshark-http-responses.tsv" 2>/dev/null
done
for f in app-generated.pcap zeek-tls1.2.pcap; do
  tshark -r "$f" "${o[@]}" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' -T fields -e tcp.srcport \
    -e tcp.dstport -e tls.handshake.type -e tls.handshake.extensions_server_name -e tls.handshake.ja3 \
    -e tls.handshake.ja3s -e tls.handshake.ciphersuite > "$f.tshark-tls.tsv" 2>/dev/null
done
f=app-generated.pcap
tshark -r "$f" "${o[@]}" -Y 'ssh.kex.hassh || ssh.kex.hasshserver' -T fields -e tcp.srcport -e tcp.dstport -e ssh.kex.hassh \
  -e ssh.kex.hasshserver > "$f.tshark-ssh.tsv" 2>/dev/null
tshark -r "$f" "${o[@]}" -Y ssh.protocol -T fields -e tcp.srcport -e tcp.dstport -e ssh.protocol \
  > "$f.tshark-ssh-banners.tsv" 2>/dev/null
mkdir -p roundtrip
# Round trip: the packets of one flow, chosen by Community ID, as tshark selects them.
while read -r f id; do
  tshark --enable-protocol communityid -r "$f" -Y "communityid == \"$id\"" -F pcap \
    -w "roundtrip/$f.$(echo "$id" | tr '/+=:' '_-__').pcap" 2>/dev/null
  echo -e "$f\t$id\troundtrip/$f.$(echo "$id" | tr '/+=:' '_-__').pcap"
done < roundtrip.wanted > roundtrip/INDEX.tsv
