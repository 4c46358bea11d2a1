//! Every flag of `metron`, in one place, with no logic: the same definitions make
//! `--help`, the man pages in `man/` and the completions in `completions/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Security telemetry pipeline: parse, enrich, label, alert, store and hunt, in a shell pipeline.";

const AFTER_HELP: &str = "\
Every stage reads NDJSON or raw logs from files or stdin and writes one JSON event per
line to stdout, so stages compose with pipes:

  metron parse conn.log dns.log | jq 'select(.ip_dst_port == 53)'

Start with `metron demo`. Exit codes: 0 success, 1 finished but some records were
errors, 2 usage or fatal error.";

#[derive(Debug, Parser)]
#[command(name = "metron", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// When to use colour on stderr (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// No summary line or progress on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn packets (pcap/pcapng files, or an interface with the `live` feature) into flow or packet records.
    #[command(after_help = CAPTURE_EXAMPLES)]
    Capture(CaptureArgs),
    /// Write the packets that match (Metron's pcap query filters, a Community ID, flow records) to one pcap.
    #[command(after_help = EXTRACT_EXAMPLES)]
    Extract(ExtractArgs),
    /// Parse raw sensor output into normalized events (NDJSON).
    #[command(after_help = format!("{}\n{PARSE_EXAMPLES}", metron::parse::formats_help()))]
    Parse(ParseArgs),
    /// Receive telemetry over the network (syslog over TCP/UDP/TLS, HTTP, Splunk HEC) and write each message as a line.
    #[command(after_help = LISTEN_EXAMPLES)]
    Listen(ListenArgs),
    /// Add GeoIP, ASN, asset, network and lookup-table fields to events (NDJSON in and out).
    #[command(after_help = ENRICH_EXAMPLES)]
    Enrich(EnrichArgs),
    /// Behavioural analytics: profiles per entity and period, and findings (beacons, long connections, DNS tunnels, scans, anomalies).
    #[command(after_help = PROFILE_EXAMPLES)]
    Profile(ProfileArgs),
    /// Add threat-intel hits (STIX 2.1, abuse.ch, MISP, lists) and triage scores to events.
    #[command(after_help = LABEL_EXAMPLES)]
    Label(LabelArgs),
    /// Turn events into de-duplicated alerts with rules (Sigma, expressions, lists, keywords, intel hits).
    #[command(after_help = ALERT_EXAMPLES)]
    Alert(AlertArgs),
    /// Generate synthetic telemetry (Zeek conn TSV, Suricata EVE, intel feeds) for benchmarks and demos.
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// Keep events, alerts and triage state in a store on disk; query it with SQL, triage, export, prune.
    #[command(after_help = STORE_EXAMPLES)]
    Store(StoreArgs),
    /// The triage console over a store: alert queue, detail, status workflow, search, pivots, charts.
    #[command(after_help = metron::hunt::AFTER_HELP)]
    Hunt(HuntArgs),
    /// Run the pipeline metron.toml's [run] describes as one always-on process: sources, stages in process, the store.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Run every stage over bundled sample data and print a summary.
    Demo(DemoArgs),
}

const RUN_EXAMPLES: &str = "\
The pipeline comes from metron.toml (--config); each stage keeps its own section:
  [store]
  dir = \"/var/lib/metron/store\"
  [enrich]
  internal = [\"10.0.0.0/8\"]
  [[run.source]]
  follow = \"/var/log/zeek/current\"   # a file or directory, followed as parse --follow
  format = \"zeek\"                    # default auto
  [[run.source]]
  listen = \"tcp://127.0.0.1:6514\"    # any URL metron listen takes
  format = \"syslog\"
  [run]
  stages = [\"enrich\", \"label\", \"alert\", \"profile\"]   # in this order
  sink = \"store\"                     # default; or a file (.zst compresses), or kafka://HOST:PORT/TOPIC
  state = \"/var/lib/metron/run\"      # positions when the sink is not the store (a Kafka sink needs it)
  metrics = \"127.0.0.1:9108\"         # Prometheus text at /metrics, and /health
  checkpoint_interval = \"5s\"

Sources parse on their own threads and hand batches on (bounded: a slow store holds them
back); the stages run in one process through their line fast paths; the store writes on
its own thread. Every checkpoint_interval the sink
is committed and the followed files' positions (inode, line) are saved in
STORE/run/checkpoint.json: after a crash (kill -9) the files are read on from there, and a
line read again keeps its guid (made from the inode, line number and bytes), so the store
holds it once. Network messages are handed to the chain when received: a crash loses
those not yet committed. Error records (unparsable lines, stage errors) go to the sink
too (the store's errors table). SIGTERM or SIGINT: stop reading, drain, commit, exit 0.
SIGHUP builds the stages again from the config file (the old ones flush first); a config
that cannot be built is reported and the running stages go on. Sources and sink stay as
started. Not yet: capture, pcap and kafka sources (a Kafka sink works: positions are
saved in [run] state after the broker acknowledged the messages).

Examples:
  metron run --config sensor.toml --check      # every problem at once, then the plan
  metron run --config sensor.toml              # until SIGTERM
  metron run --config sensor.toml --once       # read what the files hold now, commit, exit
  curl -s 127.0.0.1:9108/metrics | grep metron_records_in_total
";

const CAPTURE_EXAMPLES: &str = "\
Flow records (--emit flows, the default) have source.type metron.flow, the initiator as
source (ip_src_addr, ip_src_port), protocol, ip_proto, vlan and inner_vlan, timestamp
(first packet, epoch ms), end_time, timestamp_us, end_time_us, duration (s), per direction
orig_/resp_ pkts, ip_bytes, bytes (payload), frame_bytes and tcp_flags, Zeek's conn_state,
end_reason (fin, rst, idle, active_timeout, packet_limit, evicted, end_of_input) and
community_id. A flow ends on TCP FIN or RST (after a 5 s close delay), when idle (TCP 5m,
UDP and other 1m, as Zeek), after --active-timeout (30m; it goes on in a next record), or
at the end of input. IPv4 and IPv6 fragments are reassembled (bounded: 10,000 datagrams,
30 s). With --write, flow records also carry packet_files and packet_pos: the byte offset
of each packet's record, which `metron extract --flow-from` reads directly.

DNS records (--emit dns; with flows: --emit flows,dns) have source.type metron.dns: one
per query and its reply, with Zeek's dns.log fields (trans_id, rtt, query, qclass_name,
qtype_name, rcode_name, AA, TC, RD, RA, Z, answers, TTLs, rejected, opcode_name) and
rules, and the community_id of their flow. Queries without replies and replies without
queries are written too (after 1m idle, or at the end). UDP ports 53, 5353 and 5355, and
TCP port 53 (proto tcp, from the reassembled stream).

HTTP, TLS and SSH records (--emit http,tls,ssh) come from TCP streams put back in order
(out-of-order segments wait, retransmitted bytes count once, holes are skipped and counted
in missed_bytes; bounded by --reassembly-flow and --reassembly-total); the protocol is
told by content, on any port. metron.http: one per request with Zeek's http.log fields
(method, host, uri, referrer, version, user_agent, request_body_len, response_body_len,
status_code, status_msg, resp_mime_types from Content-Type), pipelined requests each
matched to their response. metron.tls: version, cipher, curve, server_name,
next_protocol, resumed, established, ja3, ja3s, ja4, and for TLS 1.2 and older the server
certificate's subject, issuer, not_valid_before, not_valid_after, san_dns, fingerprint
(SHA-256) and cert_chain_fps. metron.ssh: client and server banners, the agreed
algorithms, hassh and hasshServer. Each carries the 5-tuple and community_id of its flow.

Examples:
  metron capture -r trace.pcap                          # flows as NDJSON
  metron capture -r day1.pcapng.zst day2.pcap.gz -o flows.ndjson.zst
  metron capture -r trace.pcap --emit packets | jq -c 'select(.ip_dst_port == 53)'
  metron capture -r trace.pcap --emit dns | jq -r 'select(.rcode_name == \"NXDOMAIN\") | .query'
  metron capture -r trace.pcap --emit flows,dns,http,tls,ssh | metron enrich --passive-dns
  metron capture -r trace.pcap --emit tls | jq -r '[.server_name, .ja4] | @tsv' | sort | uniq -c
  metron capture -r big.pcap --write store/ --rotate-size 256M --compress
  sudo metron capture -i eth0 -f 'tcp port 443' --write store/ | metron enrich ...
  metron capture --list-interfaces

Live capture (-i, -f, --snaplen, --no-promisc, --list-interfaces) uses libpcap and is
built only with the `live` feature: install libpcap-dev (Debian/Ubuntu) or libpcap-devel,
then `cargo install --path . --features live`. Capturing needs root or the capabilities
CAP_NET_RAW and CAP_NET_ADMIN (sudo setcap cap_net_raw,cap_net_admin=eip $(which metron)).
libpcap's received and dropped counts are reported every --stats-interval and at exit.

Frames without IP (ARP, LLDP) are counted as not IP. A packet whose headers cannot be
read, a link type metron does not decode, and a damaged file (named with the packet
number and byte offset where reading stopped, after everything before it was used) are
error records; the exit code is then 1.";

const LISTEN_EXAMPLES: &str = "\
Listeners bind where the URL says (write 0.0.0.0 or :: to listen on every interface).
Syslog over TCP and TLS takes both framings of RFC 6587, told from each connection's
first byte: octet counting (`LEN SP MSG`; messages may hold newlines) and LF-terminated.
Over UDP one datagram is one message (RFC 5426). HTTP and HTTPS take POST / with
newline-delimited messages (Content-Encoding gzip or zstd), Splunk HEC's POST
/services/collector/event (and /raw), and GET /health; a sender gets 200 only after its
messages are written and flushed.

Without --envelope a message is one line: a newline inside it is written as #012 and a
carriage return as #015 (rsyslog's escapes). A message over --max-message-bytes is an
error record naming the peer, and the connection goes on with the next one.

When the output is slow, connections stop being read and TCP slows the senders (memory
stays bounded); UDP cannot wait, and the datagrams the kernel drops are counted and
reported every 10 s and at exit. SIGTERM and SIGINT stop accepting, drain what was
received, flush and exit 0; SIGHUP reopens -o FILE (after log rotation).

Examples:
  metron listen tcp://127.0.0.1:6514 udp://127.0.0.1:5514 -o messages.log
  metron listen --envelope tcp://0.0.0.0:601 | metron parse | metron store ingest
  metron listen https://0.0.0.0:8088 --cert server.pem --key server.key --token \"$TOKEN\"
  metron listen tls://0.0.0.0:6514 --cert s.pem --key s.key --client-ca clients-ca.pem
  metron parse --listen tcp://127.0.0.1:6514 --format syslog | metron alert -r rules/
  logger --tcp --octet-count -n 127.0.0.1 -P 6514 'hello'
  curl --data-binary @events.ndjson http://127.0.0.1:8088/";

const EXTRACT_EXAMPLES: &str = "\
Examples:
  metron extract --from store/ --ip-src 10.0.0.5 --port-dst 443 -o out.pcap
  metron extract --from store/ --ip-src 10.0.0.5 --include-reverse --start 2026-01-01T10:00:00Z --end 2026-01-01T11:00:00Z -o out.pcap
  metron extract --from store/ --community-id '1:wCb3OG7yAFWelaUydu0D+125CLM=' -o flow.pcap
  metron capture -r big.pcap --write store/ | jq -c 'select(.conn_state == \"REJ\")' > rej.ndjson
  metron extract --from store/ --flow-from rej.ndjson -o rejected.pcap

Filters are Apache Metron's pcap query fields; every one given must match. Addresses take
a CIDR too. --start is inclusive, --end exclusive (RFC 3339, or epoch milliseconds).
--flow-from reads flow records (NDJSON): records with packet_files and packet_pos are read
at those offsets; others are matched by their 5-tuple (both directions) and time span in
a scan. Output is one pcap (nanosecond timestamps) in time order, to -o or stdout.";

const PARSE_EXAMPLES: &str = "\
Examples:
  metron parse conn.log http.log                 # format sniffed per file
  metron parse --format suricata eve.json.zst -o events.ndjson.zst
  tail -F /var/log/asa.log | metron parse --format asa
  metron parse --follow /opt/zeek/logs/current   # new lines and new files, as Zeek rotates
  metron parse --errors bad.ndjson big.log       # every error record kept

Every input line gives one event, or is skipped (headers, comments, blank), or becomes an
error record (source.type \"error\", with file and line) written to --errors or summarized
on stderr; the exit code is then 1.";

const ENRICH_EXAMPLES: &str = "\
Adds, for each address field (ip_src_addr and ip_dst_addr unless --ip-fields says):
  enrichments.geo.<field>.{country,city,latitude,longitude,postalCode,dmaCode,locID,location_point}
  enrichments.asn.<field>.{number,organization}
  enrichments.host.<field>.<column>      from the --assets row of the most specific network
  enrichments.network.<field>.internal   true or false, with --internal
  enrichments.dns.<field>.names          with --passive-dns: the names earlier DNS answers
                                         in the stream gave the address, newest first
and for each --table NAME=FILE:FIELD, enrichments.<NAME>.<FIELD>.<column>.
Private, loopback, link-local, multicast and reserved addresses get no GeoIP or ASN.

Examples:
  metron parse conn.log | metron enrich --geoip GeoLite2-City.mmdb --asn GeoLite2-ASN.mmdb
  metron enrich --assets assets.csv --internal 10.0.0.0/8,192.168.0.0/16 events.ndjson
  metron enrich --table users=users.csv:user --table domains=domains.csv:query dns.ndjson
  metron parse -F /opt/zeek/logs/current | metron enrich --geoip City.mmdb --assets assets.csv
  metron capture -r trace.pcap --emit flows,dns | metron enrich --passive-dns
  cat dns.log conn.log | metron parse | metron enrich --passive-dns --passive-dns-ttl 1h

Assets and tables are CSV with a header line (or NDJSON, one object per line); the
asset key column is named ip or cidr, a table's key column is named like its field (or
key, or comes first). Every file is watched: a changed file is loaded again between two
events, and a broken replacement is reported while the loaded version stays. An .mmdb
is read into memory (not mapped), so a file rewritten in place cannot crash a long run.
Passive DNS learns from the answers as they pass (Zeek's and metron's query and answers,
Suricata's dns.rrname with dns.rdata, dns.answers or dns.grouped), in the events' own
time: a name is forgotten after --passive-dns-ttl without a new answer, and at most
--passive-dns-size addresses (4 names each) are kept.
All of it can be set in [enrich] of metron.toml; flags override it.";

const ALERT_EXAMPLES: &str = "\
Rules are YAML files (or directories of .yml/.yaml files): Sigma rules as SigmaHQ writes
them, and metron rules of kind all, intel, list, keyword or expression:
  id: c2-port
  kind: expression                 # all | intel | list | keyword | expression
  priority: HIGH                   # HIGH | MED | LOW
  source_types: [zeek.conn]        # optional (required for kind all)
  expression: 'e[\"ip_dst_port\"] == 4444'
Sigma logsources map to source.type (category dns -> zeek.dns, suricata.dns; proxy ->
zeek.http, squid, suricata.http; firewall -> asa, zeek.conn, metron.flow, suricata.flow;
product zeek + service S -> zeek.S); level critical/high -> HIGH, medium -> MED, else LOW.

Every event goes on, with alerts = [alert ids] when it raised any. Alert records
(source.type \"alert\") go to --alerts FILE, or to stdout after their events, or alone
with --only-alerts. The same rule and key (designated host, or the rule's dedup_key)
within --dedup-window is one alert: later events get its id, and an update record with
the final count is written when the window closes, the cache evicts it, or input ends.

Examples:
  metron parse dns.log | metron alert --rules rules/ --alerts alerts.ndjson > events.ndjson
  metron alert --rules sigma/ --only-alerts events.ndjson
  metron alert --check rules/ sigma/             # lint: every rule that cannot be loaded
  metron parse -F /opt/zeek/logs/current | metron alert --rules rules/ --dedup-window 10m

A rule that cannot be loaded is reported (file, rule, reason) and the others run; the
exit code is then 1. All of it can be set in [alert] of metron.toml; flags override it.";

const PROFILE_EXAMPLES: &str = "\
Events pass through (unless --only-findings); the stage adds, in the same stream:
  profile records   source.type metron.profile: profile, entity, period_start, period_end and
                    one field per value (the built-in metron.host: bytes_out, connections and
                    peers per ip_src_addr and period)
  findings          source.type metron.finding: finding.kind, score (0 to 1), reason, timestamp,
                    first_seen, last_seen, guid, the entity's fields (ip_src_addr, ip_dst_addr,
                    ip_dst_port, domain, profile, entity) and finding.* numbers
Detections (--detect, default all; docs/analytics.md explains each and its sources):
  beacon      pairs that call on a schedule (RITA's scoring over --window, 24 bins)
  long_conn   connections, and pairs in total, open for hours (1h, 4h, 8h, 12h)
  dns_tunnel  registered domains queried with many distinct names (100, 500, 800, 1000)
  scan        failed attempts to 25 hosts on a port, or 15 ports of a host, in 5 minutes
  anomaly     a profile value beyond 3.5 MADs of the entity's own history (--min-history periods)
Windows and periods close by event time, and at the end of input. With --state DIR, what is
still open is saved instead (and reported when it closes in a later run; --flush closes it
now), histories go on between runs, and a checkpoint is written every minute: a kill -9
loses at most the last minute's events from the state.

Profiles of your own, in metron.toml (values: count(), sum, min, max, mean, stddev, distinct,
quantile(F, q), top(F, k); F is a field name or a CEL expression over e):
  [profile.out_bytes]
  onlyif  = 'e[\"source.type\"] == \"zeek.conn\"'
  foreach = 'ip_src_addr'
  period  = '1h'
  outlier = 'bytes'
  [profile.out_bytes.values]
  bytes = 'sum(orig_bytes)'
  peers = 'distinct(ip_dst_addr)'
  p95   = 'quantile(duration, 0.95)'

Examples:
  metron parse conn.log dns.log | metron profile | metron alert --rules rules/ | metron store ingest
  metron profile --only-findings --detect beacon,scan flows.ndjson
  metron parse -F /opt/zeek/logs/current | metron profile --state /var/lib/metron/profile
  metron alert --rules findings.yml    # e.g. kind: expression, expression: 'e[\"finding.kind\"] == \"beacon\" && e.score > 0.9'";

const LABEL_EXAMPLES: &str = "\
Intel: STIX 2.1 JSON (bundles, TAXII envelopes), abuse.ch URLhaus, Feodo Tracker and SSLBL
CSVs, MISP CSV exports, plain lists (one IP, CIDR, domain, URL, email or hash per line,
# comments), or any CSV described in [label.feeds.NAME] of metron.toml. The format is told
by a file's first lines; FORMAT:PATH names it (stix, urlhaus, feodo, sslbl, misp, list,
csv, or a [label.feeds.NAME]). A directory stands for its files, except hidden ones, *.md,
and licence and readme files. Every file is reported on stderr: indicators per type, and
each row or STIX pattern that could not be used, with its line or object.

A hit on field F of an indicator of type T (ip, domain, url, email, md5, sha1, sha256)
from source S (the file's stem, or NAME) adds
  threatintels.S.F.T = \"alert\", threatintels.S.F.T.indicator (and .id, .name, .labels,
  .confidence where the intel has them), and is_alert = true.
Domains from lists and CSVs also match subdomains; STIX `=` is exact. URLs compare with
scheme and host in lower case and default ports dropped. Events without hits pass
unchanged. Alerts (is_alert) are then scored by [label.triage] rules (CEL expressions over
the event `e`, e.g. e[\"ip_dst_port\"] == 4444) into threat.triage.score and
threat.triage.rules.<i>.{name,comment,score,reason}.

Examples:
  metron parse conn.log dns.log | metron label --intel feeds/ > labeled.ndjson
  metron label --intel urlhaus:urlhaus.csv --intel apt1.json events.ndjson
  metron label --check --intel feeds/            # what each file gives, then exit
  metron parse -F /opt/zeek/logs/current | metron label --intel feeds/ | metron alert -r rules/

Intel files are watched: a changed file is loaded again in the background and replaces
the intel between two events; a broken replacement is reported and the loaded intel stays.
All of it can be set in [label] of metron.toml; --intel replaces [label] intel.";

const GENERATE_EXAMPLES: &str = "\
Examples:
  metron generate zeek-conn -n 1000000 > conn.log
  metron generate suricata-eve -n 1000000 --seed 7 -o eve.json.zst
  metron generate intel -n 1000000 > intel.txt   # a plain feed; ~1% of it is in zeek-conn of the same seed
  metron generate pcap -n 1000000 -o bench.pcap  # interleaved TCP and UDP flows, for capture benchmarks
  metron generate traffic -n 500000 --truth truth.ndjson | metron parse | metron profile --only-findings

traffic is a day of Zeek conn and dns JSON from hundreds of hosts with labelled injections (beacons,
long connections, a DNS tunnel, scans, an upload jump) for `metron profile`; --truth lists them.";

/// Where every stage writes, and how it reads: the same flags on each.
#[derive(Debug, Args)]
pub struct StageIo {
    /// Write events here instead of stdout (.zst and .gz compress), or to kafka://HOST:PORT/TOPIC
    /// (one message per event, keyed by community_id, else ip_src_addr; ?key=FIELD chooses; an event
    /// over message.max.bytes is sent as an error record in its place).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write every error record here (NDJSON) instead of summarizing them on stderr.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,

    /// Keep reading: growing files, and new files in named directories (survives rotation).
    #[arg(short = 'F', long)]
    pub follow: bool,

    /// Longest line accepted; longer lines become error records [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmitChoice {
    Flows,
    Packets,
    Dns,
    Http,
    Tls,
    Ssh,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Read pcap or pcapng files (.zst and .gz are decompressed; `-` is stdin).
    #[arg(short = 'r', long = "read", value_name = "FILE", num_args = 1.., conflicts_with = "interface")]
    pub read: Vec<PathBuf>,

    /// Capture live on this interface (libpcap; needs a build with --features live).
    #[arg(short, long, value_name = "IFACE")]
    pub interface: Option<String>,

    /// BPF filter for live capture, in tcpdump's syntax.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,

    /// Bytes kept of each packet in live capture [default: 262144].
    #[arg(short = 's', long, value_name = "BYTES")]
    pub snaplen: Option<i32>,

    /// Do not put the interface in promiscuous mode (`promisc = false` in [capture]).
    #[arg(long)]
    pub no_promisc: bool,

    /// List the interfaces libpcap can capture on, and exit.
    #[arg(long)]
    pub list_interfaces: bool,

    /// Stop live capture after this many packets.
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<u64>,

    /// Stop live capture after this long (30s, 5m, 1h).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// How often live capture reports libpcap's received and dropped counts [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub stats_interval: Option<String>,

    /// Records to write, one or several: flows, packets (one per packet), dns (one per DNS
    /// transaction), http (one per request), tls and ssh (one per connection) [default: flows].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub emit: Vec<EmitChoice>,

    /// Bytes one direction of a TCP connection holds waiting for a missing segment before
    /// the hole is skipped (http, tls, ssh) [default: 256K].
    #[arg(long, value_name = "SIZE")]
    pub reassembly_flow: Option<String>,

    /// Bytes all TCP connections together hold waiting; past it segments are dropped and
    /// counted [default: 256M].
    #[arg(long, value_name = "SIZE")]
    pub reassembly_total: Option<String>,

    /// Flows held open at once; when full, the flow due soonest is written early, marked evicted [default: 1000000].
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,

    /// TCP flows end after this long without packets [default: 5m].
    #[arg(long, value_name = "DURATION")]
    pub tcp_timeout: Option<String>,

    /// UDP flows end after this long without packets [default: 1m].
    #[arg(long, value_name = "DURATION")]
    pub udp_timeout: Option<String>,

    /// ICMP and other flows end after this long without packets [default: 1m].
    #[arg(long, value_name = "DURATION")]
    pub other_timeout: Option<String>,

    /// A flow longer than this is written and goes on in a next record [default: 30m].
    #[arg(long, value_name = "DURATION")]
    pub active_timeout: Option<String>,

    /// Also write the raw packets as pcap files in DIR (named by their first packet's time).
    #[arg(short, long, value_name = "DIR")]
    pub write: Option<PathBuf>,

    /// Start a new pcap file when the current one reaches this size (K, M, G) [default: 1G].
    #[arg(long, value_name = "SIZE", requires = "write")]
    pub rotate_size: Option<String>,

    /// Start a new pcap file when the current one's first packet is this many seconds old.
    #[arg(long, value_name = "SECONDS", requires = "write")]
    pub rotate_seconds: Option<u64>,

    /// zstd-compress the pcap files (.pcap.zst).
    #[arg(long, requires = "write")]
    pub compress: bool,

    /// Write records here instead of stdout (.zst and .gz compress).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write every error record here (NDJSON) instead of summarizing them on stderr.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Directory of pcap files (as `capture --write` makes), or a pcap file (repeatable).
    #[arg(long, value_name = "DIR", required = true)]
    pub from: Vec<PathBuf>,

    /// Source address or CIDR.
    #[arg(long, value_name = "ADDR")]
    pub ip_src: Option<String>,

    /// Destination address or CIDR.
    #[arg(long, value_name = "ADDR")]
    pub ip_dst: Option<String>,

    /// Source port.
    #[arg(long, value_name = "PORT")]
    pub port_src: Option<u16>,

    /// Destination port.
    #[arg(long, value_name = "PORT")]
    pub port_dst: Option<u16>,

    /// Protocol name (tcp, udp, icmp, ...) or number.
    #[arg(long, value_name = "PROTO")]
    pub protocol: Option<String>,

    /// Packets at or after this time (RFC 3339 or epoch ms).
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,

    /// Packets before this time (RFC 3339 or epoch ms).
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,

    /// Also match packets going the other way (source and destination swapped).
    #[arg(long)]
    pub include_reverse: bool,

    /// Packets of the flow with this Community ID.
    #[arg(long, value_name = "ID")]
    pub community_id: Option<String>,

    /// Packets of the flow records in FILE (NDJSON, e.g. from `metron capture --write`).
    #[arg(long, value_name = "FILE")]
    pub flow_from: Option<PathBuf>,

    /// Write the pcap here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--format`: offers the parse registry's names to completions and takes any name
/// (a `[parsers.NAME]` is checked when the stage is built).
#[derive(Debug, Clone, Copy)]
pub struct FormatName;

impl clap::builder::TypedValueParser for FormatName {
    type Value = String;

    fn parse_ref(
        &self,
        _: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value.to_str().map(str::to_owned).ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(metron::parse::format_names().map(clap::builder::PossibleValue::new)))
    }
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Input format: a built-in one (below), or NAME for a [parsers.NAME] of metron.toml [default: auto].
    #[arg(short, long, value_name = "FORMAT", value_parser = FormatName, hide_possible_values = true)]
    pub format: Option<String>,

    /// Files to read (.gz and .zst are decompressed); none or `-` reads stdin. Or one kafka://HOST:PORT[,HOST:PORT]/TOPIC?group=NAME (a build with --features kafka; docs/scale-out.md).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Parse what arrives on these URLs instead of files (as `metron listen`; repeatable):
    /// tcp://, udp://, tls://, http://, https:// HOST:PORT. Events keep received_from,
    /// received_at and transport; with --format auto each message's format is told apart.
    #[arg(long = "listen", value_name = "URL", conflicts_with_all = ["files", "follow"])]
    pub listen: Vec<String>,

    #[command(flatten)]
    pub net: ListenOpts,

    #[command(flatten)]
    pub io: StageIo,
}

/// The listeners' limits and security, shared by `metron listen` and `parse --listen`.
#[derive(Debug, Args)]
pub struct ListenOpts {
    /// Longest message accepted; longer ones are reported (with the peer) and skipped [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_message_bytes: Option<usize>,

    /// Largest HTTP body accepted, after decompression (413 above it) [default: 64M].
    #[arg(long, value_name = "SIZE")]
    pub max_body_bytes: Option<String>,

    /// Connections open at once; more are refused and counted [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Close a connection that sent nothing for this long [default: 5m].
    #[arg(long, value_name = "DURATION")]
    pub idle_timeout: Option<String>,

    /// Only these peers may send (comma-separated CIDRs or addresses); others are refused and counted.
    #[arg(long, value_name = "CIDR,...", value_delimiter = ',')]
    pub allow: Vec<String>,

    /// HTTP senders must present this token (Authorization: Bearer T, or Splunk T); compared in constant time.
    #[arg(long, value_name = "TOKEN", env = "METRON_LISTEN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Server certificate chain (PEM) for tls:// and https://.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) of --cert.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Clients must present a certificate signed by this CA (PEM); others are refused.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: tcp://HOST:PORT, udp://, tls://, http://, https:// (several at once).
    #[arg(value_name = "URL", required = true)]
    pub urls: Vec<String>,

    /// Write messages here instead of stdout (.zst and .gz compress; SIGHUP reopens it).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write every error record (over-long messages) here (NDJSON) instead of summarizing them on stderr.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,

    /// Write NDJSON {"message", "received_from", "received_at", "transport"} per message,
    /// keeping newlines inside messages; `metron parse` reads these lines.
    #[arg(long)]
    pub envelope: bool,

    #[command(flatten)]
    pub net: ListenOpts,
}

#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// NDJSON events to read (.gz and .zst are decompressed); none or `-` reads stdin. Or one kafka://HOST:PORT[,HOST:PORT]/TOPIC?group=NAME (a build with --features kafka; docs/scale-out.md).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// GeoIP2 or GeoLite2 City (or Country) database.
    #[arg(long, value_name = "CITY.mmdb")]
    pub geoip: Option<PathBuf>,

    /// GeoLite2 ASN (or GeoIP2 ISP) database.
    #[arg(long, value_name = "ASN.mmdb")]
    pub asn: Option<PathBuf>,

    /// Asset inventory keyed by address or CIDR (CSV with a header, or NDJSON).
    #[arg(long, value_name = "FILE")]
    pub assets: Option<PathBuf>,

    /// Internal networks, comma-separated (adds enrichments.network.<field>.internal).
    #[arg(long, value_name = "CIDR,...", value_delimiter = ',')]
    pub internal: Vec<String>,

    /// Lookup table: NAME=FILE:FIELD[,FIELD...] (repeatable).
    #[arg(long = "table", value_name = "NAME=FILE:FIELD")]
    pub tables: Vec<String>,

    /// Address fields to enrich, comma-separated [default: ip_src_addr,ip_dst_addr].
    #[arg(long, value_name = "FIELD,...", value_delimiter = ',')]
    pub ip_fields: Option<Vec<String>>,

    /// Addresses whose GeoIP and ASN results are cached; 0 turns the cache off [default: 65536].
    #[arg(long, value_name = "N")]
    pub cache_size: Option<usize>,

    /// Passive DNS: learn which names the stream's own DNS answers (Zeek dns, Suricata
    /// dns, `capture --emit dns`) gave each address, and add them to later events as
    /// enrichments.dns.<field>.names.
    #[arg(long)]
    pub passive_dns: bool,

    /// Addresses passive DNS remembers; the least recently used goes [default: 100000].
    #[arg(long, value_name = "N")]
    pub passive_dns_size: Option<usize>,

    /// How long passive DNS keeps a name after its answer, in event time [default: 24h].
    #[arg(long, value_name = "DURATION")]
    pub passive_dns_ttl: Option<String>,

    #[command(flatten)]
    pub io: StageIo,
}

#[derive(Debug, Args)]
pub struct AlertArgs {
    /// NDJSON events to read (.gz and .zst are decompressed); none or `-` reads stdin. Or one kafka://HOST:PORT[,HOST:PORT]/TOPIC?group=NAME (a build with --features kafka; docs/scale-out.md).
    /// With --check: more rule files and directories.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Rule files or directories (repeatable; added to [alert] rules of metron.toml).
    #[arg(short, long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Load the rules, list each one that cannot be loaded with the reason, and exit (1 if any).
    #[arg(long)]
    pub check: bool,

    /// Write alert records here (.zst and .gz compress) instead of stdout.
    #[arg(long, value_name = "FILE", conflicts_with = "only_alerts")]
    pub alerts: Option<PathBuf>,

    /// Write only alert records to stdout, not the events.
    #[arg(long)]
    pub only_alerts: bool,

    /// Alerts of one rule and key within this much event time are one [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub dedup_window: Option<String>,

    /// Open alerts kept for de-duplication; the oldest is closed when full [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_cache: Option<usize>,

    /// Field naming the host an alert is about [default: ip_src_addr].
    #[arg(long, value_name = "FIELD")]
    pub designated_host: Option<String>,

    #[command(flatten)]
    pub io: StageIo,
}

#[derive(Debug, Args)]
pub struct LabelArgs {
    /// NDJSON events to read (.gz and .zst are decompressed); none or `-` reads stdin. Or one kafka://HOST:PORT[,HOST:PORT]/TOPIC?group=NAME (a build with --features kafka; docs/scale-out.md).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Intel file or directory, PATH or FORMAT:PATH (repeatable; replaces [label] intel).
    #[arg(long = "intel", value_name = "[FORMAT:]PATH")]
    pub intel: Vec<String>,

    /// Load the intel and triage rules, report what each file gives, and exit (1 if anything could not be used).
    #[arg(long)]
    pub check: bool,

    /// Do not reload intel files when they change.
    /// Largest STIX file read, decompressed (K, M, G) [default: 128M].
    #[arg(long, value_name = "SIZE")]
    pub max_stix_bytes: Option<String>,

    #[arg(long)]
    pub no_reload: bool,

    #[command(flatten)]
    pub io: StageIo,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Read what the followed files hold now, finish, commit and exit (listeners stop then too).
    #[arg(long)]
    pub once: bool,

    /// Validate the config (every problem at once), print the plan and exit.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Detections to run, comma-separated: beacon, long_conn, dns_tunnel, scan, anomaly [default: all].
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    pub detect: Vec<String>,

    /// Write findings and profile records only, not the events.
    #[arg(long)]
    pub only_findings: bool,

    /// The window of the beacon, long connection and DNS tunnel detections [default: 24h].
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,

    /// The period of profiles (anomalies are judged per period) [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub period: Option<String>,

    /// Periods of an entity's history an anomaly needs [default: 12].
    #[arg(long, value_name = "N")]
    pub min_history: Option<usize>,

    /// Keep windows and histories here between runs, checkpointed every minute.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// With --state: close the windows and periods still open at the end of input too.
    #[arg(long, requires = "state")]
    pub flush: bool,

    /// Entities (pairs, domains, scanners, hosts) each detection holds at most; the least recently seen go first [default: 100000].
    #[arg(long, value_name = "N")]
    pub max_entities: Option<usize>,

    /// Files to read (NDJSON events); none or `-` reads stdin. Or one kafka://HOST:PORT[,HOST:PORT]/TOPIC?group=NAME (a build with --features kafka; docs/scale-out.md).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub io: StageIo,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to generate.
    #[arg(value_parser = metron::gen::GEN_KINDS)]
    pub kind: String,

    /// How many records (for traffic: ordinary records of the day, about 1,500 per host).
    #[arg(short = 'n', long, default_value_t = 1000)]
    pub count: u64,

    /// Random seed: the same seed gives the same output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Write here instead of stdout (.zst and .gz compress).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// traffic: write what was injected (the truth) here, as NDJSON.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also write the demo's events here (NDJSON).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The store the demo fills (replaced by the next demo; `metron hunt --store DIR` opens it).
    #[arg(long, value_name = "DIR", default_value = "metron-demo-store")]
    pub store: PathBuf,
}

const STORE_EXAMPLES: &str = "\
Examples:
  metron parse conn.log | metron alert -r rules/ | metron store ingest
  metron store ingest -F /var/log/metron/          # keep ingesting while others query
  metron store query 'SELECT \"source.type\", count(*) FROM events GROUP BY 1'
  metron store query 'SELECT conn_state, avg(duration) FROM zeek_conn GROUP BY 1'
  metron store query --format csv --param ESCALATE 'SELECT alert_id, description FROM alerts WHERE status = ?'
  metron store triage 0193... --status ESCALATE --comment 'beaconing to known C2'
  metron store export --parquet lake/ --since 7d
  metron store prune --older-than 90d
  metron store stats

Tables: events (typed guid, timestamp, \"source.type\", ip_src_addr, ip_src_port, ip_dst_addr,
ip_dst_port, protocol, community_id, is_alert, \"threat.triage.score\", alerts; every other
field a column of its own, so quote names with dots; a field whose type differs between
sources is text here), one view per source type named after it (zeek.conn -> zeek_conn,
suricata.dns -> suricata_dns: lower case, other characters `_`; `store stats` lists them)
with that source's own fields in the types it writes, alerts (one row per alert_id with
status, assignee, meta_alert, comments, triaged_at), alert_records, errors, triage, searches.
Timestamps are epoch milliseconds: epoch_ms(timestamp) makes a TIMESTAMP.
The store is a directory (--store, $METRON_STORE, [store] dir, ./metron-store) of zstd
Parquet segments and an append-only triage log; no network access, ever.";

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store].
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Run one search (the console's search language), print the rows and exit.
    #[arg(long, value_name = "SEARCH")]
    pub query: Option<String>,

    /// Output format of --query [default: table on a terminal, ndjson otherwise].
    #[arg(long, value_enum, value_name = "FORMAT", requires = "query")]
    pub format: Option<QueryFormat>,

    /// Widest table column of --query, in characters [default: 48].
    #[arg(long, value_name = "N")]
    pub max_width: Option<usize>,

    /// How often the console looks for new alerts (0 turns it off) [default: 2s].
    #[arg(long, value_name = "DURATION")]
    pub refresh: Option<String>,

    /// Where `metron capture --write` keeps packets; enables extracting a flow's packets (x).
    #[arg(long, value_name = "DIR")]
    pub pcap_dir: Option<PathBuf>,

    /// Who acts, for the triage history [default: $USER].
    #[arg(long, value_name = "WHO")]
    pub who: Option<String>,

    /// Measure the console on this search instead of opening it (scripts/bench-hunt.sh).
    #[arg(long, value_name = "SEARCH", hide = true)]
    pub bench: Option<String>,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store directory [default: $METRON_STORE, then [store] dir of metron.toml, then ./metron-store].
    /// `store query` takes it more than once and reads the stores as one (shards written by
    /// several ingests).
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Store NDJSON events, alert records and error records (routed by source.type); idempotent by guid.
    Ingest(StoreIngestArgs),
    /// Run one read-only SQL query over the store's tables.
    Query(StoreQueryArgs),
    /// Record a triage action (status, comment, assignee, meta-alert) on alerts, with who and when.
    Triage(StoreTriageArgs),
    /// Write zstd Parquet partitioned by day and source_type, for DuckDB, Spark or Trino.
    Export(StoreExportArgs),
    /// Remove records older than a duration (retention).
    Prune(StorePruneArgs),
    /// Events per source type, time range, alerts, bytes on disk and per event.
    Stats,
    /// Merge small segments (ingest does this at its end).
    Compact,
}

#[derive(Debug, Args)]
pub struct StoreIngestArgs {
    /// NDJSON records to store (.gz and .zst are decompressed); none or `-` reads stdin. Or one kafka://HOST:PORT[,HOST:PORT]/TOPIC?group=NAME (a build with --features kafka; docs/scale-out.md). Offsets are committed after the segments are.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Keep reading growing files and new files in named directories.
    #[arg(short = 'F', long)]
    pub follow: bool,

    /// Write error records for lines that are not events here (NDJSON) instead of summarizing them.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,

    /// Longest line accepted; longer lines become error records [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,

    /// Records per batch; each batch is stored whole or not at all [default: 100000].
    #[arg(long, value_name = "N")]
    pub batch_rows: Option<usize>,

    /// When following, store what has arrived at least this often [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub flush_interval: Option<String>,
}

#[derive(Debug, Args)]
pub struct StoreQueryArgs {
    /// The SQL (a SELECT, WITH, FROM or DESCRIBE; nothing that writes).
    #[arg(value_name = "SQL")]
    pub sql: String,

    /// Values for the query's `?` placeholders, in order (numbers stay numbers unless quoted: --param 'text').
    #[arg(long = "param", value_name = "VALUE")]
    pub params: Vec<String>,

    /// Output format [default: table on a terminal, ndjson otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<QueryFormat>,

    /// Widest table column, in characters [default: 48].
    #[arg(long, value_name = "N")]
    pub max_width: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    Table,
    Ndjson,
    Csv,
}

#[derive(Debug, Args)]
pub struct StoreTriageArgs {
    /// Alert ids (the alert_id of the alerts table).
    #[arg(value_name = "ALERT_ID", required = true)]
    pub alert_ids: Vec<String>,

    /// New status: NEW, OPEN, ESCALATE, DISMISS or RESOLVE.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,

    /// A comment to keep with the action.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,

    /// Assign the alerts to someone.
    #[arg(long = "assign", value_name = "WHO")]
    pub assign: Option<String>,

    /// Group the alerts into this meta-alert.
    #[arg(long, value_name = "META_ID", conflicts_with = "ungroup")]
    pub group: Option<String>,

    /// Take the alerts out of their meta-alert.
    #[arg(long)]
    pub ungroup: bool,

    /// Who acts [default: $USER].
    #[arg(long, value_name = "WHO")]
    pub who: Option<String>,
}

#[derive(Debug, Args)]
pub struct StoreExportArgs {
    /// The lake directory: DIR/day=YYYY-MM-DD/source_type=TYPE/*.parquet.
    #[arg(long, value_name = "DIR", required = true)]
    pub parquet: PathBuf,

    /// Only records at or after this time: RFC 3339, YYYY-MM-DD, epoch ms, or a duration ago (7d, 12h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only records before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only this source.type (repeatable).
    #[arg(long = "source-type", value_name = "TYPE")]
    pub source_types: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StorePruneArgs {
    /// Remove records whose timestamp is older than this (90d, 12h, ...).
    #[arg(long, value_name = "DURATION", required = true)]
    pub older_than: String,
}
