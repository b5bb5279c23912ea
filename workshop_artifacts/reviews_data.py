"""Module 4's raw reviews (TSV, as the Amazon Customer Reviews data set was published), staged
for the data-lake stack to copy into the raw bucket.

The generator is deterministic (same inputs, same bytes), so the staged folder is cached under
``.cache/artifacts/reviews/`` (``cache.py``) by a fingerprint of the generator, the vendored
source file, the scale and the seed, and that fingerprint is the asset's hash: templates depend
only on code and config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from training_code.reviews import generate, schema
from workshop_artifacts import cache

KIND = "reviews"  # the cache's folder: .cache/artifacts/reviews/<key>/
INPUTS = (
    "training_code/reviews/generate.py",
    "training_code/reviews/schema.py",
    "data/reviews/WomensClothingE-CommerceReviews.parquet.brotli",
)


@dataclass(frozen=True)
class StagedReviews:
    root: Path  # holds reviews/tsv/amazon_reviews_us_<Category>_v1_00.tsv.gz, as in the bucket
    fingerprint: str


def fingerprint(scale: float, seed: int) -> str:
    return cache.key(files=INPUTS, values={"scale": scale, "seed": seed})


def staged_reviews(
    scale: float, seed: int = generate.DEFAULT_SEED, cache_root: Path = cache.CACHE_ROOT
) -> StagedReviews:
    """The gzipped TSV files for ``scale``, generated on first use and cached."""
    key = fingerprint(scale, seed)
    folder = cache.entry(
        KIND, key, lambda out: generate.generate(out, scale, seed, gzip=True), cache_root
    )
    assert (folder / schema.RAW_PREFIX).is_dir()
    return StagedReviews(root=folder, fingerprint=key)
