"""Spark job: raw review TSV → validated, typed, Snappy Parquet partitioned by product_category.

    python -m training_code.reviews.etl --source RAW --target CURATED --quarantine BAD \
        [--summary FILE] [--write-mode overwrite|append]

The same file is the AWS Glue 5.0 job script (Spark 3.5, Python 3.11): when ``awsglue`` is
importable it takes its arguments with ``getResolvedOptions`` (``--JOB_NAME --source --target
--quarantine``, optional ``--summary --write-mode --reader``), wraps the run in ``Job.init`` /
``Job.commit`` and reads the TSV through a DynamicFrame with a ``transformation_ctx``, which is
what job bookmarks track: a rerun reads only files it has not processed (use
``--write-mode append`` with bookmarks). ``--reader spark`` reads with plain Spark instead (no
bookmarks). Everywhere else it runs on a local SparkSession. Paths are ``s3://`` URIs or folders.

What it does, in one pass over the input:
- every line but the header lines is a row: split on tabs (no quoting, as published), checked
  field by field (15 fields; two-letter marketplace; numeric customer_id and product_parent;
  non-empty alphanumeric review_id and product_id; non-empty product_title; product_category
  usable as a partition name; star_rating 1-5; vote counts non-negative with helpful <= total;
  vine and verified_purchase Y or N; review_date a real yyyy-MM-dd date) and typed
  (ints, booleans, a date, and ``year`` from the date);
- valid rows go to ``--target`` as Snappy Parquet, partitioned ``product_category=<name>/``;
- invalid rows go to ``--quarantine`` as JSON lines: the raw line, its file and every reason it
  failed. Nothing is dropped silently: rows in = rows out + rows quarantined, and the summary
  (``--summary``, default ``<quarantine>/_etl_summary.json``, ignored by table readers as its name
  starts with ``_``) counts them per category and per reason.

The file imports only the standard library and pyspark (Glue runs it alone, without the rest of
``training_code``); its column list is held equal to ``schema.RAW_COLUMNS`` by the tests. The
transform (``classify``/``curated_rows``/``quarantined_rows``) uses only Spark SQL functions
that behave the same on Spark 3.5 and 4.x (``try_cast`` instead of casts that raise under ANSI).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

RAW_FIELDS = (
    "marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title",
    "product_category", "star_rating", "helpful_votes", "total_votes", "vine",
    "verified_purchase", "review_headline", "review_body", "review_date",
)  # fmt: skip
HEADER_LINE = "\t".join(RAW_FIELDS)
PARTITION = "product_category"
CURATED_FIELDS = (*(f for f in RAW_FIELDS if f != PARTITION), "year")
MAX_RECORDS_PER_FILE = 1_000_000  # ~300 MB of Parquet: big enough for Athena, small enough to list
UNPARSED_CATEGORY = "(unparsed)"
_GLUE_SEPARATOR = "\u0001"  # never in a line, so the Glue CSV reader hands over whole lines
# What each field must look like (a full match), and the rule a rejected row's reason states.
FIELD_RULES = (
    ("marketplace", r"^[A-Z]{2}$", "must be two upper-case letters"),
    ("customer_id", r"^[0-9]+$", "must be a number"),
    ("review_id", r"^[A-Za-z0-9]+$", "must be non-empty, alphanumeric"),
    ("product_id", r"^[A-Za-z0-9]+$", "must be non-empty, alphanumeric"),
    ("product_parent", r"^[0-9]+$", "must be a number"),
    ("product_title", r"\S", "must not be empty"),
    ("product_category", r"^[A-Za-z0-9_]+$", "must be letters, digits or _ (it names a partition)"),
    ("star_rating", r"^[1-5]$", "must be 1-5"),
    ("helpful_votes", r"^[0-9]{1,9}$", "must be a count"),
    ("total_votes", r"^[0-9]{1,9}$", "must be a count"),
    ("vine", r"^[YN]$", "must be Y or N"),
    ("verified_purchase", r"^[YN]$", "must be Y or N"),
    ("review_date", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "must be a real yyyy-MM-dd date"),
)


def local_spark_session(app_name: str = "reviews-etl", *, short_lived: bool = True) -> SparkSession:
    """A small local session: 2 cores, few shuffle partitions, no UI, UTC.

    ``short_lived`` limits the JVM to its quick (C1) compiler: a local run of a few seconds
    spends more time compiling than running, and here that halved a cold run of 1,200 rows
    (13 s to 6 s) and the session start (6 s to 3 s), while a warm run of 235k rows took
    ~1.7x longer. Long runs (large scale factors, the bench) should pass False.
    """
    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if short_lived:
        builder = builder.config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session


def read_lines(spark: SparkSession, source: str) -> DataFrame:
    """The raw files as (value, source_file) rows, one per line (gzip is read transparently)."""
    return spark.read.text(source).select(
        F.col("value"), F.col("_metadata.file_path").alias("source_file")
    )


def _field(name: str) -> Column:
    return F.col(f"raw.{name}")


def _matches(name: str, pattern: str) -> Column:
    return F.coalesce(_field(name).rlike(pattern), F.lit(False))


def _quoted(name: str) -> Column:
    return F.concat(F.lit("'"), F.substring(_field(name), 1, 40), F.lit("'"))


def classify(lines: DataFrame) -> DataFrame:
    """Every line with its typed columns, ``header`` (true for header lines, which are neither
    rows nor errors) and ``reason`` (why a row is invalid; '' when it is valid)."""
    fields = F.split(F.col("value"), "\t", -1)
    field_count = F.size(fields)
    complete = field_count == len(RAW_FIELDS)
    raw = F.struct(*(F.when(complete, fields[i]).alias(n) for i, n in enumerate(RAW_FIELDS)))
    rows = lines.select("value", "source_file", raw.alias("raw"))

    votes = {n: F.expr(f"try_cast(raw.{n} AS INT)") for n in ("helpful_votes", "total_votes")}
    date = F.expr("try_cast(raw.review_date AS DATE)")
    # The pattern alone lets 2015-02-30 through; the round trip through a date does not.
    real_date = date.isNotNull() & (F.date_format(date, "yyyy-MM-dd") == _field("review_date"))
    passes = {name: _matches(name, pattern) for name, pattern, _ in FIELD_RULES}
    passes["review_date"] &= real_date
    reasons = [
        F.when(~passes[name], F.concat(F.lit(f"{name} {rule}, got "), _quoted(name)))
        for name, _, rule in FIELD_RULES
    ]
    votes_known = passes["helpful_votes"] & passes["total_votes"]
    too_helpful = votes_known & (votes["helpful_votes"] > votes["total_votes"])
    reasons.append(F.when(too_helpful, F.lit("helpful_votes exceeds total_votes")))
    field_reasons = F.concat_ws("; ", *reasons)  # skips the checks that passed (nulls)
    reason = (
        F.when(F.col("value") == HEADER_LINE, F.lit(""))
        .when(F.col("value") == "", F.lit("blank line"))
        .when(
            ~complete,
            F.concat(
                F.lit(f"expected {len(RAW_FIELDS)} tab-separated fields, found "),
                field_count.cast("string"),
            ),
        )
        .otherwise(field_reasons)
    )
    typed = {
        **{n: _field(n) for n in RAW_FIELDS},
        "star_rating": F.expr("try_cast(raw.star_rating AS INT)"),
        **votes,
        "vine": _field("vine") == "Y",
        "verified_purchase": _field("verified_purchase") == "Y",
        "review_date": date,
    }
    return rows.select(
        "value",
        "source_file",
        (F.col("value") == HEADER_LINE).alias("header"),
        reason.alias("reason"),
        *(expression.alias(name) for name, expression in typed.items()),
        F.year(date).alias("year"),
    )


def curated_rows(classified: DataFrame) -> DataFrame:
    """The valid rows in the curated columns, with the partition column last."""
    valid = ~F.col("header") & (F.col("reason") == "")
    return classified.filter(valid).select(*CURATED_FIELDS, PARTITION)


def quarantined_rows(classified: DataFrame) -> DataFrame:
    """The invalid rows: the raw line as read, where it came from and why it was rejected."""
    return classified.filter(~F.col("header") & (F.col("reason") != "")).select(
        "source_file",
        "reason",
        F.col(PARTITION).alias("product_category_field"),
        F.col("value").alias("raw_line"),
    )


def summarize(classified: DataFrame) -> dict:
    """Rows in / out / quarantined, per category and per quarantine reason."""
    outcome = (
        F.when(F.col("header"), "header")
        .when(F.col("reason") == "", "rows_out")
        .otherwise("rows_quarantined")
    )
    category = F.coalesce(F.col(PARTITION), F.lit(UNPARSED_CATEGORY))
    categories: dict[str, dict[str, int]] = {}
    header_lines = 0
    for row in classified.groupBy(category.alias("c"), outcome.alias("o")).count().collect():
        if row["o"] == "header":
            header_lines += row["count"]
            continue
        counts = categories.setdefault(row["c"], {"rows_out": 0, "rows_quarantined": 0})
        counts[row["o"]] += row["count"]
    invalid = classified.filter(~F.col("header") & (F.col("reason") != ""))
    reasons = {row["reason"]: row["count"] for row in invalid.groupBy("reason").count().collect()}
    rows_out = sum(c["rows_out"] for c in categories.values())
    rows_quarantined = sum(c["rows_quarantined"] for c in categories.values())
    return {
        "rows_in": rows_out + rows_quarantined,
        "rows_out": rows_out,
        "rows_quarantined": rows_quarantined,
        "header_lines": header_lines,
        "categories": dict(sorted(categories.items())),
        "quarantine_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def run(
    spark: SparkSession,
    lines: DataFrame,
    *,
    target: str,
    quarantine: str,
    write_mode: str = "overwrite",
) -> dict:
    """Classify ``lines``, write curated Parquet and the quarantine, return the summary."""
    started = time.perf_counter()
    # One read and parse of the input feeds the summary and both outputs.
    classified = classify(lines).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        summary = summarize(classified)
        (
            curated_rows(classified)
            .write.mode(write_mode)
            .partitionBy(PARTITION)
            .option("compression", "snappy")
            .option("maxRecordsPerFile", MAX_RECORDS_PER_FILE)
            .parquet(target)
        )
        quarantined_rows(classified).write.mode(write_mode).json(quarantine)
    finally:
        classified.unpersist()
    seconds = time.perf_counter() - started
    summary.update(
        target=target,
        quarantine=quarantine,
        seconds=round(seconds, 3),
        rows_per_second=round(summary["rows_in"] / seconds) if seconds else None,
        spark_version=spark.version,
    )
    return summary


def write_summary(summary: dict, location: str) -> None:
    """Write the summary JSON to a local path or an ``s3://bucket/key``."""
    body = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    if location.startswith("s3://"):
        import boto3  # on Glue only: boto3 ships with the Glue runtime

        bucket, _, key = location.removeprefix("s3://").partition("/")
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
        return
    path = Path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)


def default_summary_location(quarantine: str) -> str:
    return quarantine.rstrip("/") + "/_etl_summary.json"


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The job's own arguments; unknown ones (Glue adds several) are returned, not rejected."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder or s3:// prefix of the TSV files")
    parser.add_argument("--target", required=True, help="curated Parquet folder or s3:// prefix")
    parser.add_argument("--quarantine", required=True, help="folder or s3:// prefix for bad rows")
    parser.add_argument("--summary", help="JSON summary (default <quarantine>/_etl_summary.json)")
    parser.add_argument("--write-mode", choices=("overwrite", "append"), default="overwrite")
    parser.add_argument(
        "--reader", choices=("glue", "spark"), default="glue",
        help="on Glue: read through a DynamicFrame (job bookmarks) or plain Spark",
    )  # fmt: skip
    parser.add_argument(
        "--long-run", action="store_true",
        help="local runs: tune the JVM for a long job rather than a quick start",
    )  # fmt: skip
    return parser.parse_known_args(argv)


def _print_summary(summary: dict, location: str) -> None:
    print(
        f"rows in {summary['rows_in']:,}, curated {summary['rows_out']:,}, "
        f"quarantined {summary['rows_quarantined']:,} in {summary['seconds']:.1f} s "
        f"({summary['rows_per_second'] or 0:,} rows/s, Spark {summary['spark_version']})"
    )
    for category, counts in summary["categories"].items():
        print(
            f"  {category:>12}: {counts['rows_out']:>10,} out {counts['rows_quarantined']:>6,} bad"
        )
    for reason, count in list(summary["quarantine_reasons"].items())[:10]:
        print(f"  quarantined {count:,}: {reason}")
    print(f"summary: {location}")


def _run_locally(argv: list[str]) -> int:
    args, unknown = parse_args(argv)
    if unknown:
        raise SystemExit(f"unknown arguments: {' '.join(unknown)}")
    spark = local_spark_session(short_lived=not args.long_run)
    try:
        summary = run(
            spark,
            read_lines(spark, args.source),
            target=args.target,
            quarantine=args.quarantine,
            write_mode=args.write_mode,
        )
    finally:
        spark.stop()
    location = args.summary or default_summary_location(args.quarantine)
    write_summary(summary, location)
    _print_summary(summary, location)
    return 0


def _glue_lines(glue_context, source: str) -> DataFrame:
    """Whole lines through a DynamicFrame, so job bookmarks skip files already processed."""
    frame = glue_context.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [source], "recurse": True},
        format="csv",
        format_options={"separator": _GLUE_SEPARATOR, "quoteChar": -1, "withHeader": False},
        transformation_ctx="raw_reviews_tsv",
    )
    columns = frame.toDF()
    if not columns.columns:  # nothing new since the last bookmark
        return glue_context.spark_session.createDataFrame([], "value string, source_file string")
    value = F.concat_ws(_GLUE_SEPARATOR, *(F.col(f"`{c}`") for c in columns.columns))
    return columns.select(value.alias("value"), F.input_file_name().alias("source_file"))


def _run_on_glue(argv: list[str]) -> int:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    resolved = getResolvedOptions(argv, ["JOB_NAME", "source", "target", "quarantine"])
    args, _ = parse_args(argv[1:])  # the optional ones; Glue's own arguments are ignored
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(resolved["JOB_NAME"], resolved)
    if args.reader == "glue":
        lines = _glue_lines(glue_context, resolved["source"])
    else:
        lines = read_lines(spark, resolved["source"])
    summary = run(
        spark,
        lines,
        target=resolved["target"],
        quarantine=resolved["quarantine"],
        write_mode=args.write_mode,
    )
    location = args.summary or default_summary_location(resolved["quarantine"])
    write_summary(summary, location)
    _print_summary(summary, location)
    job.commit()
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        import awsglue  # noqa: F401  (present only in the Glue runtime)
    except ImportError:
        return _run_locally(sys.argv[1:] if argv is None else argv)
    return _run_on_glue(sys.argv if argv is None else ["etl.py", *argv])


if __name__ == "__main__":
    sys.exit(main())
