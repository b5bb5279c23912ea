"""The vendored datasets: where each file lives in the repo, in the raw bucket, and its table.

One description serves three readers: the data-lake stack (deploys the files and declares the
Glue tables), the local target (lays the files out the same way and gives DuckDB the same
tables) and the tests. Column names are Glue-safe (no dots); CSV columns map by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data"
QUERIES_DIR = PROJECT_ROOT / "queries"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Athena/Glue (Hive DDL) type: int, double, string, date


@dataclass(frozen=True)
class CsvDataset:
    """A CSV file in the raw bucket with the Glue table that reads it."""

    table: str
    description: str
    repo_file: Path  # relative to data/, which is laid out exactly like the raw bucket
    delimiter: str
    quoted: bool  # strings in double quotes: needs OpenCSVSerde, which strips them
    columns: tuple[Column, ...]
    attribution: str

    @property
    def raw_prefix(self) -> str:
        """The table's LOCATION: a folder that holds this one file and nothing else."""
        return self.repo_file.parent.as_posix()

    @property
    def raw_key(self) -> str:
        return self.repo_file.as_posix()

    @property
    def source_path(self) -> Path:
        return DATA_DIR / self.repo_file


def _columns(spec: str) -> tuple[Column, ...]:
    return tuple(Column(*item.split(":")) for item in spec.split())


BIKE_SHARING = CsvDataset(
    table="bike_sharing_hourly",
    description="UCI Bike Sharing, hourly rentals in Washington D.C. 2011-2012 (modules 2-3)",
    repo_file=Path("bike-sharing/hour.csv"),
    delimiter=",",
    quoted=False,
    columns=_columns(
        "instant:int dteday:date season:int yr:int mnth:int hr:int holiday:int weekday:int "
        "workingday:int weathersit:int temp:double atemp:double hum:double windspeed:double "
        "casual:int registered:int cnt:int"
    ),
    attribution="Fanaee-T & Gama (2013), UCI Machine Learning Repository, CC BY 4.0",
)

BANK_MARKETING = CsvDataset(
    table="bank_marketing",
    description="UCI Bank Marketing (additional, full): term-deposit campaign calls (modules 5-6)",
    repo_file=Path("bank-marketing/bank-additional-full.csv"),
    delimiter=";",
    quoted=True,
    columns=_columns(
        "age:int job:string marital:string education:string credit_default:string housing:string "
        "loan:string contact:string month:string day_of_week:string duration:int campaign:int "
        "pdays:int previous:int poutcome:string emp_var_rate:double cons_price_idx:double "
        "cons_conf_idx:double euribor3m:double nr_employed:double y:string"
    ),
    attribution="Moro, Cortez & Rita (2014), Decision Support Systems 62:22-31, UCI, CC BY 4.0",
)

CSV_DATASETS: tuple[CsvDataset, ...] = (BIKE_SHARING, BANK_MARKETING)

# data/ mirrors the raw bucket; these paths stay in the repository only. Documentation goes to
# docs/, never under a table's LOCATION, where Athena would read it as rows.
# The bank model's features, as training_code.bank.features names them: what the bank pipeline
# prepares by default and what the serving stack's A/B endpoint is trained on. One value for
# both, because an approved pipeline model is promoted into that endpoint as its challenger: a
# model of other columns would fail every request routed to it ("recommended" drops only
# `duration`, which leaks the label; "workshop" also drops the economic indicators).
BANK_FEATURE_SET = "recommended"
NOT_DEPLOYED = ("README.md", "SHA256SUMS", "reviews")


@dataclass(frozen=True)
class NamedQuery:
    """An Athena named query the data-engineering module uses; the SQL lives in queries/."""

    name: str
    description: str
    file: str

    @property
    def sql(self) -> str:
        return (QUERIES_DIR / self.file).read_text().strip()


NAMED_QUERIES: tuple[NamedQuery, ...] = (
    NamedQuery("row-counts", "Rows per workshop table", "row_counts.sql"),
    NamedQuery(
        "bike-demand-by-hour",
        "Bike-sharing demand by hour of day (mean, min, max rentals)",
        "bike_demand_by_hour.sql",
    ),
    NamedQuery(
        "bank-subscription-rate-by-job",
        "Bank-marketing term-deposit subscription rate by job",
        "bank_subscription_rate_by_job.sql",
    ),
    # Module 4: the original module's three queries, on the curated Parquet table, and one more.
    NamedQuery("reviews-sample", "Every column of a few curated reviews", "reviews_sample.sql"),
    NamedQuery(
        "reviews-low-rated-in-category",
        "Low-rated reviews of one category: marketplace, title, body, year, category",
        "reviews_low_rated_in_category.sql",
    ),
    NamedQuery(
        "reviews-low-rated-bodies",
        "The text of every low-rated review (to score with Comprehend)",
        "reviews_low_rated_bodies.sql",
    ),
    NamedQuery(
        "reviews-top-products-by-rating",
        "Average star rating by product, top 10 among products with 20+ reviews",
        "reviews_top_products_by_rating.sql",
    ),
)
