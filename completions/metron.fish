# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_metron_global_optspecs
    string join \n config= color= q/quiet h/help V/version
end

function __fish_metron_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_metron_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_metron_using_subcommand
    set -l cmd (__fish_metron_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c metron -n "__fish_metron_needs_command" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_needs_command" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_needs_command" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_needs_command" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_needs_command" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_needs_command" -f -a "capture" -d 'Turn packets (pcap/pcapng files, or an interface with the `live` feature) into flow or packet records'
complete -c metron -n "__fish_metron_needs_command" -f -a "extract" -d 'Write the packets that match (Metron\'s pcap query filters, a Community ID, flow records) to one pcap'
complete -c metron -n "__fish_metron_needs_command" -f -a "parse" -d 'Parse raw sensor output into normalized events (NDJSON)'
complete -c metron -n "__fish_metron_needs_command" -f -a "listen" -d 'Receive telemetry over the network (syslog over TCP/UDP/TLS, HTTP, Splunk HEC) and write each message as a line'
complete -c metron -n "__fish_metron_needs_command" -f -a "enrich" -d 'Add GeoIP, ASN, asset, network and lookup-table fields to events (NDJSON in and out)'
complete -c metron -n "__fish_metron_needs_command" -f -a "profile" -d 'Behavioural analytics: profiles per entity and period, and findings (beacons, long connections, DNS tunnels, scans, anomalies)'
complete -c metron -n "__fish_metron_needs_command" -f -a "label" -d 'Add threat-intel hits (STIX 2.1, abuse.ch, MISP, lists) and triage scores to events'
complete -c metron -n "__fish_metron_needs_command" -f -a "alert" -d 'Turn events into de-duplicated alerts with rules (Sigma, expressions, lists, keywords, intel hits)'
complete -c metron -n "__fish_metron_needs_command" -f -a "generate" -d 'Generate synthetic telemetry (Zeek conn TSV, Suricata EVE, intel feeds) for benchmarks and demos'
complete -c metron -n "__fish_metron_needs_command" -f -a "store" -d 'Keep events, alerts and triage state in a store on disk; query it with SQL, triage, export, prune'
complete -c metron -n "__fish_metron_needs_command" -f -a "hunt" -d 'The triage console over a store: alert queue, detail, status workflow, search, pivots, charts'
complete -c metron -n "__fish_metron_needs_command" -f -a "run" -d 'Run the pipeline metron.toml\'s [run] describes as one always-on process: sources, stages in process, the store'
complete -c metron -n "__fish_metron_needs_command" -f -a "demo" -d 'Run every stage over bundled sample data and print a summary'
complete -c metron -n "__fish_metron_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metron -n "__fish_metron_using_subcommand capture" -s r -l read -d 'Read pcap or pcapng files (.zst and .gz are decompressed; `-` is stdin)' -r -F
complete -c metron -n "__fish_metron_using_subcommand capture" -s i -l interface -d 'Capture live on this interface (libpcap; needs a build with --features live)' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -s f -l filter -d 'BPF filter for live capture, in tcpdump\'s syntax' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -s s -l snaplen -d 'Bytes kept of each packet in live capture [default: 262144]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -s c -l count -d 'Stop live capture after this many packets' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l duration -d 'Stop live capture after this long (30s, 5m, 1h)' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l stats-interval -d 'How often live capture reports libpcap\'s received and dropped counts [default: 60s]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l emit -d 'Records to write, one or several: flows, packets (one per packet), dns (one per DNS transaction), http (one per request), tls and ssh (one per connection) [default: flows]' -r -f -a "flows\t''
packets\t''
dns\t''
http\t''
tls\t''
ssh\t''"
complete -c metron -n "__fish_metron_using_subcommand capture" -l reassembly-flow -d 'Bytes one direction of a TCP connection holds waiting for a missing segment before the hole is skipped (http, tls, ssh) [default: 256K]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l reassembly-total -d 'Bytes all TCP connections together hold waiting; past it segments are dropped and counted [default: 256M]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l max-flows -d 'Flows held open at once; when full, the flow due soonest is written early, marked evicted [default: 1000000]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l tcp-timeout -d 'TCP flows end after this long without packets [default: 5m]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l udp-timeout -d 'UDP flows end after this long without packets [default: 1m]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l other-timeout -d 'ICMP and other flows end after this long without packets [default: 1m]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l active-timeout -d 'A flow longer than this is written and goes on in a next record [default: 30m]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -s w -l write -d 'Also write the raw packets as pcap files in DIR (named by their first packet\'s time)' -r -F
complete -c metron -n "__fish_metron_using_subcommand capture" -l rotate-size -d 'Start a new pcap file when the current one reaches this size (K, M, G) [default: 1G]' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -l rotate-seconds -d 'Start a new pcap file when the current one\'s first packet is this many seconds old' -r
complete -c metron -n "__fish_metron_using_subcommand capture" -s o -l output -d 'Write records here instead of stdout (.zst and .gz compress)' -r -F
complete -c metron -n "__fish_metron_using_subcommand capture" -l errors -d 'Write every error record here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand capture" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand capture" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand capture" -l no-promisc -d 'Do not put the interface in promiscuous mode (`promisc = false` in [capture])'
complete -c metron -n "__fish_metron_using_subcommand capture" -l list-interfaces -d 'List the interfaces libpcap can capture on, and exit'
complete -c metron -n "__fish_metron_using_subcommand capture" -l compress -d 'zstd-compress the pcap files (.pcap.zst)'
complete -c metron -n "__fish_metron_using_subcommand capture" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand capture" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand capture" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand extract" -l from -d 'Directory of pcap files (as `capture --write` makes), or a pcap file (repeatable)' -r -F
complete -c metron -n "__fish_metron_using_subcommand extract" -l ip-src -d 'Source address or CIDR' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l ip-dst -d 'Destination address or CIDR' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l port-src -d 'Source port' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l port-dst -d 'Destination port' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l protocol -d 'Protocol name (tcp, udp, icmp, ...) or number' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l start -d 'Packets at or after this time (RFC 3339 or epoch ms)' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l end -d 'Packets before this time (RFC 3339 or epoch ms)' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l community-id -d 'Packets of the flow with this Community ID' -r
complete -c metron -n "__fish_metron_using_subcommand extract" -l flow-from -d 'Packets of the flow records in FILE (NDJSON, e.g. from `metron capture --write`)' -r -F
complete -c metron -n "__fish_metron_using_subcommand extract" -s o -l output -d 'Write the pcap here instead of stdout' -r -F
complete -c metron -n "__fish_metron_using_subcommand extract" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand extract" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand extract" -l include-reverse -d 'Also match packets going the other way (source and destination swapped)'
complete -c metron -n "__fish_metron_using_subcommand extract" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand extract" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand extract" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand parse" -s f -l format -d 'Input format: a built-in one (below), or NAME for a [parsers.NAME] of metron.toml [default: auto]' -r -f -a "auto\t''
zeek\t''
bro\t''
suricata\t''
eve\t''
asa\t''
cef\t''
leef\t''
syslog\t''
snort\t''
yaf\t''
squid\t''"
complete -c metron -n "__fish_metron_using_subcommand parse" -l listen -d 'Parse what arrives on these URLs instead of files (as `metron listen`; repeatable): tcp://, udp://, tls://, http://, https:// HOST:PORT. Events keep received_from, received_at and transport; with --format auto each message\'s format is told apart' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l max-message-bytes -d 'Longest message accepted; longer ones are reported (with the peer) and skipped [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l max-body-bytes -d 'Largest HTTP body accepted, after decompression (413 above it) [default: 64M]' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l max-connections -d 'Connections open at once; more are refused and counted [default: 1024]' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l idle-timeout -d 'Close a connection that sent nothing for this long [default: 5m]' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l allow -d 'Only these peers may send (comma-separated CIDRs or addresses); others are refused and counted' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l token -d 'HTTP senders must present this token (Authorization: Bearer T, or Splunk T); compared in constant time' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l cert -d 'Server certificate chain (PEM) for tls:// and https://' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l client-ca -d 'Clients must present a certificate signed by this CA (PEM); others are refused' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -s o -l output -d 'Write events here instead of stdout (.zst and .gz compress), or to kafka://HOST:PORT/TOPIC (one message per event, keyed by community_id, else ip_src_addr; ?key=FIELD chooses; an event over message.max.bytes is sent as an error record in its place)' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l errors -d 'Write every error record here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l max-line-bytes -d 'Longest line accepted; longer lines become error records [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand parse" -s F -l follow -d 'Keep reading: growing files, and new files in named directories (survives rotation)'
complete -c metron -n "__fish_metron_using_subcommand parse" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand parse" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand parse" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand listen" -s o -l output -d 'Write messages here instead of stdout (.zst and .gz compress; SIGHUP reopens it)' -r -F
complete -c metron -n "__fish_metron_using_subcommand listen" -l errors -d 'Write every error record (over-long messages) here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand listen" -l max-message-bytes -d 'Longest message accepted; longer ones are reported (with the peer) and skipped [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand listen" -l max-body-bytes -d 'Largest HTTP body accepted, after decompression (413 above it) [default: 64M]' -r
complete -c metron -n "__fish_metron_using_subcommand listen" -l max-connections -d 'Connections open at once; more are refused and counted [default: 1024]' -r
complete -c metron -n "__fish_metron_using_subcommand listen" -l idle-timeout -d 'Close a connection that sent nothing for this long [default: 5m]' -r
complete -c metron -n "__fish_metron_using_subcommand listen" -l allow -d 'Only these peers may send (comma-separated CIDRs or addresses); others are refused and counted' -r
complete -c metron -n "__fish_metron_using_subcommand listen" -l token -d 'HTTP senders must present this token (Authorization: Bearer T, or Splunk T); compared in constant time' -r
complete -c metron -n "__fish_metron_using_subcommand listen" -l cert -d 'Server certificate chain (PEM) for tls:// and https://' -r -F
complete -c metron -n "__fish_metron_using_subcommand listen" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c metron -n "__fish_metron_using_subcommand listen" -l client-ca -d 'Clients must present a certificate signed by this CA (PEM); others are refused' -r -F
complete -c metron -n "__fish_metron_using_subcommand listen" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand listen" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand listen" -l envelope -d 'Write NDJSON {"message", "received_from", "received_at", "transport"} per message, keeping newlines inside messages; `metron parse` reads these lines'
complete -c metron -n "__fish_metron_using_subcommand listen" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand listen" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand listen" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand enrich" -l geoip -d 'GeoIP2 or GeoLite2 City (or Country) database' -r -F
complete -c metron -n "__fish_metron_using_subcommand enrich" -l asn -d 'GeoLite2 ASN (or GeoIP2 ISP) database' -r -F
complete -c metron -n "__fish_metron_using_subcommand enrich" -l assets -d 'Asset inventory keyed by address or CIDR (CSV with a header, or NDJSON)' -r -F
complete -c metron -n "__fish_metron_using_subcommand enrich" -l internal -d 'Internal networks, comma-separated (adds enrichments.network.<field>.internal)' -r
complete -c metron -n "__fish_metron_using_subcommand enrich" -l table -d 'Lookup table: NAME=FILE:FIELD[,FIELD...] (repeatable)' -r
complete -c metron -n "__fish_metron_using_subcommand enrich" -l ip-fields -d 'Address fields to enrich, comma-separated [default: ip_src_addr,ip_dst_addr]' -r
complete -c metron -n "__fish_metron_using_subcommand enrich" -l cache-size -d 'Addresses whose GeoIP and ASN results are cached; 0 turns the cache off [default: 65536]' -r
complete -c metron -n "__fish_metron_using_subcommand enrich" -l passive-dns-size -d 'Addresses passive DNS remembers; the least recently used goes [default: 100000]' -r
complete -c metron -n "__fish_metron_using_subcommand enrich" -l passive-dns-ttl -d 'How long passive DNS keeps a name after its answer, in event time [default: 24h]' -r
complete -c metron -n "__fish_metron_using_subcommand enrich" -s o -l output -d 'Write events here instead of stdout (.zst and .gz compress), or to kafka://HOST:PORT/TOPIC (one message per event, keyed by community_id, else ip_src_addr; ?key=FIELD chooses; an event over message.max.bytes is sent as an error record in its place)' -r -F
complete -c metron -n "__fish_metron_using_subcommand enrich" -l errors -d 'Write every error record here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand enrich" -l max-line-bytes -d 'Longest line accepted; longer lines become error records [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand enrich" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand enrich" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand enrich" -l passive-dns -d 'Passive DNS: learn which names the stream\'s own DNS answers (Zeek dns, Suricata dns, `capture --emit dns`) gave each address, and add them to later events as enrichments.dns.<field>.names'
complete -c metron -n "__fish_metron_using_subcommand enrich" -s F -l follow -d 'Keep reading: growing files, and new files in named directories (survives rotation)'
complete -c metron -n "__fish_metron_using_subcommand enrich" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand enrich" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand enrich" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand profile" -l detect -d 'Detections to run, comma-separated: beacon, long_conn, dns_tunnel, scan, anomaly [default: all]' -r
complete -c metron -n "__fish_metron_using_subcommand profile" -l window -d 'The window of the beacon, long connection and DNS tunnel detections [default: 24h]' -r
complete -c metron -n "__fish_metron_using_subcommand profile" -l period -d 'The period of profiles (anomalies are judged per period) [default: 1h]' -r
complete -c metron -n "__fish_metron_using_subcommand profile" -l min-history -d 'Periods of an entity\'s history an anomaly needs [default: 12]' -r
complete -c metron -n "__fish_metron_using_subcommand profile" -l state -d 'Keep windows and histories here between runs, checkpointed every minute' -r -F
complete -c metron -n "__fish_metron_using_subcommand profile" -l max-entities -d 'Entities (pairs, domains, scanners, hosts) each detection holds at most; the least recently seen go first [default: 100000]' -r
complete -c metron -n "__fish_metron_using_subcommand profile" -s o -l output -d 'Write events here instead of stdout (.zst and .gz compress), or to kafka://HOST:PORT/TOPIC (one message per event, keyed by community_id, else ip_src_addr; ?key=FIELD chooses; an event over message.max.bytes is sent as an error record in its place)' -r -F
complete -c metron -n "__fish_metron_using_subcommand profile" -l errors -d 'Write every error record here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand profile" -l max-line-bytes -d 'Longest line accepted; longer lines become error records [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand profile" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand profile" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand profile" -l only-findings -d 'Write findings and profile records only, not the events'
complete -c metron -n "__fish_metron_using_subcommand profile" -l flush -d 'With --state: close the windows and periods still open at the end of input too'
complete -c metron -n "__fish_metron_using_subcommand profile" -s F -l follow -d 'Keep reading: growing files, and new files in named directories (survives rotation)'
complete -c metron -n "__fish_metron_using_subcommand profile" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand profile" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand profile" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand label" -l intel -d 'Intel file or directory, PATH or FORMAT:PATH (repeatable; replaces [label] intel)' -r
complete -c metron -n "__fish_metron_using_subcommand label" -l max-stix-bytes -d 'Do not reload intel files when they change. Largest STIX file read, decompressed (K, M, G) [default: 128M]' -r
complete -c metron -n "__fish_metron_using_subcommand label" -s o -l output -d 'Write events here instead of stdout (.zst and .gz compress), or to kafka://HOST:PORT/TOPIC (one message per event, keyed by community_id, else ip_src_addr; ?key=FIELD chooses; an event over message.max.bytes is sent as an error record in its place)' -r -F
complete -c metron -n "__fish_metron_using_subcommand label" -l errors -d 'Write every error record here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand label" -l max-line-bytes -d 'Longest line accepted; longer lines become error records [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand label" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand label" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand label" -l check -d 'Load the intel and triage rules, report what each file gives, and exit (1 if anything could not be used)'
complete -c metron -n "__fish_metron_using_subcommand label" -l no-reload
complete -c metron -n "__fish_metron_using_subcommand label" -s F -l follow -d 'Keep reading: growing files, and new files in named directories (survives rotation)'
complete -c metron -n "__fish_metron_using_subcommand label" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand label" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand label" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand alert" -s r -l rules -d 'Rule files or directories (repeatable; added to [alert] rules of metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand alert" -l alerts -d 'Write alert records here (.zst and .gz compress) instead of stdout' -r -F
complete -c metron -n "__fish_metron_using_subcommand alert" -l dedup-window -d 'Alerts of one rule and key within this much event time are one [default: 1h]' -r
complete -c metron -n "__fish_metron_using_subcommand alert" -l max-cache -d 'Open alerts kept for de-duplication; the oldest is closed when full [default: 1000]' -r
complete -c metron -n "__fish_metron_using_subcommand alert" -l designated-host -d 'Field naming the host an alert is about [default: ip_src_addr]' -r
complete -c metron -n "__fish_metron_using_subcommand alert" -s o -l output -d 'Write events here instead of stdout (.zst and .gz compress), or to kafka://HOST:PORT/TOPIC (one message per event, keyed by community_id, else ip_src_addr; ?key=FIELD chooses; an event over message.max.bytes is sent as an error record in its place)' -r -F
complete -c metron -n "__fish_metron_using_subcommand alert" -l errors -d 'Write every error record here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand alert" -l max-line-bytes -d 'Longest line accepted; longer lines become error records [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand alert" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand alert" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand alert" -l check -d 'Load the rules, list each one that cannot be loaded with the reason, and exit (1 if any)'
complete -c metron -n "__fish_metron_using_subcommand alert" -l only-alerts -d 'Write only alert records to stdout, not the events'
complete -c metron -n "__fish_metron_using_subcommand alert" -s F -l follow -d 'Keep reading: growing files, and new files in named directories (survives rotation)'
complete -c metron -n "__fish_metron_using_subcommand alert" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand alert" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand alert" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand generate" -s n -l count -d 'How many records (for traffic: ordinary records of the day, about 1,500 per host)' -r
complete -c metron -n "__fish_metron_using_subcommand generate" -l seed -d 'Random seed: the same seed gives the same output' -r
complete -c metron -n "__fish_metron_using_subcommand generate" -s o -l output -d 'Write here instead of stdout (.zst and .gz compress)' -r -F
complete -c metron -n "__fish_metron_using_subcommand generate" -l truth -d 'traffic: write what was injected (the truth) here, as NDJSON' -r -F
complete -c metron -n "__fish_metron_using_subcommand generate" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand generate" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand generate" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand generate" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand generate" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "ingest" -d 'Store NDJSON events, alert records and error records (routed by source.type); idempotent by guid'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "query" -d 'Run one read-only SQL query over the store\'s tables'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "triage" -d 'Record a triage action (status, comment, assignee, meta-alert) on alerts, with who and when'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "export" -d 'Write zstd Parquet partitioned by day and source_type, for DuckDB, Spark or Trino'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "prune" -d 'Remove records older than a duration (retention)'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "stats" -d 'Events per source type, time range, alerts, bytes on disk and per event'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "compact" -d 'Merge small segments (ingest does this at its end)'
complete -c metron -n "__fish_metron_using_subcommand store; and not __fish_seen_subcommand_from ingest query triage export prune stats compact help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -l errors -d 'Write error records for lines that are not events here (NDJSON) instead of summarizing them' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -l max-line-bytes -d 'Longest line accepted; longer lines become error records [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -l batch-rows -d 'Records per batch; each batch is stored whole or not at all [default: 100000]' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -l flush-interval -d 'When following, store what has arrived at least this often [default: 1s]' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -s F -l follow -d 'Keep reading growing files and new files in named directories'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from ingest" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -l param -d 'Values for the query\'s `?` placeholders, in order (numbers stay numbers unless quoted: --param \'text\')' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -l format -d 'Output format [default: table on a terminal, ndjson otherwise]' -r -f -a "table\t''
ndjson\t''
csv\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -l max-width -d 'Widest table column, in characters [default: 48]' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from query" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l status -d 'New status: NEW, OPEN, ESCALATE, DISMISS or RESOLVE' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l comment -d 'A comment to keep with the action' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l assign -d 'Assign the alerts to someone' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l group -d 'Group the alerts into this meta-alert' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l who -d 'Who acts [default: $USER]' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -l ungroup -d 'Take the alerts out of their meta-alert'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from triage" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -l parquet -d 'The lake directory: DIR/day=YYYY-MM-DD/source_type=TYPE/*.parquet' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -l since -d 'Only records at or after this time: RFC 3339, YYYY-MM-DD, epoch ms, or a duration ago (7d, 12h)' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -l until -d 'Only records before this time (same forms as --since)' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -l source-type -d 'Only this source.type (repeatable)' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from prune" -l older-than -d 'Remove records whose timestamp is older than this (90d, 12h, ...)' -r
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from prune" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from prune" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from prune" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from stats" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from stats" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from stats" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from stats" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from stats" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from compact" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]. `store query` takes it more than once and reads the stores as one (shards written by several ingests)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from compact" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from compact" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from compact" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from compact" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from compact" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "ingest" -d 'Store NDJSON events, alert records and error records (routed by source.type); idempotent by guid'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "query" -d 'Run one read-only SQL query over the store\'s tables'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "triage" -d 'Record a triage action (status, comment, assignee, meta-alert) on alerts, with who and when'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write zstd Parquet partitioned by day and source_type, for DuckDB, Spark or Trino'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove records older than a duration (retention)'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "stats" -d 'Events per source type, time range, alerts, bytes on disk and per event'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "compact" -d 'Merge small segments (ingest does this at its end)'
complete -c metron -n "__fish_metron_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metron -n "__fish_metron_using_subcommand hunt" -l store -d 'The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store]' -r -F
complete -c metron -n "__fish_metron_using_subcommand hunt" -l query -d 'Run one search (the console\'s search language), print the rows and exit' -r
complete -c metron -n "__fish_metron_using_subcommand hunt" -l format -d 'Output format of --query [default: table on a terminal, ndjson otherwise]' -r -f -a "table\t''
ndjson\t''
csv\t''"
complete -c metron -n "__fish_metron_using_subcommand hunt" -l max-width -d 'Widest table column of --query, in characters [default: 48]' -r
complete -c metron -n "__fish_metron_using_subcommand hunt" -l refresh -d 'How often the console looks for new alerts (0 turns it off) [default: 2s]' -r
complete -c metron -n "__fish_metron_using_subcommand hunt" -l pcap-dir -d 'Where `metron capture --write` keeps packets; enables extracting a flow\'s packets (x)' -r -F
complete -c metron -n "__fish_metron_using_subcommand hunt" -l who -d 'Who acts, for the triage history [default: $USER]' -r
complete -c metron -n "__fish_metron_using_subcommand hunt" -l bench -d 'Measure the console on this search instead of opening it (scripts/bench-hunt.sh)' -r
complete -c metron -n "__fish_metron_using_subcommand hunt" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand hunt" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand hunt" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand hunt" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand hunt" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand run" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand run" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand run" -l once -d 'Read what the followed files hold now, finish, commit and exit (listeners stop then too)'
complete -c metron -n "__fish_metron_using_subcommand run" -l check -d 'Validate the config (every problem at once), print the plan and exit'
complete -c metron -n "__fish_metron_using_subcommand run" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand run" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand run" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand demo" -s o -l output -d 'Also write the demo\'s events here (NDJSON)' -r -F
complete -c metron -n "__fish_metron_using_subcommand demo" -l store -d 'The store the demo fills (replaced by the next demo; `metron hunt --store DIR` opens it)' -r -F
complete -c metron -n "__fish_metron_using_subcommand demo" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand demo" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand demo" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand demo" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand demo" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "capture" -d 'Turn packets (pcap/pcapng files, or an interface with the `live` feature) into flow or packet records'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "extract" -d 'Write the packets that match (Metron\'s pcap query filters, a Community ID, flow records) to one pcap'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "parse" -d 'Parse raw sensor output into normalized events (NDJSON)'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "listen" -d 'Receive telemetry over the network (syslog over TCP/UDP/TLS, HTTP, Splunk HEC) and write each message as a line'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "enrich" -d 'Add GeoIP, ASN, asset, network and lookup-table fields to events (NDJSON in and out)'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "profile" -d 'Behavioural analytics: profiles per entity and period, and findings (beacons, long connections, DNS tunnels, scans, anomalies)'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "label" -d 'Add threat-intel hits (STIX 2.1, abuse.ch, MISP, lists) and triage scores to events'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "alert" -d 'Turn events into de-duplicated alerts with rules (Sigma, expressions, lists, keywords, intel hits)'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "generate" -d 'Generate synthetic telemetry (Zeek conn TSV, Suricata EVE, intel feeds) for benchmarks and demos'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "store" -d 'Keep events, alerts and triage state in a store on disk; query it with SQL, triage, export, prune'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "hunt" -d 'The triage console over a store: alert queue, detail, status workflow, search, pivots, charts'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "run" -d 'Run the pipeline metron.toml\'s [run] describes as one always-on process: sources, stages in process, the store'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "demo" -d 'Run every stage over bundled sample data and print a summary'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from capture extract parse listen enrich profile label alert generate store hunt run demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metron -n "__fish_metron_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "ingest" -d 'Store NDJSON events, alert records and error records (routed by source.type); idempotent by guid'
complete -c metron -n "__fish_metron_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "query" -d 'Run one read-only SQL query over the store\'s tables'
complete -c metron -n "__fish_metron_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "triage" -d 'Record a triage action (status, comment, assignee, meta-alert) on alerts, with who and when'
complete -c metron -n "__fish_metron_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "export" -d 'Write zstd Parquet partitioned by day and source_type, for DuckDB, Spark or Trino'
complete -c metron -n "__fish_metron_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "prune" -d 'Remove records older than a duration (retention)'
complete -c metron -n "__fish_metron_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "stats" -d 'Events per source type, time range, alerts, bytes on disk and per event'
complete -c metron -n "__fish_metron_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "compact" -d 'Merge small segments (ingest does this at its end)'
