"""Form values: one JSON document per ticket vs. real per-app columns (ADR 0003).

Builds N loan-like tickets both ways on PostgreSQL and SQLite, indexes the fields a
report filters on (expression indexes for JSON), and times typical report queries.

    .venv/bin/python bench/form_storage.py -n 300000 [--pg-url URL] [--skip-pg]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench_forms"

QUERIES = {
    "filter (region and amount > 100k), count": {
        "json": "SELECT count(*) FROM t_json WHERE {region} = 'east' AND {amount} > 100000",
        "cols": "SELECT count(*) FROM t_cols WHERE region = 'east' AND amount > 100000",
    },
    "sum(amount) by region": {
        "json": "SELECT {region}, sum({amount}) FROM t_json GROUP BY 1",
        "cols": "SELECT region, sum(amount) FROM t_cols GROUP BY 1",
    },
    "newest 50 with rating A": {
        "json": "SELECT id FROM t_json WHERE {rating} = 'A' ORDER BY id DESC LIMIT 50",
        "cols": "SELECT id FROM t_cols WHERE credit_rating = 'A' ORDER BY id DESC LIMIT 50",
    },
}

PG = {
    "region": "(v->>'region')",
    "amount": "((v->>'amount')::numeric)",
    "rating": "(v->>'credit_rating')",
    "setup": [
        "DROP TABLE IF EXISTS t_json",
        "DROP TABLE IF EXISTS t_cols",
        "CREATE TABLE t_json (id bigint PRIMARY KEY, status text, v jsonb NOT NULL)",
        "CREATE TABLE t_cols (id bigint PRIMARY KEY, status text, applicant_name text, "
        "amount numeric(18,2), term_months int, credit_rating text, region text, purpose text)",
        """INSERT INTO t_json SELECT g, 'approved', jsonb_build_object(
             'applicant_name', 'name ' || g,
             'amount', ((g::bigint * 7919) % 200000 + 1)::text || '.00',
             'term_months', 12 * (1 + g % 10), 'credit_rating', (ARRAY['A','B','C'])[1 + g % 3],
             'region', (ARRAY['north','south','east','west','central'])[1 + g % 5],
             'purpose', 'working capital for equipment')
           FROM generate_series(1, :n) g""",
        """INSERT INTO t_cols SELECT g, 'approved', 'name ' || g, (g::bigint * 7919) % 200000 + 1,
             12 * (1 + g % 10), (ARRAY['A','B','C'])[1 + g % 3],
             (ARRAY['north','south','east','west','central'])[1 + g % 5],
             'working capital for equipment' FROM generate_series(1, :n) g""",
        "CREATE INDEX ON t_json ((v->>'region'), ((v->>'amount')::numeric))",
        "CREATE INDEX ON t_json ((v->>'credit_rating'), id)",
        "CREATE INDEX ON t_cols (region, amount)",
        "CREATE INDEX ON t_cols (credit_rating, id)",
        "ANALYZE t_json",
        "ANALYZE t_cols",
    ],
    "size": "SELECT pg_total_relation_size('{table}')",
}

SQLITE = {
    "region": "json_extract(v, '$.region')",
    "amount": "CAST(json_extract(v, '$.amount') AS REAL)",
    "rating": "json_extract(v, '$.credit_rating')",
    "setup": [
        "DROP TABLE IF EXISTS t_json",
        "DROP TABLE IF EXISTS t_cols",
        "CREATE TABLE t_json (id INTEGER PRIMARY KEY, status TEXT, v TEXT NOT NULL)",
        "CREATE TABLE t_cols (id INTEGER PRIMARY KEY, status TEXT, applicant_name TEXT, "
        "amount NUMERIC, term_months INT, credit_rating TEXT, region TEXT, purpose TEXT)",
        """WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n)
           INSERT INTO t_json SELECT x, 'approved', json_object(
             'applicant_name', 'name ' || x, 'amount', ((x * 7919) % 200000 + 1) || '.00',
             'term_months', 12 * (1 + x % 10),
             'credit_rating', substr('ABC', 1 + x % 3, 1),
             'region', CASE x % 5 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east'
                       WHEN 3 THEN 'west' ELSE 'central' END,
             'purpose', 'working capital for equipment') FROM g""",
        """WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n)
           INSERT INTO t_cols SELECT x, 'approved', 'name ' || x, (x * 7919) % 200000 + 1,
             12 * (1 + x % 10), substr('ABC', 1 + x % 3, 1),
             CASE x % 5 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east'
             WHEN 3 THEN 'west' ELSE 'central' END, 'working capital for equipment' FROM g""",
        "CREATE INDEX j1 ON t_json (json_extract(v, '$.region'), "
        "CAST(json_extract(v, '$.amount') AS REAL))",
        "CREATE INDEX j2 ON t_json (json_extract(v, '$.credit_rating'), id)",
        "CREATE INDEX c1 ON t_cols (region, amount)",
        "CREATE INDEX c2 ON t_cols (credit_rating, id)",
        "ANALYZE",
    ],
    "size": None,
}


def run(url: str, dialect: dict, n: int, repeats: int) -> dict[str, dict[str, float]]:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in dialect["setup"]:
            conn.execute(text(statement), {"n": n} if ":n" in statement else {})
    results: dict[str, dict[str, float]] = {}
    with engine.connect() as conn:
        for name, variants in QUERIES.items():
            results[name] = {}
            for kind, sql in variants.items():
                query = text(sql.format(**{k: dialect[k] for k in ("region", "amount", "rating")}))
                conn.execute(query).all()
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    conn.execute(query).all()
                    times.append((time.perf_counter() - started) * 1000)
                results[name][kind] = statistics.median(times)
        if dialect["size"]:
            for table in ("t_json", "t_cols"):
                size = conn.execute(text(dialect["size"].format(table=table))).scalar_one()
                results.setdefault("size MB", {})[table[2:]] = size / 1e6
    engine.dispose()
    return results


def show(title: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'query':45} {'json ms':>10} {'columns ms':>11}")
    for name, row in results.items():
        print(f"{name:45} {row['json']:10.2f} {row['cols']:11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    if not args.skip_pg:
        admin = create_engine(
            args.pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        name = args.pg_url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        show(f"PostgreSQL, {args.n:,} tickets", run(args.pg_url, PG, args.n, args.repeats))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'forms.db'}"
        show(f"SQLite, {args.n:,} tickets", run(url, SQLITE, args.n, args.repeats))


if __name__ == "__main__":
    main()
