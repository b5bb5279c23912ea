"""Module 7's container source ships with the labs: ``labs/container`` is a symbolic link to
training_code/byom_scikit (one source, committed once), and the labs asset the deploy publishes
(unpacked into each notebook's ~/SageMaker/labs) holds the container's files themselves."""

from __future__ import annotations

import json
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.labs_step import LABS_DIR

SOURCE = PROJECT_ROOT / "training_code" / "byom_scikit"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_labs_link_the_container_source_rather_than_copy_it():
    link = LABS_DIR / "container"
    assert link.is_symlink()
    assert link.resolve() == SOURCE.resolve()


def _labs_asset(outdir: Path) -> Path:
    """The staged folder of the attendee stack's labs asset (what cdk-assets zips and
    uploads), found through the stack's asset manifest."""
    (manifest,) = outdir.glob("*-attendee-environment.assets.json")
    folders = [
        outdir / asset["source"]["path"]
        for asset in json.loads(manifest.read_text())["files"].values()
        if asset["source"].get("packaging") == "zip"
    ]
    labs = [folder for folder in folders if (folder / "workshop.py").is_file()]
    assert len(labs) == 1, folders
    return labs[0]


def test_the_published_labs_archive_holds_the_same_bytes_as_the_container_source(synth):
    shipped = _labs_asset(synth().outdir) / "container"
    assert shipped.is_dir() and not shipped.is_symlink(), "the archive would hold a dead link"
    expected = _files(SOURCE)
    assert {"Dockerfile", "train", "serve", "entrypoint.sh", "requirements.txt"} <= set(expected)
    assert _files(shipped) == expected
