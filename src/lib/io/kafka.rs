//! Kafka topics as inputs and outputs, named by URL:
//! `kafka://HOST:PORT[,HOST:PORT…]/TOPIC?group=NAME&offset=earliest&key=FIELD`.
//!
//! The URL is read by every build (so that a build without Kafka says so instead of
//! looking for a file called `kafka:`); the client is librdkafka, behind the `kafka`
//! cargo feature.
//!
//! At-least-once: a consumer stores a message's offset only after what the stage
//! made of it was handed on and acknowledged (the producer's acks, the store's
//! commit, the output file's flush), and librdkafka commits stored offsets. A record
//! redelivered after a crash keeps its guid, and the store drops repeated guids.

use std::path::Path;

pub const SCHEME: &str = "kafka://";

/// Whether an input or output argument names a Kafka topic.
pub fn is_kafka(arg: &Path) -> bool {
    arg.to_str().is_some_and(|s| s.starts_with(SCHEME))
}

/// Where a consumer starts in a partition its group has no committed offset for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    Earliest,
    Latest,
}

/// Which field's value keys the messages a producer writes (and so picks their
/// partition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    /// `community_id`, else `ip_src_addr`: one flow, and one host, stay on one
    /// partition.
    Default,
    Field(String),
    /// `key=` (empty): no key; librdkafka spreads the messages.
    None,
}

impl KeyChoice {
    /// The fields looked at, in order of preference.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            KeyChoice::Default => vec![crate::event::fields::COMMUNITY_ID, "ip_src_addr"],
            KeyChoice::Field(f) => vec![f.as_str()],
            KeyChoice::None => Vec::new(),
        }
    }
}

/// A `kafka://` URL, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaUrl {
    /// `host:port,host:port`, as librdkafka's `bootstrap.servers`.
    pub brokers: String,
    pub topic: String,
    /// The consumer group; `None` means the stage's default (`metron-STAGE`).
    pub group: Option<String>,
    pub offset: StartAt,
    pub key: KeyChoice,
    /// `eof=true`: a consumer stops once every partition it was given is read to
    /// its end (batch jobs, benchmarks, tests).
    pub eof: bool,
    /// Other librdkafka properties, passed through as given (`security.protocol`,
    /// `session.timeout.ms`, ...): any name with a dot.
    pub client: Vec<(String, String)>,
}

impl KafkaUrl {
    /// Reads `text`, reporting every problem at once.
    pub fn parse(text: &str) -> Result<KafkaUrl, String> {
        let rest = text.strip_prefix(SCHEME).ok_or_else(|| format!("{text}: a Kafka URL starts with {SCHEME}"))?;
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut problems = Vec::new();
        let (hosts, topic) = location.split_once('/').unwrap_or((location, ""));
        if hosts.is_empty() {
            problems.push("no broker (kafka://HOST:PORT/TOPIC)".to_owned());
        }
        for host in hosts.split(',').filter(|h| !h.is_empty()) {
            match host.rsplit_once(':') {
                Some((name, port)) if !name.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {}
                _ => problems.push(format!("broker {host:?} is not HOST:PORT")),
            }
        }
        let topic = topic.trim_end_matches('/');
        if topic.is_empty() {
            problems.push("no topic (kafka://HOST:PORT/TOPIC)".to_owned());
        } else if topic.len() > 249 || !topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            problems.push(format!("topic {topic:?} is not a Kafka topic name (letters, digits, . _ -; at most 249)"));
        }
        let mut url = KafkaUrl {
            brokers: hosts.to_owned(),
            topic: topic.to_owned(),
            group: None,
            offset: StartAt::Earliest,
            key: KeyChoice::Default,
            eof: false,
            client: Vec::new(),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let secret = is_secret(name);
            let value = match percent_decode(value) {
                Some(v) => v,
                None if secret => {
                    problems.push(format!("{name}: its value has a bad %-escape"));
                    continue;
                }
                None => {
                    problems.push(format!("{name}: {value:?} has a bad %-escape"));
                    continue;
                }
            };
            match name {
                "group" if !value.is_empty() => url.group = Some(value),
                "offset" => match value.as_str() {
                    "earliest" => url.offset = StartAt::Earliest,
                    "latest" => url.offset = StartAt::Latest,
                    _ => problems.push(format!("offset={value}: earliest or latest")),
                },
                "key" if value.is_empty() => url.key = KeyChoice::None,
                "key" => url.key = KeyChoice::Field(value),
                "eof" => match value.as_str() {
                    "true" | "1" | "yes" => url.eof = true,
                    "false" | "0" | "no" => url.eof = false,
                    _ => problems.push(format!("eof={value}: true or false")),
                },
                // librdkafka's own settings all have a dot in their names.
                _ if name.contains('.') && !value.is_empty() => url.client.push((name.to_owned(), value)),
                _ => problems.push(format!(
                    "{:?}: not an option (group, offset, key, eof, or a librdkafka property such as security.protocol=SSL)",
                    if secret { format!("{name}=***") } else { pair.to_owned() }
                )),
            }
        }
        if problems.is_empty() {
            Ok(url)
        } else {
            Err(format!("{}: {}", redact(text), problems.join("; ")))
        }
    }

    /// The URL for messages: passwords (`sasl.password`, `*.key.password`) hidden.
    pub fn display(&self) -> String {
        format!("{SCHEME}{}/{}", self.brokers, self.topic)
    }
}

/// Whether an option's value is a secret, never repeated in messages.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.contains("password") || name.contains("secret")
}

/// `text` with the values of options that look like secrets replaced by `***`.
fn redact(text: &str) -> String {
    let Some((head, query)) = text.split_once('?') else { return text.to_owned() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if is_secret(k) => format!("{k}=***"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{head}?{}", pairs.join("&"))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads a `kafka://` argument, or says that this build cannot use it.
pub fn url_of(arg: &Path) -> Result<KafkaUrl, String> {
    let text = arg.to_str().ok_or_else(|| format!("{}: not a Kafka URL", arg.display()))?;
    let url = KafkaUrl::parse(text)?;
    if cfg!(feature = "kafka") {
        Ok(url)
    } else {
        Err(format!(
            "{}: this metron was built without Kafka; build it with `cargo build --release --features kafka`",
            url.display()
        ))
    }
}

#[cfg(feature = "kafka")]
pub use client::{KafkaInput, KafkaSink, Polled};

#[cfg(feature = "kafka")]
mod client {
    use super::{KafkaUrl, StartAt};
    use crate::event::scan::{scan_object, FieldValue, FieldVisitor, Key, Scalar};
    use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
    use rdkafka::error::{KafkaError, RDKafkaErrorCode};
    use rdkafka::message::Message;
    use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
    use rdkafka::{ClientContext, Offset, TopicPartitionList};
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::{self, Write};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// How often the same kind of broker trouble is said again on stderr.
    const SAY_EVERY: Duration = Duration::from_secs(10);

    /// What librdkafka reports (a broker down, a group rebalancing), said on stderr
    /// now and then instead of at every retry, and never silently.
    struct Ctx {
        name: String,
        quiet: bool,
        last_said: Mutex<Option<Instant>>,
        /// The first message that could not be delivered, for the producer's flush.
        failed: Mutex<Option<String>>,
        /// Messages the broker refused as too large (its `message.max.bytes` is below
        /// ours): the sink sends error records in their place.
        too_large: Mutex<Vec<Vec<u8>>>,
    }

    impl Ctx {
        fn new(name: String, quiet: bool) -> Ctx {
            Ctx {
                name,
                quiet,
                last_said: Mutex::new(None),
                failed: Mutex::new(None),
                too_large: Mutex::new(Vec::new()),
            }
        }

        fn say(&self, message: &str) {
            if self.quiet {
                return;
            }
            let Ok(mut last) = self.last_said.lock() else { return };
            if last.is_some_and(|t| t.elapsed() < SAY_EVERY) {
                return;
            }
            *last = Some(Instant::now());
            eprintln!("metron: kafka {}: {}", self.name, crate::text::sanitize(message));
        }
    }

    impl ClientContext for Ctx {
        fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
            if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
                self.say(&format!("{fac}: {message}"));
            }
        }
        fn error(&self, error: KafkaError, reason: &str) {
            // The end of a partition is news for `eof=true`, not a problem.
            if error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF) {
                return;
            }
            self.say(&format!("{error}: {reason}"));
        }
    }

    impl ConsumerContext for Ctx {
        /// Which partitions this consumer reads now, said each time the group moves
        /// them (a consumer joined, left or died).
        fn post_rebalance(&self, _: &BaseConsumer<Ctx>, rebalance: &Rebalance<'_>) {
            let (what, tpl) = match rebalance {
                Rebalance::Assign(tpl) => ("reading", tpl),
                Rebalance::Revoke(tpl) => ("giving up", tpl),
                Rebalance::Error(e) => return self.say(&format!("rebalance failed: {e}")),
            };
            if self.quiet {
                return;
            }
            let parts: Vec<String> = tpl.elements().iter().map(|e| e.partition().to_string()).collect();
            let parts = if parts.is_empty() { "none".to_owned() } else { parts.join(", ") };
            eprintln!("metron: kafka {}: {what} partitions {parts}", crate::text::sanitize(&self.name));
        }
    }

    impl ProducerContext for Ctx {
        type DeliveryOpaque = ();
        fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
            if let Err((e, message)) = result {
                if e.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageSizeTooLarge) {
                    if let Ok(mut too_large) = self.too_large.lock() {
                        too_large.push(message.payload().unwrap_or_default().to_vec());
                        return;
                    }
                }
                if let Ok(mut failed) = self.failed.lock() {
                    failed.get_or_insert_with(|| format!("a message could not be delivered: {e}"));
                }
            }
        }
    }

    /// The brokers, then metron's defaults (`defaults`), then the URL's own
    /// properties, which win.
    fn config(url: &KafkaUrl, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &url.brokers);
        c.set("client.id", "metron");
        for (k, v) in defaults {
            c.set(*k, *v);
        }
        for (k, v) in &url.client {
            c.set(k, v);
        }
        c
    }

    /// A consumer in a group, reading one topic.
    pub struct KafkaInput {
        consumer: BaseConsumer<Ctx>,
        topic: String,
        /// Per partition, the offset after the last message handed to the stage.
        done: BTreeMap<i32, i64>,
        eof: bool,
        at_end: BTreeSet<i32>,
        /// Messages whose offsets are not stored yet.
        pending: u64,
    }

    /// What one poll gave.
    pub enum Polled {
        /// A message, handed to the callback.
        Message,
        /// Nothing arrived in the time given.
        Idle,
        /// `eof=true` and every assigned partition is read to its end.
        End,
    }

    impl KafkaInput {
        /// Joins `url`'s group (`default_group` when the URL names none) and subscribes.
        pub fn open(url: &KafkaUrl, default_group: &str, quiet: bool) -> Result<KafkaInput, String> {
            let group = url.group.clone().unwrap_or_else(|| default_group.to_owned());
            let offset = match url.offset {
                StartAt::Earliest => "earliest",
                StartAt::Latest => "latest",
            };
            // A fetch waits at most 50 ms for data (librdkafka's default is 500): on
            // Kafka this only bounds the latency of an idle topic, but tansu holds every
            // fetch for the whole wait, data or not (docs/scale-out.md).
            let c = config(
                url,
                &[
                    ("group.id", &group),
                    ("fetch.wait.max.ms", "50"),
                    ("enable.auto.commit", "true"),
                    ("enable.auto.offset.store", "false"),
                    ("enable.partition.eof", if url.eof { "true" } else { "false" }),
                    ("auto.offset.reset", offset),
                ],
            );
            let ctx = Ctx::new(format!("{} (group {group})", url.display()), quiet);
            let consumer: BaseConsumer<Ctx> =
                c.create_with_context(ctx).map_err(|e| format!("{}: {e}", url.display()))?;
            consumer.subscribe(&[url.topic.as_str()]).map_err(|e| format!("{}: {e}", url.display()))?;
            Ok(KafkaInput {
                consumer,
                topic: url.topic.clone(),
                done: BTreeMap::new(),
                eof: url.eof,
                at_end: BTreeSet::new(),
                pending: 0,
            })
        }

        /// Waits up to `timeout` for a message and hands it to `f` (partition,
        /// offset, payload). Errors of the broker are said on stderr and waited out.
        pub fn poll(&mut self, timeout: Duration, f: impl FnOnce(i32, i64, &[u8])) -> Polled {
            match self.consumer.poll(timeout) {
                Some(Ok(message)) => {
                    let (partition, offset) = (message.partition(), message.offset());
                    f(partition, offset, message.payload().unwrap_or_default());
                    self.done.insert(partition, offset + 1);
                    self.at_end.remove(&partition);
                    self.pending += 1;
                    Polled::Message
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    self.at_end.insert(partition);
                    if self.eof && self.all_at_end() {
                        Polled::End
                    } else {
                        Polled::Idle
                    }
                }
                Some(Err(e)) => {
                    self.consumer.context().say(&e.to_string());
                    Polled::Idle
                }
                None => {
                    if self.eof && self.all_at_end() {
                        Polled::End
                    } else {
                        Polled::Idle
                    }
                }
            }
        }

        fn all_at_end(&self) -> bool {
            match self.consumer.assignment() {
                Ok(tpl) if tpl.count() > 0 => {
                    tpl.elements().iter().all(|e| e.topic() != self.topic || self.at_end.contains(&e.partition()))
                }
                _ => false,
            }
        }

        /// Messages handed over since the last [`KafkaInput::store`].
        pub fn pending(&self) -> u64 {
            self.pending
        }

        /// Everything handed over so far is safely on (the caller made sure): store
        /// the offsets, which librdkafka commits in the background (and at a
        /// rebalance, and at close). Offsets of partitions taken away meanwhile are
        /// left to their new owner.
        pub fn store(&mut self) {
            if self.done.is_empty() {
                return;
            }
            let owned = self.consumer.assignment().ok();
            let mut tpl = TopicPartitionList::new();
            for (&partition, &next) in &self.done {
                let still_ours = owned.as_ref().is_none_or(|a| a.find_partition(&self.topic, partition).is_some());
                if still_ours {
                    let _ = tpl.add_partition_offset(&self.topic, partition, Offset::Offset(next));
                }
            }
            if tpl.count() > 0 {
                if let Err(e) = self.consumer.store_offsets(&tpl) {
                    self.consumer.context().say(&format!("could not store offsets: {e}"));
                }
                // Committed now rather than at the next auto-commit (every 5 s): a
                // consumer killed meanwhile leaves less to hand out again.
                if let Err(e) = self.consumer.commit_consumer_state(CommitMode::Async) {
                    self.consumer.context().say(&format!("could not commit offsets: {e}"));
                }
            }
            self.done.clear();
            self.pending = 0;
        }

        /// Stores and commits now (the end of a run, a signal).
        pub fn close(mut self) -> Result<(), String> {
            self.store();
            match self.consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
                Err(e) => Err(format!("committing offsets: {e}")),
            }
        }
    }

    /// A producer writing NDJSON lines as messages, one line each, keyed by a field.
    pub struct KafkaSink {
        producer: BaseProducer<Ctx>,
        topic: String,
        key: KeyFinder,
        partial: Vec<u8>,
        sent: u64,
        /// Events too large for the topic, sent as error records instead.
        oversize: u64,
    }

    impl KafkaSink {
        pub fn open(url: &KafkaUrl, quiet: bool) -> Result<KafkaSink, String> {
            // Retry for as long as the broker is away (the stage waits, nothing is
            // dropped); Java's partitioner, so that keys land where Kafka's own
            // clients put them; at most 64 MiB of messages waiting for the broker
            // (librdkafka's default is 1 GiB): past it, the stage waits.
            let c = config(
                url,
                &[
                    ("message.timeout.ms", "0"),
                    ("enable.idempotence", "true"),
                    ("partitioner", "murmur2_random"),
                    ("linger.ms", "5"),
                    ("queue.buffering.max.kbytes", "65536"),
                    ("compression.type", "lz4"),
                ],
            );
            let ctx = Ctx::new(url.display(), quiet);
            let producer: BaseProducer<Ctx> =
                c.create_with_context(ctx).map_err(|e| format!("{}: {e}", url.display()))?;
            Ok(KafkaSink {
                producer,
                topic: url.topic.clone(),
                key: KeyFinder::new(&url.key.fields()),
                partial: Vec::new(),
                sent: 0,
                oversize: 0,
            })
        }

        fn send(&mut self, line: &[u8]) -> io::Result<()> {
            if line.is_empty() {
                return Ok(());
            }
            let key = self.key.key(line);
            let mut record = BaseRecord::to(&self.topic).payload(line);
            if let Some(k) = &key {
                record = record.key(k.as_bytes());
            }
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    // Larger than `message.max.bytes`: it would be refused at every
                    // restart, so an error record goes in its place.
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _)) => {
                        return self.send_oversize(line);
                    }
                    // The local queue is full: wait for acknowledgements (this is the
                    // backpressure on the stage), then try again.
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        self.producer.poll(Duration::from_millis(100));
                    }
                    Err((e, _)) => return Err(io::Error::other(format!("kafka {}: {e}", self.topic))),
                }
            }
            self.sent += 1;
            if self.sent.is_multiple_of(1024) {
                self.producer.poll(Duration::ZERO);
            }
            Ok(())
        }

        /// Sends, in place of an event too large for the topic, an error record that
        /// says so and keeps the event's first 64 KiB (less if the topic takes less).
        /// Its guid is made from the event's bytes, so a replay sends the same record.
        fn send_oversize(&mut self, line: &[u8]) -> io::Result<()> {
            self.oversize += 1;
            let mut result = Ok(());
            for keep in [64 * 1024, 1024, 0] {
                let record = oversize_record(line, &self.topic, keep);
                let record = BaseRecord::<(), [u8]>::to(&self.topic).payload(&record[..]);
                result = self.producer.send(record).map_err(|(e, _)| e);
                match &result {
                    Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)) => continue,
                    _ => break,
                }
            }
            result.map_err(|e| io::Error::other(format!("kafka {}: {e}", self.topic)))?;
            self.producer
                .context()
                .say(&format!("{} event(s) too large for the topic were sent as error records", self.oversize));
            Ok(())
        }

        /// Error records in place of the messages the broker refused as too large.
        fn replace_too_large(&mut self) -> io::Result<bool> {
            let refused = match self.producer.context().too_large.lock() {
                Ok(mut t) => std::mem::take(&mut *t),
                Err(_) => Vec::new(),
            };
            for line in &refused {
                self.send_oversize(line)?;
            }
            Ok(!refused.is_empty())
        }

        fn failure(&self) -> Option<String> {
            self.producer.context().failed.lock().ok().and_then(|f| f.clone())
        }
    }

    impl Write for KafkaSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut rest = buf;
            while let Some(nl) = memchr::memchr(b'\n', rest) {
                if self.partial.is_empty() {
                    self.send(&rest[..nl])?;
                } else {
                    let mut line = std::mem::take(&mut self.partial);
                    line.extend_from_slice(&rest[..nl]);
                    let sent = self.send(&line);
                    line.clear();
                    self.partial = line;
                    sent?;
                }
                rest = &rest[nl + 1..];
            }
            self.partial.extend_from_slice(rest);
            Ok(buf.len())
        }

        /// Waits until the broker acknowledged every message sent so far: after this,
        /// the input's offsets may be committed.
        fn flush(&mut self) -> io::Result<()> {
            if !self.partial.is_empty() {
                let line = std::mem::take(&mut self.partial);
                self.send(&line)?;
            }
            let started = Instant::now();
            loop {
                match self.producer.flush(Duration::from_secs(10)) {
                    Ok(()) if self.replace_too_large()? => continue,
                    Ok(()) => break,
                    Err(_) => {
                        let waiting = self.producer.in_flight_count();
                        self.producer.context().say(&format!(
                            "{waiting} messages still waiting for the broker after {} s",
                            started.elapsed().as_secs()
                        ));
                    }
                }
            }
            match self.failure() {
                Some(message) => Err(io::Error::other(format!("kafka {}: {message}", self.topic))),
                None => Ok(()),
            }
        }
    }

    /// The error record sent in place of an event too large for the topic, with the
    /// event's first `keep` bytes.
    fn oversize_record(line: &[u8], topic: &str, keep: usize) -> Vec<u8> {
        use crate::error::{error_record, ErrorType};
        use crate::event::{fields, line_ms, StableGuid};
        let sensor = message_key_scanned(line, &[fields::SOURCE_TYPE.to_owned()]).unwrap_or_default();
        // A character cut at the end (or bytes that are not UTF-8) show as U+FFFD.
        let kept = &line[..keep.min(line.len())];
        let message = format!(
            "the event is {} bytes, more than the topic {topic} takes (message.max.bytes of the \
             producer or the broker); its first {} bytes are in raw_message",
            line.len(),
            kept.len()
        );
        let raw = String::from_utf8_lossy(kept);
        let mut e = error_record(ErrorType::StoreError, &sensor, &message, &raw, &format!("kafka topic {topic}"), None);
        let guid = StableGuid::new(&[b"kafka oversize", line]).guid(line_ms(line), 0);
        e.insert(fields::GUID.into(), guid.into());
        serde_json::to_vec(&e).unwrap_or_default()
    }

    /// Finds the value that keys a line's message: the first of some fields the line
    /// has as a string or integer. Events are flat, so each field is looked for as
    /// bytes (`"NAME":`, which cannot occur inside a JSON string, where quotes are
    /// escaped) and only its value is read; a line where that finds nothing is read
    /// whole.
    pub(crate) struct KeyFinder {
        fields: Vec<String>,
        finders: Vec<memchr::memmem::Finder<'static>>,
    }

    impl KeyFinder {
        pub(crate) fn new(fields: &[&str]) -> KeyFinder {
            let finders = fields
                .iter()
                .map(|f| memchr::memmem::Finder::new(format!("\"{f}\":").as_bytes()).into_owned())
                .collect();
            KeyFinder { fields: fields.iter().map(|f| (*f).to_owned()).collect(), finders }
        }

        pub(crate) fn key(&self, line: &[u8]) -> Option<String> {
            if self.fields.is_empty() {
                return None;
            }
            for finder in &self.finders {
                if let Some(at) = finder.find(line) {
                    let mut de = serde_json::Deserializer::from_slice(&line[at + finder.needle().len()..]);
                    if let Ok(value) = <Scalar<'_> as serde::Deserialize>::deserialize(&mut de) {
                        if let Some(text) = value.to_text() {
                            return Some(text);
                        }
                    }
                }
            }
            message_key_scanned(line, &self.fields)
        }
    }

    /// [`KeyFinder::key`] by reading the object's top-level fields.
    fn message_key_scanned(line: &[u8], fields: &[String]) -> Option<String> {
        struct Find<'f> {
            fields: &'f [String],
            found: Vec<Option<String>>,
        }
        impl<'de> FieldVisitor<'de> for Find<'_> {
            type Output = Option<String>;
            fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
                match self.fields.iter().position(|f| f.as_bytes() == key.as_bytes()) {
                    Some(i) => {
                        self.found[i] = value.read::<Scalar<'de>>()?.to_text();
                        Ok(())
                    }
                    None => value.skip(),
                }
            }
            fn finish(self) -> Option<String> {
                self.found.into_iter().flatten().next()
            }
        }
        scan_object(line, Find { fields, found: vec![None; fields.len()] }).ok().flatten()
    }

    #[cfg(test)]
    mod tests {
        use super::KeyFinder;

        fn message_key(line: &[u8], fields: &[String]) -> Option<String> {
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            KeyFinder::new(&fields).key(line)
        }

        #[test]
        fn key_is_the_first_field_present() {
            let fields = vec!["community_id".to_owned(), "ip_src_addr".to_owned()];
            let both = br#"{"ip_src_addr":"10.0.0.1","community_id":"1:abc"}"#;
            assert_eq!(message_key(both, &fields).as_deref(), Some("1:abc"));
            // A field name inside a string value is not a field.
            let src = br#"{"ip_src_addr":"10.0.0.1","msg":"{\"community_id\":\"no\"}"}"#;
            assert_eq!(message_key(src, &fields).as_deref(), Some("10.0.0.1"));
            assert_eq!(message_key(b"{\"a\":1}", &fields), None);
            assert_eq!(message_key(b"not json", &fields), None);
            assert_eq!(message_key(br#"{"port":443}"#, &["port".to_owned()]).as_deref(), Some("443"));
            // A space before the colon: found by reading the object.
            assert_eq!(message_key(br#"{"port" : 443}"#, &["port".to_owned()]).as_deref(), Some("443"));
            assert_eq!(message_key(br#"{"port":null,"x":1}"#, &["port".to_owned()]), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_brokers_topic_and_options() {
        let u = KafkaUrl::parse(
            "kafka://a:9092,b:9093/raw.zeek?group=enrich&offset=latest&key=host&eof=true&session.timeout.ms=6000",
        )
        .unwrap();
        assert_eq!(u.brokers, "a:9092,b:9093");
        assert_eq!(u.topic, "raw.zeek");
        assert_eq!(u.group.as_deref(), Some("enrich"));
        assert_eq!(u.offset, StartAt::Latest);
        assert_eq!(u.key, KeyChoice::Field("host".into()));
        assert!(u.eof);
        assert_eq!(u.client, vec![("session.timeout.ms".to_owned(), "6000".to_owned())]);
        let plain = KafkaUrl::parse("kafka://127.0.0.1:9092/t").unwrap();
        assert_eq!(
            (plain.group, plain.offset, plain.key, plain.eof),
            (None, StartAt::Earliest, KeyChoice::Default, false)
        );
        assert_eq!(KafkaUrl::parse("kafka://h:1/t?key=").unwrap().key, KeyChoice::None);
        let secret = KafkaUrl::parse("kafka://h:1/t?sasl.password=p%40ss").unwrap();
        assert_eq!(secret.client[0].1, "p@ss");
    }

    #[test]
    fn every_problem_is_reported_at_once_and_secrets_are_hidden() {
        let err =
            KafkaUrl::parse("kafka://nohost,h:x/bad topic?offset=middle&colour=red&sasl.password=hunter2&eof=maybe")
                .unwrap_err();
        for part in ["\"nohost\"", "\"h:x\"", "\"bad topic\"", "offset=middle", "colour=red", "eof=maybe"] {
            assert!(err.contains(part), "{part} missing from {err}");
        }
        assert!(!err.contains("hunter2"), "{err}");
        assert!(KafkaUrl::parse("kafka:///t").unwrap_err().contains("no broker"));
        assert!(KafkaUrl::parse("kafka://h:1").unwrap_err().contains("no topic"));
        assert!(KafkaUrl::parse("kafka://h:1/t?group=%zz").unwrap_err().contains("%-escape"));
        assert!(KafkaUrl::parse("kafka://h:1/t?group=%+5").unwrap_err().contains("%-escape"));
        let err = KafkaUrl::parse("kafka://h:1/t?sasl.password=hunter%zz").unwrap_err();
        assert!(!err.contains("hunter"), "{err}");
    }

    #[test]
    fn only_kafka_urls_are_kafka() {
        assert!(is_kafka(Path::new("kafka://h:1/t")));
        assert!(!is_kafka(Path::new("kafka.log")));
        assert!(!is_kafka(Path::new("/var/log/kafka://x")));
    }
}
