"""Reviews benchmark (module 4): bytes each query reads from Parquet vs raw TSV, ETL rows/s.

    .venv/bin/python bench/reviews_etl.py [--scales 1,10] [--repeats 3] [--keep DIR]

For each scale factor: generates the raw TSV (plain and gzip, as the original data set was
published; the generator's peak memory shows it streams), runs the Spark ETL on local pyspark
(one session tuned for long runs: the first run pays the JIT warm-up and is shown apart, the
median of the next ``--repeats`` runs is the throughput), then runs every ``queries/reviews_*``
query with DuckDB over the Parquet files and over the raw files, and prints the bytes DuckDB's
file system read for each (the method is in ``workshopctl/local/reviews_bytes.py``). The
category-filtered query is also run for every category, since its saving is the share of rows
the category holds. Exit code 1 when a targeted query reads less than 10x fewer bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from training_code.reviews import schema
from workshopctl.local.reviews_bytes import (
    BYTES_RATIO_TARGET,
    TARGETED_QUERIES,
    compare_queries,
    connect_reviews,
    over_raw_tsv,
    reviews_queries,
    run_measured,
)

REPO = Path(__file__).resolve().parents[1]
CATEGORY_QUERY = "reviews_low_rated_in_category"
CATEGORY_IN_QUERY = "'Intimates'"


def generate(raw: Path, scale: float, gzip: bool) -> dict:
    """Run the generator as its own process; returns its rows/s and peak memory."""
    code = (
        "import resource, sys\n"
        "from training_code.reviews.generate import main\n"
        "main(sys.argv[1:])\n"
        "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    args = ["--scale", str(scale), "--output", str(raw)] + (["--gzip"] if gzip else [])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    rows = round(scale * schema.SOURCE_ROWS)
    peak = int(done.stdout.rsplit("maxrss_kb", 1)[1])
    return {"rows": rows, "rows_per_second": rows / seconds, "peak_mb": peak / 1024}


def etl_runs(spark, raw: Path, out: Path, repeats: int) -> dict:
    from training_code.reviews import etl

    seconds = []
    for _ in range(1 + repeats):
        started = time.perf_counter()
        summary = etl.run(
            spark, etl.read_lines(spark, str(raw / schema.RAW_PREFIX)),
            target=str(out / schema.CURATED_PREFIX), quarantine=str(out / schema.QUARANTINE_PREFIX),
        )  # fmt: skip
        seconds.append(time.perf_counter() - started)
    rows = summary["rows_in"]
    warm = statistics.median(seconds[1:]) if repeats else seconds[0]
    return {"rows": rows, "first_seconds": seconds[0], "median_seconds": warm,
            "rows_per_second": rows / warm, "quarantined": summary["rows_quarantined"]}  # fmt: skip


def bytes_table(raw: Path, raw_gz: Path, curated: Path) -> list[dict]:
    plain = {c.name: c for c in compare_queries(connect_reviews(raw, curated))}
    gz_connection = connect_reviews(raw_gz, curated)
    table = []
    for name, sql in reviews_queries().items():
        gz_bytes = run_measured(gz_connection, over_raw_tsv(sql)).bytes_read
        comparison = plain[name]
        table.append({
            "query": name, "rows": len(comparison.parquet.rows),
            "parquet": comparison.parquet.bytes_read, "tsv": comparison.tsv.bytes_read,
            "tsv_gz": gz_bytes, "tsv/parquet": comparison.ratio,
            "tsv.gz/parquet": gz_bytes / max(comparison.parquet.bytes_read, 1),
        })  # fmt: skip
    return table


def per_category(raw: Path, curated: Path) -> list[dict]:
    connection = connect_reviews(raw, curated)
    sql = reviews_queries()[CATEGORY_QUERY]
    assert CATEGORY_IN_QUERY in sql, "the category query changed: update the bench"
    total = connection.execute(f"SELECT count(*) FROM {schema.CURATED_TABLE}").fetchone()[0]
    rows = []
    for category in schema.CATEGORIES:
        query = sql.replace(CATEGORY_IN_QUERY, f"'{category}'")
        parquet = run_measured(connection, query).bytes_read
        tsv = run_measured(connection, over_raw_tsv(query)).bytes_read
        share = (
            connection.execute(
                f"SELECT count(*) FROM {schema.CURATED_TABLE} WHERE product_category = ?",
                [category],
            ).fetchone()[0]
            / total
        )
        rows.append({"category": category, "share": share, "parquet": parquet,
                     "ratio": tsv / max(parquet, 1)})  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="comma-separated scale factors")
    parser.add_argument("--repeats", type=int, default=3, help="warm ETL runs per scale")
    parser.add_argument("--keep", type=Path, help="folder to keep the data in (default: temp)")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",")]

    from training_code.reviews.etl import local_spark_session

    started = time.perf_counter()
    spark = local_spark_session("reviews-bench", short_lived=False)
    session_seconds = time.perf_counter() - started
    missed = []
    results = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = args.keep or Path(scratch)
            for scale in scales:
                case = root / f"scale-{scale:g}"
                raw, raw_gz, curated = case / "raw", case / "raw-gz", case / "curated"
                generated = generate(raw, scale, gzip=False)
                generate(raw_gz, scale, gzip=True)
                etl = etl_runs(spark, raw, curated, args.repeats)
                table = bytes_table(raw, raw_gz, curated)
                categories = per_category(raw, curated)
                results[scale] = {"generate": generated, "etl": etl, "bytes": table,
                                  "categories": categories}  # fmt: skip
                _print_scale(scale, generated, etl, table, categories)
                missed += [
                    f"scale {scale:g} {row['query']}: {row['tsv/parquet']:.1f}x"
                    for row in table
                    if row["query"] in TARGETED_QUERIES and row["tsv/parquet"] < BYTES_RATIO_TARGET
                ]
    finally:
        spark.stop()
    print(f"\nSpark session start (pyspark {spark.version}, local[2]): {session_seconds:.1f} s")
    throughput = [f"scale {s:g}: {r['etl']['rows_per_second']:,.0f}" for s, r in results.items()]
    print("ETL rows/s (median of warm runs): " + ", ".join(throughput))
    if args.keep:
        (args.keep / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    if missed:
        print(f"bytes target (>= {BYTES_RATIO_TARGET:.0f}x fewer) missed: {'; '.join(missed)}")
        return 1
    print(f"bytes target met: every targeted query reads >= {BYTES_RATIO_TARGET:.0f}x fewer bytes")
    return 0


def _print_scale(scale, generated, etl, table, categories) -> None:
    print(f"\n== scale {scale:g}: {etl['rows']:,} reviews ==")
    print(f"generate: {generated['rows_per_second']:,.0f} rows/s, peak memory "
          f"{generated['peak_mb']:.0f} MB")  # fmt: skip
    print(f"ETL: first run {etl['first_seconds']:.1f} s, median warm run "
          f"{etl['median_seconds']:.1f} s = {etl['rows_per_second']:,.0f} rows/s "
          f"({etl['quarantined']} quarantined)")  # fmt: skip
    print(f"{'query':34} {'rows':>7} {'parquet B':>12} {'tsv B':>12} {'tsv.gz B':>12} "
          f"{'tsv/pq':>7} {'gz/pq':>7}  target")  # fmt: skip
    for row in table:
        target = ""
        if row["query"] in TARGETED_QUERIES:
            met = row["tsv/parquet"] >= BYTES_RATIO_TARGET
            target = f">= {BYTES_RATIO_TARGET:.0f}x {'met' if met else 'MISSED'}"
        print(f"{row['query']:34} {row['rows']:>7,} {row['parquet']:>12,} {row['tsv']:>12,} "
              f"{row['tsv_gz']:>12,} {row['tsv/parquet']:>7.1f} {row['tsv.gz/parquet']:>7.1f}  "
              f"{target}")  # fmt: skip
    print(f"{CATEGORY_QUERY} per category (share of rows → bytes ratio TSV/Parquet):")
    print("  " + ", ".join(f"{r['category']} {r['share']:.1%} → {r['ratio']:.0f}x"
                           for r in categories))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
