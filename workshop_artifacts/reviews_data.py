"""Module 4's raw reviews (TSV, as the Amazon Customer Reviews data set was published), staged
for the data-lake stack to copy into the raw bucket.

The generator is deterministic (same inputs, same bytes), so the staged folder is cached under
``.cache/reviews/`` by a fingerprint of the generator, the vendored source file, the scale and
the seed, and that fingerprint is the asset's hash: templates depend only on code and config.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from training_code.reviews import generate, schema
from workshop_spec.config import PROJECT_ROOT

CACHE_ROOT = PROJECT_ROOT / ".cache" / "reviews"
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
    digest = hashlib.sha256(f"scale={scale!r} seed={seed}".encode())
    for item in INPUTS:
        digest.update(item.encode())
        digest.update(hashlib.sha256((PROJECT_ROOT / item).read_bytes()).digest())
    return digest.hexdigest()


def staged_reviews(
    scale: float, seed: int = generate.DEFAULT_SEED, cache_root: Path = CACHE_ROOT
) -> StagedReviews:
    """The gzipped TSV files for ``scale``, generated on first use and cached."""
    key = fingerprint(scale, seed)
    folder = cache_root / key[:16]
    if not (folder / "DONE").exists():
        cache_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_root) as scratch:
            staging = Path(scratch) / "staged"
            generate.generate(staging, scale, seed, gzip=True)
            (staging / "DONE").write_text(key + "\n")
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
    assert (folder / schema.RAW_PREFIX).is_dir()
    return StagedReviews(root=folder, fingerprint=key)
