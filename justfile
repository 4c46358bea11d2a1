# metron's everyday commands. Get `just` with `cargo install just` (or apt install just).

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/metron-target")

# the whole test suite (what CI runs); live capture needs libpcap-dev, Kafka needs tansu
# (cargo install tansu --locked --features dynostore,libsql)
test:
    cargo test
    cargo test --features live,kafka --test live --test kafka

# run one fuzz target for a while (cargo install cargo-fuzz; nightly): just fuzz parse 600
fuzz target seconds="600":
    cd fuzz && cargo +nightly fuzz run {{target}} -- -max_total_time={{seconds}}

fmt:
    cargo fmt

lint:
    cargo fmt --check
    cargo clippy --all-targets --features live,kafka -- -D warnings

# regenerate man pages and completions from the clap definitions
gen:
    METRON_BLESS=1 cargo test --test docs

# criterion benches per stage, then whole-pipeline runs next to reference tools
bench:
    cargo bench --bench parse --bench enrich --bench label --bench alert --bench capture --bench profile
    scripts/bench.sh 1000000
    scripts/bench-store.sh 1000000 10000000
    scripts/bench-ingest.sh 400000
    scripts/bench-hunt.sh 10000000 100000
    scripts/bench-listen.sh 2000000
    scripts/bench-kafka.sh 1000000

demo:
    cargo run --release -- demo

# Spark reads the store's Parquet export and answers as `store query` does (pip install pyspark; Java 17)
lake:
    cargo build --release
    python3 scripts/lake-spark.py 200000
