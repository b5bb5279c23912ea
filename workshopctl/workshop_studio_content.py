"""The Workshop Studio bundle's ``content/``: a start page and one page per lab notebook.

Workshop Studio renders ``content/**/index.<locale>.md`` (front matter ``title`` and ``weight``
order the pages). Each lab's page is its notebook's first markdown cell (the module's title,
objectives, duration and cost, as the lab itself shows them), then how to open it; the start
page carries the hand-out's first steps (``workshopctl.handout.first_steps``) for the
participant's own workspace.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

LOCALE = "en"
WORKSHOP_TITLE = "Architecting Machine Learning on AWS"


@dataclass(frozen=True)
class LabPage:
    """One lab notebook's page: its folder under content/, title, weight and text."""

    notebook: str  # file name under labs/
    folder: str
    title: str
    weight: int
    body: str


def lab_pages(labs: Path) -> list[LabPage]:
    """A page per ``labs/*.ipynb``, in the labs' order, from each first markdown cell."""
    pages = []
    notebooks = sorted(labs.glob("*.ipynb"), key=lambda path: _lab_order(path.stem))
    if not notebooks:
        raise ValueError(f"no lab notebooks in {labs}")
    for index, path in enumerate(notebooks, start=1):
        cells = json.loads(path.read_text())["cells"]
        first = next((cell for cell in cells if cell["cell_type"] == "markdown"), None)
        if first is None:
            raise ValueError(f"{path.name} has no markdown cell to take its objectives from")
        text = "".join(first["source"]).strip()
        heading, _, body = text.partition("\n")
        if not heading.startswith("# "):
            raise ValueError(f"{path.name}: its first markdown cell must start with '# <title>'")
        slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
        pages.append(
            LabPage(path.name, f"{index * 10:03d}-{slug}", heading[2:].strip(), index * 10, body)
        )
    return pages


def _lab_order(stem: str) -> tuple[int, ...]:
    # "6.1-tuning" → (6, 1): labs sort by their module number, not as text.
    number = stem.split("-", 1)[0]
    return tuple(int(part) for part in number.split(".") if part.isdigit())


def lab_page_text(page: LabPage, kernel: str) -> str:
    return (
        f"{_front_matter(page.title, page.weight)}\n"
        f"{page.body.strip()}\n\n"
        "## Run the lab\n\n"
        f"In JupyterLab on your notebook, open `labs/{page.notebook}` (kernel `{kernel}`) and "
        "run it top to bottom. Its last cell cleans up what the lab created: run it before "
        "you move on.\n"
    )


def start_page_text(first_steps: list[str], pages: list[LabPage]) -> str:
    steps = "\n".join(f"{number}. {step}" for number, step in enumerate(first_steps, start=1))
    modules = "\n".join(f"* [{page.title}]({page.folder}/)" for page in pages)
    return (
        f"{_front_matter(WORKSHOP_TITLE, 0)}\n"
        "You have an AWS account of your own for this event, with the workshop already "
        "deployed in it: a notebook with the labs, the data lake with its tables in Athena, "
        "the model image, the pipelines and the endpoints. The event's outputs list their "
        "names.\n\n"
        f"## First steps\n\n{steps}\n\n## Modules\n\n{modules}\n"
    )


def write_content(folder: Path, first_steps: list[str], pages: list[LabPage], kernel: str) -> int:
    """Write the start page and the lab pages under ``folder``; return how many pages."""
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / f"index.{LOCALE}.md").write_text(start_page_text(first_steps, pages))
    for page in pages:
        (folder / page.folder).mkdir(exist_ok=True)
        (folder / page.folder / f"index.{LOCALE}.md").write_text(lab_page_text(page, kernel))
    return 1 + len(pages)


def _front_matter(title: str, weight: int) -> str:
    return f"---\ntitle: {json.dumps(title)}\nweight: {weight}\n---\n"
