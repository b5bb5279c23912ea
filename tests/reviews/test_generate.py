"""The generator: the mapping of the real reviews, determinism, scale factors, recombination."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from training_code.reviews import schema
from training_code.reviews.generate import (
    clean_text,
    generate,
    load_source,
    split_sentences,
    terminated,
)

FIELDS = len(schema.RAW_COLUMNS)


def read_tsv(root: Path) -> dict[str, list[list[str]]]:
    """Rows per file name, checking the header line of every file."""
    files = {}
    for path in sorted((root / schema.RAW_PREFIX).iterdir()):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="\n") as handle:
            lines = handle.read().split("\n")
        assert lines[0] == schema.TSV_HEADER and lines[-1] == "", path.name
        files[path.name] = [line.split("\t") for line in lines[1:-1]]
    return files


def all_rows(root: Path) -> list[dict[str, str]]:
    names = [c.name for c in schema.RAW_COLUMNS]
    return [
        dict(zip(names, fields, strict=True)) for rows in read_tsv(root).values() for fields in rows
    ]


def digest(root: Path) -> str:
    folder = root / schema.RAW_PREFIX
    return hashlib.sha256(
        b"".join(p.name.encode() + p.read_bytes() for p in sorted(folder.iterdir()))
    ).hexdigest()


@pytest.fixture(scope="module")
def source_rows():
    return duckdb.execute(
        'SELECT "Clothing ID", "Title", "Review Text", "Rating", "Positive Feedback Count", '
        '"Department Name" FROM read_parquet($p)',
        {"p": str(schema.SOURCE_FILE)},
    ).fetchall()


@pytest.fixture(scope="module")
def scale_one(clean_raw):
    return all_rows(clean_raw)


def test_clean_text_keeps_fields_on_one_line_like_the_original_data():
    cleaned = clean_text("fits well.\r\nlove it\nso\tsoft\x07 ")
    assert cleaned == "fits well.<br />love it<br />so soft"
    assert clean_text(None) == ""
    assert split_sentences("Nice. Too long!<br />would buy? yes") == [
        "Nice.", "Too long!", "would buy?", "yes",
    ]  # fmt: skip


def test_every_file_is_one_category_with_whole_rows(clean_raw):
    for name, rows in read_tsv(clean_raw).items():
        category = re.fullmatch(r"amazon_reviews_us_(\w+)_v1_00\.tsv", name).group(1)
        assert category in schema.CATEGORIES
        assert all(len(fields) == FIELDS for fields in rows)
        assert {fields[6] for fields in rows} <= {category}


def test_scale_one_is_the_real_reviews_mapped(scale_one, source_rows):
    assert len(scale_one) == schema.SOURCE_ROWS == len(source_rows)
    assert Counter(r["review_body"] for r in scale_one) == Counter(
        clean_text(row[2]) for row in source_rows
    )
    assert Counter(r["review_headline"] for r in scale_one) == Counter(
        clean_text(row[1]) for row in source_rows
    )
    expected = Counter(
        (f"WC{row[0]:08d}", str(row[3]), str(row[4]),
         schema.CATEGORY_BY_DEPARTMENT.get(row[5], schema.FALLBACK_CATEGORY))
        for row in source_rows
    )  # fmt: skip
    mapped = Counter(
        (r["product_id"], r["star_rating"], r["helpful_votes"], r["product_category"])
        for r in scale_one
    )
    assert mapped == expected


def test_synthetic_columns_are_plausible(scale_one):
    first, last = (
        date.fromisoformat(schema.FIRST_REVIEW_DATE),
        date.fromisoformat(schema.LAST_REVIEW_DATE),
    )
    products: dict[str, set] = {}
    for row in scale_one:
        assert row["marketplace"] == "US"
        assert re.fullmatch(r"R[0-9A-Z]{13}", row["review_id"])
        assert re.fullmatch(r"[0-9]{8}", row["customer_id"])
        assert int(row["total_votes"]) >= int(row["helpful_votes"])
        assert row["vine"] in "YN" and row["verified_purchase"] in "YN"
        assert first <= date.fromisoformat(row["review_date"]) <= last
        products.setdefault(row["product_id"], set()).add(
            (row["product_parent"], row["product_title"], row["product_category"])
        )
    assert all(len(variants) == 1 for variants in products.values())  # one title per product
    assert len({row["review_id"] for row in scale_one}) == len(scale_one)
    vine = sum(row["vine"] == "Y" for row in scale_one) / len(scale_one)
    assert 0.005 < vine < 0.02


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    generate(tmp_path / "a", 0.05, seed=3)
    generate(tmp_path / "b", 0.05, seed=3)
    generate(tmp_path / "c", 0.05, seed=4)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_gzip_output_is_deterministic_and_holds_the_same_rows(tmp_path):
    generate(tmp_path / "plain", 0.05, seed=3)
    generate(tmp_path / "gz1", 0.05, seed=3, gzip=True)
    generate(tmp_path / "gz2", 0.05, seed=3, gzip=True)
    assert digest(tmp_path / "gz1") == digest(tmp_path / "gz2")
    assert all_rows(tmp_path / "gz1") == all_rows(tmp_path / "plain")
    # a rerun with the other compression replaces the files rather than adding to them
    assert all(p.suffix == ".gz" for p in (tmp_path / "gz1" / schema.RAW_PREFIX).iterdir())


@pytest.mark.parametrize("scale", [0.05, 2.5])
def test_scale_factor_sets_the_row_count(tmp_path, scale):
    counts = generate(tmp_path, scale, seed=5)
    assert sum(counts.values()) == round(scale * schema.SOURCE_ROWS)
    assert len(all_rows(tmp_path)) == sum(counts.values())


def test_larger_scales_recombine_real_sentences_of_the_same_rating(tmp_path, source_rows):
    counts = generate(tmp_path, 2, seed=5)
    rows = all_rows(tmp_path)
    base = Counter(
        schema.CATEGORY_BY_DEPARTMENT.get(row[5], schema.FALLBACK_CATEGORY) for row in source_rows
    )
    assert counts == {category: 2 * base[category] for category in schema.CATEGORIES}
    assert len({row["review_id"] for row in rows}) == len(rows)

    real_bodies = {clean_text(row[2]) for row in source_rows}
    sentences_by_rating: dict[str, set[str]] = {}
    for row in source_rows:
        sentences_by_rating.setdefault(str(row[3]), set()).update(
            map(terminated, split_sentences(clean_text(row[2])))
        )
    recombined = [row for row in rows if row["review_body"] not in real_bodies]
    assert len(recombined) > 0.8 * schema.SOURCE_ROWS  # the second copy is new text
    for row in recombined[:2000]:
        sentences = split_sentences(row["review_body"])
        assert sentences and set(sentences) <= sentences_by_rating[row["star_rating"]]


def test_source_products_keep_one_category(tmp_path):
    source = load_source()
    by_product: dict[str, set[str]] = {}
    for product, category in zip(source.product_id, source.category, strict=True):
        by_product.setdefault(product, set()).add(category)
    assert all(len(categories) == 1 for categories in by_product.values())
