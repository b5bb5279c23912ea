"""Write the reviews data set as the original published it, at any scale factor.

    python -m training_code.reviews.generate --scale 1 --output DIR [--seed 2020] [--gzip]

Writes ``DIR/reviews/tsv/amazon_reviews_us_<Category>_v1_00.tsv[.gz]``: one tab-separated file
per product category, with a header line, in the columns of ``schema.RAW_COLUMNS``. ``DIR`` is
the raw bucket's root (locally ``.local/raw``).

Scale factor N writes round(N * 23,486) reviews. Copy 0 holds the real reviews (their text,
rating, votes and product); every further copy recombines real sentences: each review of copy
k takes the product, rating and vote count of source review i, and a body of as many sentences as
review i had, drawn from real reviews with the same rating in the same category, so the text
still reads like a review of that rating. A fractional scale takes a seeded subset of one copy.
Identifiers, dates and the other synthetic columns are drawn from a generator seeded with
(seed, copy), so the same seed writes the same bytes (gzip headers carry no time or name), and
memory stays flat at any scale: one copy (23,486 rows) is built and written at a time.
"""

from __future__ import annotations

import argparse
import functools
import gzip as gzip_module
import io
import re
import sys
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import duckdb
import numpy as np

from training_code.reviews import schema

DEFAULT_SEED = 2020  # the year of the original workshop
MIN_POOL = 50  # smaller (category, rating) pools of sentences or headlines use the rating's
VINE_SHARE = 0.01
VERIFIED_SHARE = 0.90

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|<br />")
# review_id: a bijection of the global row number onto 13 base-36 digits, so ids never collide.
_ID_SPACE = 36**13
_ID_MULTIPLIER = 0x9E3779B97F4A7C15 % _ID_SPACE  # odd and not a multiple of 3: coprime with 36
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SOURCE_SQL = """
    SELECT "Clothing ID", "Title", "Review Text", "Rating", "Positive Feedback Count",
           "Division Name", "Department Name", "Class Name"
    FROM read_parquet($path) ORDER BY __index_level_0__
"""


def clean_text(value: str | None) -> str:
    """A source text as a TSV field: line breaks as ``<br />`` (as the original data set wrote
    them), tabs as spaces, no other control characters."""
    if not value:
        return ""
    text = _LINE_BREAK.sub("<br />", value).replace("\t", " ")
    return _CONTROL.sub("", text).strip()


def split_sentences(body: str) -> list[str]:
    """The sentences of a cleaned review body (line breaks end a sentence too)."""
    return [s.strip() for s in _SENTENCE_END.split(body) if s.strip()]


def terminated(sentence: str) -> str:
    """The sentence, with a full stop added if it has no closing punctuation."""
    return sentence if sentence[-1] in ".!?" else sentence + "."


@dataclass(frozen=True)
class SourceReviews:
    """The source reviews mapped to the Amazon columns that do not depend on the seed."""

    product_id: list[str]
    product_parent: list[str]
    product_title: list[str]
    category: list[str]
    star_rating: np.ndarray
    helpful_votes: np.ndarray
    headline: list[str]
    body: list[str]
    sentence_count: np.ndarray  # sentences per body: how many a recombined copy draws
    sentence_pools: list[list[str]]  # real sentences per (category, rating): see pool_of_row
    pool_of_row: np.ndarray
    headline_pools: list[list[str]]  # real headlines per (category, rating)
    headline_pool_of_row: np.ndarray

    def __len__(self) -> int:
        return len(self.product_id)


@functools.cache  # read once per process; nothing mutates the result
def load_source(path: Path = schema.SOURCE_FILE) -> SourceReviews:
    """Read the vendored clothing reviews and map them to the Amazon columns."""
    rows = duckdb.connect().execute(_SOURCE_SQL, {"path": str(path)}).fetchall()
    products = _products(rows)
    headlines = [clean_text(row[1]) for row in rows]
    bodies = [clean_text(row[2]) for row in rows]
    ratings = np.array([row[3] for row in rows], dtype=np.int64)
    categories = [products[row[0]]["category"] for row in rows]
    sentences = [split_sentences(body) for body in bodies]
    # Recombined sentences end in punctuation, so a recombined body splits back into them.
    pools, pool_of_row = _pools(categories, ratings, [list(map(terminated, s)) for s in sentences])
    headline_pools, headline_pool_of_row = _pools(
        categories, ratings, [[headline] if headline else [] for headline in headlines]
    )
    return SourceReviews(
        product_id=[products[row[0]]["product_id"] for row in rows],
        product_parent=[products[row[0]]["product_parent"] for row in rows],
        product_title=[products[row[0]]["product_title"] for row in rows],
        category=categories,
        star_rating=ratings,
        helpful_votes=np.array([row[4] for row in rows], dtype=np.int64),
        headline=headlines,
        body=bodies,
        sentence_count=np.array([len(s) for s in sentences], dtype=np.int64),
        sentence_pools=pools,
        pool_of_row=pool_of_row,
        headline_pools=headline_pools,
        headline_pool_of_row=headline_pool_of_row,
    )


def _most_common(values: list[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))  # ties: alphabetical, so stable


def _products(rows: list[tuple]) -> dict[int, dict[str, str]]:
    """Per Clothing ID: the product columns, from its most frequent class and department."""
    by_product: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_product[row[0]].append(row)
    products = {}
    for clothing_id, product_rows in by_product.items():
        division = _most_common([r[5] for r in product_rows])
        department = _most_common([r[6] for r in product_rows])
        class_name = _most_common([r[7] for r in product_rows])
        category = schema.CATEGORY_BY_DEPARTMENT.get(department or "", schema.FALLBACK_CATEGORY)
        title = f"{class_name or category} style #{clothing_id}"
        if division == "General Petite":
            title += " (petite)"
        parent = zlib.crc32(f"product_parent:{clothing_id}".encode()) % 900_000_000 + 100_000_000
        products[clothing_id] = {
            "product_id": f"WC{clothing_id:08d}",
            "product_parent": str(parent),
            "product_title": title,
            "category": category,
        }
    return products


def _pools(
    categories: list[str], ratings: np.ndarray, texts: list[list[str]]
) -> tuple[list[list[str]], np.ndarray]:
    """Texts pooled per (category, rating), or per rating where that pool is small; returns
    the pools and each row's pool."""
    by_key: dict[tuple[str, int], list[str]] = defaultdict(list)
    by_rating: dict[int, list[str]] = defaultdict(list)
    for category, rating, row_texts in zip(categories, ratings.tolist(), texts, strict=True):
        by_key[(category, rating)].extend(row_texts)
        by_rating[rating].extend(row_texts)
    pools: list[list[str]] = []
    index: dict[tuple[str, int], int] = {}
    pool_of_row = np.empty(len(categories), dtype=np.int64)
    for row, (category, rating) in enumerate(zip(categories, ratings.tolist(), strict=True)):
        key = (category, rating)
        if key not in index:
            pool = by_key[key]
            index[key] = len(pools)
            pools.append(pool if len(pool) >= MIN_POOL else by_rating[rating])
        pool_of_row[row] = index[key]
    return pools, pool_of_row


def review_ids(global_rows: np.ndarray, seed: int) -> list[str]:
    """Amazon-style review ids ('R' + 13 base-36 characters), unique per row number."""
    offset = (seed * 0x2545F4914F6CDD1D + 0x632BE59BD9B4E019) % _ID_SPACE
    ids = []
    for row in global_rows.tolist():
        value = (row * _ID_MULTIPLIER + offset) % _ID_SPACE
        digits = []
        for _ in range(13):
            value, digit = divmod(value, 36)
            digits.append(_BASE36[digit])
        ids.append("R" + "".join(reversed(digits)))
    return ids


def copy_rows(source: SourceReviews, copy: int, rows: np.ndarray, seed: int) -> Iterator[tuple]:
    """The TSV fields of the given source rows in one copy, in row order."""
    rng = np.random.default_rng([seed, copy])
    count = len(rows)
    helpful = source.helpful_votes[rows]
    customer_ids = rng.integers(10_000_000, 100_000_000, size=count)
    total_votes = helpful + rng.integers(0, helpful // 4 + 2)
    vine = rng.random(count) < VINE_SHARE
    verified = rng.random(count) < VERIFIED_SHARE
    first, last = (np.datetime64(d) for d in (schema.FIRST_REVIEW_DATE, schema.LAST_REVIEW_DATE))
    days = rng.integers(0, (last - first).astype(int) + 1, size=count)
    dates = (first + days).astype(str).tolist()
    ids = review_ids(copy * len(source) + rows, seed)
    if copy == 0:
        headlines = [source.headline[i] for i in rows.tolist()]
        bodies = [source.body[i] for i in rows.tolist()]
    else:
        headlines, bodies = _recombined_text(source, rows, rng)
    for j, i in enumerate(rows.tolist()):
        yield (
            schema.MARKETPLACE, str(customer_ids[j]), ids[j], source.product_id[i],
            source.product_parent[i], source.product_title[i], source.category[i],
            str(source.star_rating[i]), str(helpful[j]), str(total_votes[j]),
            "Y" if vine[j] else "N", "Y" if verified[j] else "N", headlines[j], bodies[j],
            dates[j],
        )  # fmt: skip


def _recombined_text(
    source: SourceReviews, rows: np.ndarray, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    counts = source.sentence_count[rows]
    pool_sizes = np.array([len(pool) for pool in source.sentence_pools], dtype=np.int64)
    pools_of_rows = source.pool_of_row[rows]
    picks = (rng.random(counts.sum()) * np.repeat(pool_sizes[pools_of_rows], counts)).astype(int)
    headline_draws = rng.random(len(rows))
    headlines, bodies = [], []
    start = 0
    for j, i in enumerate(rows.tolist()):
        pool = source.sentence_pools[pools_of_rows[j]]
        end = start + counts[j]
        bodies.append(" ".join(pool[p] for p in picks[start:end].tolist()))
        start = end
        titles = source.headline_pools[source.headline_pool_of_row[i]]
        headlines.append(titles[int(headline_draws[j] * len(titles))] if source.headline[i] else "")
    return headlines, bodies


def copies(total_rows: int, base_rows: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """(copy number, source rows) for each copy; the last one a seeded subset if partial."""
    full, rest = divmod(total_rows, base_rows)
    for copy in range(full):
        yield copy, np.arange(base_rows)
    if rest:
        subset = np.random.default_rng([seed, full, 1]).choice(base_rows, size=rest, replace=False)
        yield full, np.sort(subset)


def generate(output_root: Path, scale: float, seed: int = DEFAULT_SEED, gzip: bool = False):
    """Write the TSV files under ``output_root/reviews/tsv``; returns rows per category."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    source = load_source()
    folder = Path(output_root) / schema.RAW_PREFIX
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(schema.tsv_file_name("*") + "*"):
        stale.unlink()  # a previous run's files (maybe the other compression) are not this data
    counts = dict.fromkeys(schema.CATEGORIES, 0)
    with ExitStack() as stack:
        files = {
            category: stack.enter_context(_open_tsv(folder / schema.tsv_file_name(category, gzip)))
            for category in schema.CATEGORIES
        }
        for handle in files.values():
            handle.write(schema.TSV_HEADER + "\n")
        for copy, rows in copies(round(scale * len(source)), len(source), seed):
            lines: dict[str, list[str]] = defaultdict(list)
            for fields in copy_rows(source, copy, rows, seed):
                lines[fields[6]].append("\t".join(fields) + "\n")
            for category, category_lines in lines.items():
                files[category].writelines(category_lines)
                counts[category] += len(category_lines)
    return counts


@contextmanager
def _open_tsv(path: Path) -> Iterator[io.TextIOWrapper]:
    with path.open("wb") as raw:
        if path.suffix != ".gz":
            with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text:
                yield text
            return
        # No file name and a zero mtime in the gzip header: same seed, same bytes.
        with (
            gzip_module.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed,
            io.TextIOWrapper(compressed, encoding="utf-8", newline="\n") as text,
        ):
            yield text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="N × 23,486 reviews")
    parser.add_argument("--output", required=True, help="raw bucket root (writes reviews/tsv/)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--gzip", action="store_true", help="write .tsv.gz as the original did")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error(f"--scale must be positive, got {args.scale:g}")
    started = time.perf_counter()
    counts = generate(Path(args.output), args.scale, args.seed, args.gzip)
    seconds = time.perf_counter() - started
    for category, rows in counts.items():
        print(f"{category:>10}: {rows:>10,} reviews")
    total = sum(counts.values())
    folder = Path(args.output) / schema.RAW_PREFIX
    print(f"wrote {total:,} reviews (scale {args.scale:g}, seed {args.seed}) to {folder} "
          f"in {seconds:.1f} s ({total / seconds:,.0f} rows/s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
