#!/usr/bin/env python3
"""The official DuckDB build (the Python package) over a metron store's own segment
files, through the same view definitions metron's reader makes, for
scripts/bench-store.sh to set `metron store query` beside.

    duckdb-official.py VIEWS.json 'SQL'

VIEWS.json is a list of `CREATE VIEW` statements (metron's own, from
`SELECT sql FROM duckdb_views()`). Prints the row count so the work cannot be skipped.
"""
import json
import sys

import duckdb

con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
for sql in json.load(open(sys.argv[1])):
    con.execute(sql)
print(len(con.execute(sys.argv[2]).fetchall()))
