//! Kafka between stages, against a real broker on loopback: tansu, a Kafka-protocol
//! broker (`cargo install tansu --locked --features dynostore,libsql`: memory storage,
//! and SQLite for the restart; `.ci/run` installs it, `TANSU` names another binary). The stages are the real binary; offsets and
//! lag are read with librdkafka, as any Kafka tool would.
#![cfg(feature = "kafka")]

mod common;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The tests run one at a time: each moves hundreds of thousands of events through
/// a broker and several processes, and two at once on two cores starve each other
/// into timeouts.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_metron")
}

/// A tansu broker on a free loopback port. A shell watches it: the broker is killed
/// when the test process goes away, however it ends.
struct Broker {
    watchdog: Child,
    port: u16,
}

impl Broker {
    /// A broker keeping its topics in memory.
    fn start(dir: &Path, port: u16) -> Broker {
        Broker::start_with(dir, port, "memory://tansu/")
    }

    /// A broker keeping its topics in `storage` (`sqlite://FILE` is relative to `dir`:
    /// it survives a restart).
    fn start_with(dir: &Path, port: u16, storage: &str) -> Broker {
        let tansu = std::env::var("TANSU").unwrap_or_else(|_| "tansu".into());
        let listener = format!("tcp://127.0.0.1:{port}");
        let log = dir.join(format!("tansu-{port}.log"));
        let script = format!(
            "'{tansu}' broker --listener-url {listener} --advertised-listener-url {listener} \
             --storage-engine {storage} >>'{log}' 2>&1 & t=$!; trap 'kill -9 $t; exit 0' TERM; \
             while kill -0 {me} 2>/dev/null && kill -0 $t 2>/dev/null; do sleep 0.5; done; kill -9 $t 2>/dev/null",
            log = log.display(),
            me = std::process::id()
        );
        let watchdog = Command::new("sh").args(["-c", &script]).current_dir(dir).spawn().expect("sh");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {port} (is it installed? cargo install tansu --locked --features dynostore): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Broker { watchdog, port }
    }

    fn url(&self, topic: &str) -> String {
        format!("kafka://127.0.0.1:{}/{topic}", self.port)
    }

    fn create_topic(&self, name: &str, partitions: u32) {
        let tansu = std::env::var("TANSU").unwrap_or_else(|_| "tansu".into());
        let out = Command::new(tansu)
            .args(["topic", "create", name, "--partitions", &partitions.to_string()])
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .output()
            .expect("tansu topic create");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", format!("127.0.0.1:{}", self.port));
        c
    }

    /// Per partition, the offset `group` committed (0 when none).
    fn committed(&self, group: &str, topic: &str, partitions: i32) -> Vec<i64> {
        let consumer: BaseConsumer = self.client().set("group.id", group).create().unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p);
        }
        let committed = consumer.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
        committed
            .elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(o) => o,
                _ => 0,
            })
            .collect()
    }

    /// Per partition, the offset after its last message, and how many messages the
    /// topic holds, found by reading it to its end. (Not by ListOffsets: tansu 0.6
    /// answers "latest" with the last batch's first offset + 1, not the log end
    /// offset Apache Kafka gives; docs/scale-out.md.)
    fn ends(&self, topic: &str, partitions: i32) -> (Vec<i64>, i64) {
        let mut ends = vec![0; partitions as usize];
        let mut count = 0;
        self.read(topic, partitions, |partition, offset, _| {
            ends[partition as usize] = offset + 1;
            count += 1;
        });
        (ends, count)
    }

    /// Every message of a one-partition topic, in order, as JSON.
    fn messages(&self, topic: &str) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        self.read(topic, 1, |_, _, payload| out.push(serde_json::from_slice(payload).unwrap()));
        out
    }

    /// Reads every partition of `topic` from its beginning to its end, giving each
    /// message (partition, offset, payload) to `f`.
    fn read(&self, topic: &str, partitions: i32, mut f: impl FnMut(i32, i64, &[u8])) {
        use rdkafka::Message;
        let consumer: BaseConsumer =
            self.client().set("group.id", "metron-test-reader").set("enable.partition.eof", "true").create().unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
        }
        consumer.assign(&tpl).unwrap();
        let mut done = std::collections::HashSet::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while done.len() < partitions as usize {
            assert!(Instant::now() < deadline, "could not read {topic} to its end");
            match consumer.poll(Duration::from_millis(500)) {
                Some(Ok(m)) => f(m.partition(), m.offset(), m.payload().unwrap_or_default()),
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                    done.insert(p);
                }
                _ => {}
            }
        }
    }

    /// Messages `group` has not committed, given the partitions' ends.
    fn lag(&self, group: &str, topic: &str, ends: &[i64]) -> i64 {
        let committed = self.committed(group, topic, ends.len() as i32);
        ends.iter().zip(committed).map(|(e, c)| e - c).sum()
    }

    fn produce(&self, topic: &str, messages: &[&[u8]]) {
        let producer: BaseProducer = self.client().create().unwrap();
        for m in messages {
            producer.send(BaseRecord::<(), [u8]>::to(topic).payload(m)).unwrap();
        }
        producer.flush(Duration::from_secs(30)).unwrap();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.watchdog.id().to_string()]).status();
        let _ = self.watchdog.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `dir/conn.log`: `n` generated Zeek conn lines (`seed`).
fn generate_conn(dir: &Path, n: i64, seed: u64) -> std::path::PathBuf {
    let conn = dir.join("conn.log");
    let status = Command::new(bin())
        .args(["generate", "zeek-conn", "-n", &n.to_string(), "--seed", &seed.to_string(), "-o"])
        .arg(&conn)
        .status();
    assert!(status.unwrap().success());
    conn
}

/// `n` generated Zeek conn lines (`seed`) parsed into `topic`; its partitions' ends.
fn parse_to_topic(broker: &Broker, dir: &Path, n: i64, seed: u64, topic: &str, partitions: i32) -> Vec<i64> {
    let conn = generate_conn(dir, n, seed);
    let out =
        Command::new(bin()).args(["parse", "-q", "-f", "zeek"]).arg(&conn).args(["-o", &broker.url(topic)]).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (ends, produced) = broker.ends(topic, partitions);
    assert_eq!(produced, n, "parse produced every event");
    ends
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A process killed when the test ends, passed or not.
struct Running(Child);

impl Running {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
    /// SIGTERM, and how it exited.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        self.0.wait().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn query(store: &Path, sql: &str) -> serde_json::Value {
    let out = Command::new(bin())
        .args(["store", "query", "--store"])
        .arg(store)
        .args(["--format", "ndjson", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    common::lines(&out.stdout).remove(0)
}

/// The acceptance run: parse produces 200,000 events to a 4-partition topic;
/// two enrich processes in one group consume it and produce to a second topic; one is
/// killed with -9 mid-stream and another started; store ingest consumes the second
/// topic. Every event is stored exactly once, each enriched, and no lag is left.
#[test]
#[ignore = "intermittent on tansu 0.6 (2 of 8 runs): it gives partitions to the killed consumer and never \
            expires its session; run by hand with --ignored --nocapture (docs/scale-out.md)"]
fn a_consumer_killed_mid_stream_loses_nothing_and_the_store_holds_each_event_once() {
    let _serial = serial();
    const N: i64 = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path(), free_port());
    broker.create_topic("raw", 4);
    broker.create_topic("enriched", 4);

    let raw_ends = parse_to_topic(&broker, dir.path(), N, 5, "raw", 4);

    let consumer = |n: u32| {
        let source = format!("{}?group=enrich&session.timeout.ms=6000&heartbeat.interval.ms=500", broker.url("raw"));
        Command::new(bin())
            .args(["enrich", "--internal", "10.0.0.0/8", &source, "-o", &broker.url("enriched")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join(format!("enrich-{n}.err"))).unwrap())
            .spawn()
            .map(Running)
            .unwrap()
    };
    let mut first = consumer(1);
    let mut second = consumer(2);
    // Kill one once it reads partitions of a settled group and the group has committed
    // some of the topic, and start another. (Killed in the middle of a rebalance, the
    // dead member kept its partitions on tansu 0.6 for good: docs/scale-out.md.)
    let reading = |n: u32| {
        std::fs::read_to_string(dir.path().join(format!("enrich-{n}.err")))
            .unwrap_or_default()
            .lines()
            .rfind(|l| l.contains("reading partitions") || l.contains("giving up partitions"))
            .is_some_and(|l| l.contains("reading partitions") && !l.ends_with("none"))
    };
    wait_for("the enrich group to commit", Duration::from_secs(120), || {
        reading(1) && reading(2) && broker.lag("enrich", "raw", &raw_ends) < N
    });
    first.kill();
    let lag_at_kill = broker.lag("enrich", "raw", &raw_ends);
    assert!(lag_at_kill > 0, "the kill came after the end; the test proves nothing");
    let mut third = consumer(3);
    let mut last_said = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let lag = broker.lag("enrich", "raw", &raw_ends);
        if lag == 0 {
            break;
        }
        if last_said.elapsed() > Duration::from_secs(5) {
            eprintln!("enrich lag {lag}: committed {:?} of {raw_ends:?}", broker.committed("enrich", "raw", 4));
            last_said = Instant::now();
        }
        if Instant::now() > deadline {
            // Which partitions each consumer was given, for telling the broker's group
            // handling from ours.
            for n in 1..=3 {
                let said = std::fs::read_to_string(dir.path().join(format!("enrich-{n}.err"))).unwrap_or_default();
                eprintln!("--- enrich {n} said:\n{said}");
            }
            panic!("timed out waiting for the enrich group to catch up (lag {lag})");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    for c in [&mut second, &mut third] {
        let status = c.terminate();
        assert!(status.success(), "enrich exits 0 on SIGTERM: {status:?}");
    }
    let (enriched_ends, enriched) = broker.ends("enriched", 4);
    assert!(enriched >= N, "at least once: {enriched} messages for {N} events");

    let store = dir.path().join("store");
    let source = format!("{}?group=store&eof=true", broker.url("enriched"));
    let out = Command::new(bin()).args(["store", "ingest", "--store"]).arg(&store).arg(&source).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(broker.lag("store", "enriched", &enriched_ends), 0, "store ingest committed its offsets");

    let counts = query(
        &store,
        "SELECT count(*) AS n, count(DISTINCT guid) AS guids, count(DISTINCT uid) AS uids, \
         count(\"enrichments.network.ip_src_addr.internal\") AS enriched FROM events",
    );
    assert_eq!(counts["n"], N, "{counts}");
    assert_eq!(counts["guids"], N, "{counts}");
    assert_eq!(counts["uids"], N, "{counts}");
    assert_eq!(counts["enriched"], N, "{counts}");
}

/// What is not an event (not JSON, too long) becomes an error record naming the topic,
/// the partition and the offset; the good messages around it go on.
#[test]
fn poison_messages_become_error_records_and_the_partition_moves_on() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path(), free_port());
    broker.create_topic("poison", 1);
    let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(5000));
    broker.produce(
        "poison",
        &[b"{\"ip_src_addr\":\"10.1.1.1\"}", b"not json at all", long.as_bytes(), b"{\"ip_src_addr\":\"192.0.2.9\"}"],
    );
    let out_file = dir.path().join("out.ndjson");
    let errors = dir.path().join("errors.ndjson");
    let out = Command::new(bin())
        .args(["enrich", "--internal", "10.0.0.0/8", "--max-line-bytes", "1000"])
        .arg(format!("{}?group=p&eof=true", broker.url("poison")))
        .arg("-o")
        .arg(&out_file)
        .arg("--errors")
        .arg(&errors)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "errors make exit code 1: {}", String::from_utf8_lossy(&out.stderr));
    let events = common::lines(&std::fs::read(&out_file).unwrap());
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["enrichments.network.ip_src_addr.internal"], true);
    assert_eq!(events[1]["enrichments.network.ip_src_addr.internal"], false);
    let errs = common::lines(&std::fs::read(&errors).unwrap());
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0]["file"], "poison[0]");
    assert_eq!(errs[0]["line"], 1, "the offset of the message");
    assert!(errs[0]["message"].as_str().unwrap().contains("not an event"), "{}", errs[0]);
    assert_eq!(errs[1]["line"], 2);
    assert!(errs[1]["message"].as_str().unwrap().contains("over the limit"), "{}", errs[1]);
    assert_eq!(broker.committed("p", "poison", 1), [4], "the bad messages are committed past, not retried forever");
}

/// An event larger than the output topic takes would be refused at every restart: an
/// error record saying so goes in its place (with a guid made from the event, so a
/// replay sends the same record), and the events around it go on.
#[test]
fn an_event_too_large_for_the_topic_becomes_an_error_record() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path(), free_port());
    broker.create_topic("big", 1);
    let input = dir.path().join("in.ndjson");
    let big = format!("{{\"source.type\":\"x\",\"guid\":\"g2\",\"pad\":\"{}\"}}", "y".repeat(5000));
    std::fs::write(&input, format!("{{\"guid\":\"g1\"}}\n{big}\n{{\"guid\":\"g3\"}}\n")).unwrap();
    let sink = format!("{}?message.max.bytes=2000", broker.url("big"));
    let send = || {
        let out =
            Command::new(bin()).args(["enrich", "--internal", "10.0.0.0/8", "-o", &sink]).arg(&input).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = send();
    assert!(said.contains("too large for the topic"), "said on stderr: {said}");
    let got = broker.messages("big");
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!((got[0]["guid"].as_str(), got[2]["guid"].as_str()), (Some("g1"), Some("g3")));
    let error = &got[1];
    assert_eq!(error["source.type"], "error");
    assert_eq!(error["error_type"], "store_error");
    assert_eq!(error["failed_sensor_type"], "x");
    assert!(error["message"].as_str().unwrap().contains(" bytes, more than the topic big takes"), "{error}");
    assert!(error["raw_message"].as_str().unwrap().starts_with("{\"source.type\":\"x\""), "{error}");
    // Sent again, the same event gives the same error record.
    send();
    let again = broker.messages("big");
    assert_eq!(again[4]["guid"], error["guid"]);
}

/// `metron run` with a Kafka sink: the followed file's events go to the topic, its
/// positions are kept in `[run] state` after the broker acknowledged them, so a second
/// run sends nothing again; without `state` the config is refused.
#[test]
fn run_sends_to_a_topic_and_checkpoints_after_the_broker_acknowledges() {
    let _serial = serial();
    const N: i64 = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path(), free_port());
    broker.create_topic("run-out", 1);
    let conn = generate_conn(dir.path(), N, 11);
    let config = dir.path().join("metron.toml");
    let run_with = |state: &str| {
        let toml = format!(
            "[enrich]\ninternal = [\"10.0.0.0/8\"]\n[[run.source]]\nfollow = {:?}\nformat = \"zeek\"\n\
             [run]\nstages = [\"enrich\"]\nsink = {:?}\n{state}",
            conn.display().to_string(),
            broker.url("run-out")
        );
        std::fs::write(&config, toml).unwrap();
        Command::new(bin()).arg("--config").arg(&config).args(["run", "--once"]).output().unwrap()
    };
    let refused = run_with("");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("needs `state"), "{refused:?}");

    let state = format!("state = {:?}\n", dir.path().join("state").display().to_string());
    let out = run_with(&state);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("state/checkpoint.json").exists());
    let (_, sent) = broker.ends("run-out", 1);
    assert_eq!(sent, N);
    let got = broker.messages("run-out");
    assert!(got.iter().all(|e| e["enrichments.network.ip_src_addr.internal"].is_boolean()), "{}", got[0]);

    let again = run_with(&state);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(broker.ends("run-out", 1).1, N, "the second run read on from the checkpoint");
}

/// Messages keyed by community_id (else ip_src_addr): one flow stays on one
/// partition, as alert's de-duplication and profile's windows need.
#[test]
fn events_of_one_flow_land_on_one_partition() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path(), free_port());
    broker.create_topic("keyed", 4);
    let input = dir.path().join("in.ndjson");
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!("{{\"community_id\":\"1:flow{}\",\"n\":{i}}}\n", i % 8));
    }
    std::fs::write(&input, text).unwrap();
    let out = Command::new(bin())
        .args(["enrich", "--internal", "10.0.0.0/8"])
        .arg(&input)
        .args(["-o", &broker.url("keyed")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let consumer: BaseConsumer =
        broker.client().set("group.id", "check").set("auto.offset.reset", "earliest").create().unwrap();
    consumer.subscribe(&["keyed"]).unwrap();
    let mut partition_of = std::collections::HashMap::new();
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen < 400 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            use rdkafka::Message;
            let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
            let flow = v["community_id"].as_str().unwrap().to_owned();
            assert_eq!(m.key(), Some(flow.as_bytes()));
            let p = *partition_of.entry(flow.clone()).or_insert(m.partition());
            assert_eq!(p, m.partition(), "{flow} on two partitions");
            seen += 1;
        }
    }
    assert_eq!(seen, 400);
    let used: std::collections::HashSet<_> = partition_of.values().collect();
    assert!(used.len() > 1, "8 flows all on one partition: the key is not used");
}

/// parse reading a topic gives each event a guid made from where its line was read
/// (topic, partition, offset): a second group reading the same messages (as after a
/// crash before the commit) gets the same guids, which the store keeps once.
#[test]
fn parse_from_a_topic_gives_the_same_guids_when_it_reads_the_messages_again() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path(), free_port());
    broker.create_topic("eve", 2);
    let out = Command::new(bin())
        .args(["generate", "suricata-eve", "-n", "2000", "--seed", "3", "-o", &broker.url("eve")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = |group: &str| {
        let out = Command::new(bin())
            .args(["parse", "-f", "suricata", &format!("{}?group={group}&eof=true", broker.url("eve"))])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut guids: Vec<String> =
            common::lines(&out.stdout).iter().map(|e| e["guid"].as_str().unwrap().to_owned()).collect();
        guids.sort();
        guids
    };
    let first = read("a");
    let again = read("b");
    assert!(first.len() >= 2000, "{}", first.len());
    assert_eq!(first, again);
    let distinct: std::collections::HashSet<_> = first.iter().collect();
    assert_eq!(distinct.len(), first.len(), "one guid per event");
}

/// The broker goes away in the middle of a run and comes back (its topics and the
/// group's offsets kept in SQLite): the consumer waits and goes on, the producer
/// retries, and the store ends with every event once.
#[test]
fn a_broker_restart_mid_stream_loses_nothing() {
    let _serial = serial();
    const N: i64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let storage = "sqlite://tansu.db";
    let mut broker = Broker::start_with(dir.path(), port, storage);
    broker.create_topic("raw", 2);
    broker.create_topic("enriched", 2);
    let raw_ends = parse_to_topic(&broker, dir.path(), N, 8, "raw", 2);
    let mut enrich = Command::new(bin())
        .args(["enrich", "--internal", "10.0.0.0/8", &format!("{}?group=enrich", broker.url("raw"))])
        .args(["-o", &broker.url("enriched")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("enrich.err")).unwrap())
        .spawn()
        .map(Running)
        .unwrap();
    wait_for("the enrich group to commit", Duration::from_secs(120), || broker.lag("enrich", "raw", &raw_ends) < N);
    assert!(broker.lag("enrich", "raw", &raw_ends) > 0, "the restart came after the end; the test proves nothing");
    drop(broker);
    std::thread::sleep(Duration::from_secs(2));
    broker = Broker::start_with(dir.path(), port, storage);
    wait_for("the enrich group to catch up", Duration::from_secs(300), || broker.lag("enrich", "raw", &raw_ends) == 0);
    assert!(enrich.terminate().success());
    let said = std::fs::read_to_string(dir.path().join("enrich.err")).unwrap();
    let outage = ["Connection refused", "Disconnected", "brokers are down"];
    assert!(outage.iter().any(|o| said.contains(o)), "the outage was said: {said}");

    let store = dir.path().join("store");
    let source = format!("{}?group=store&eof=true", broker.url("enriched"));
    let out = Command::new(bin()).args(["store", "ingest", "--store"]).arg(&store).arg(&source).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let counts = query(&store, "SELECT count(*) AS n, count(DISTINCT guid) AS guids FROM events");
    assert_eq!(counts["n"], N, "{counts}");
    assert_eq!(counts["guids"], N, "{counts}");
}
