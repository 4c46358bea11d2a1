#!/usr/bin/env python3
"""The store's export as a data lake: Apache Spark reads `metron store export --parquet`
(Hive partitions day=/source_type=) and must get the same answers as `metron store
query` for a few analyst queries. Exits 1 on any difference.

Usage: scripts/lake-spark.py [N]      (default N = 200000 generated Zeek conn lines)
Needs: pip install pyspark; Java 17 (JAVA_HOME or java on PATH); METRON_BIN or a
release build in $CARGO_TARGET_DIR (default ~/.cache/metron-target).
"""
import json
import os
import subprocess
import sys
import tempfile

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BIN = os.environ.get("METRON_BIN") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/metron-target")), "release", "metron")


def metron(*args, stdin=None):
    out = subprocess.run([BIN, "-q", *args], input=stdin, capture_output=True, check=True)
    return out.stdout


def query(store, sql):
    return [json.loads(line) for line in metron("store", "--store", store, "query", "--format", "ndjson", sql).splitlines()]


# What an analyst asks, in DuckDB (metron) and in Spark SQL over the exported lake.
QUERIES = [
    ("events per source type",
     'SELECT "source.type" AS s, count(*) AS n FROM events GROUP BY 1 ORDER BY 1',
     "SELECT source_type AS s, count(*) AS n FROM lake GROUP BY 1 ORDER BY 1"),
    ("bytes each way over zeek.conn",
     "SELECT sum(orig_bytes) AS o, sum(resp_bytes) AS r, count(*) AS n FROM zeek_conn",
     "SELECT sum(orig_bytes) AS o, sum(resp_bytes) AS r, count(*) AS n FROM lake WHERE source_type = 'zeek.conn'"),
    ("top 10 talkers",
     "SELECT ip_src_addr AS a, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC, a LIMIT 10",
     "SELECT ip_src_addr AS a, count(*) AS n FROM lake GROUP BY 1 ORDER BY n DESC, a LIMIT 10"),
    ("distinct destinations per day",
     "SELECT strftime(epoch_ms(\"timestamp\"), '%Y-%m-%d') AS d, count(DISTINCT ip_dst_addr) AS n FROM events GROUP BY 1 ORDER BY 1",
     "SELECT CAST(day AS STRING) AS d, count(DISTINCT ip_dst_addr) AS n FROM lake GROUP BY 1 ORDER BY 1"),
    ("internal sources by state",
     "SELECT conn_state AS c, count(*) AS n FROM zeek_conn WHERE \"enrichments.network.ip_src_addr.internal\" GROUP BY 1 ORDER BY 1",
     "SELECT conn_state AS c, count(*) AS n FROM lake WHERE source_type = 'zeek.conn' "
     "AND `enrichments.network.ip_src_addr.internal` GROUP BY 1 ORDER BY 1"),
]


def main():
    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory() as work:
        conn = os.path.join(work, "conn.log")
        store = os.path.join(work, "store")
        lake = os.path.join(work, "lake")
        metron("generate", "zeek-conn", "-n", str(N), "--seed", "4", "-o", conn)
        parsed = metron("parse", "-f", "zeek", conn)
        enriched = metron("enrich", "--internal", "10.0.0.0/8", stdin=parsed)
        metron("store", "--store", store, "ingest", stdin=enriched)
        metron("store", "--store", store, "export", "--parquet", lake)

        spark = SparkSession.builder.master("local[2]").appName("metron-lake").getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        spark.read.parquet(lake).createOrReplaceTempView("lake")
        failed = 0
        for name, ours, theirs in QUERIES:
            a = [list(r.values()) for r in query(store, ours)]
            b = [list(r.asDict().values()) for r in spark.sql(theirs).collect()]
            same = a == b
            failed += not same
            print(f"{'same' if same else 'DIFFERENT'}: {name}: {len(a)} rows" + ("" if same else f"\n  metron {a}\n  spark  {b}"))
        spark.stop()
        print(f"{N} events; {len(QUERIES) - failed} of {len(QUERIES)} queries give the same answer in Spark")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
