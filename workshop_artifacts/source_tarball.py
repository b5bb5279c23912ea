"""The one code artifact every script-mode step runs: a byte-reproducible sourcedir.tar.gz."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from workshop_artifacts import cache
from workshop_spec.config import PROJECT_ROOT

KIND = "code-tarball"  # the cache's folder: .cache/artifacts/code-tarball/<key>/
TARBALL_NAME = "sourcedir.tar.gz"
EXCLUDED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


def _included(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not (EXCLUDED_PARTS.intersection(parts) or path.name.endswith(EXCLUDED_SUFFIXES))


def _members(src: Path) -> list[Path]:
    """What the archive holds below ``src``, in archive order."""
    return sorted(
        (p for p in src.rglob("*") if _included(p, src) and (p.is_file() or p.is_dir())),
        key=lambda p: p.relative_to(src).as_posix(),
    )


def code_tarball(
    src: Path = PROJECT_ROOT / "training_code", cache_root: Path = cache.CACHE_ROOT
) -> Path:
    """``sourcedir.tar.gz`` of ``src``, built once per content and cached (``cache.py``).

    The key covers everything the archive records: each member's path, whether it is a folder
    or an executable, each file's bytes, and this builder's own code.
    """
    src = Path(src).resolve()
    members = _members(src)
    layout = [
        (p.relative_to(src).as_posix(), p.is_dir(), bool(p.stat().st_mode & 0o111)) for p in members
    ]
    key = cache.key(
        files=[Path(__file__).resolve(), *(p for p in members if p.is_file())],
        values={"src": src.name, "members": layout},
    )

    def build(out: Path) -> None:
        build_source_tarball(src, out / TARBALL_NAME)

    return cache.entry(KIND, key, build, cache_root) / TARBALL_NAME


def build_source_tarball(src: Path, out: Path) -> Path:
    """Tar ``src`` (a folder, e.g. ``training_code/``) into ``out`` deterministically.

    The archive holds the folder itself at its root (``training_code/bike/train.py``), so the
    extracted tree imports as a package and script-mode entry points are paths inside it.
    Entries are sorted; mtime, uid, gid and owner names are zeroed; modes are 0o755 for folders
    and executables and 0o644 otherwise; gzip's header carries no time or file name. The same
    source therefore gives the same bytes, and so the same CDK asset hash, on every machine.
    """
    src, out = Path(src).resolve(), Path(out)
    if not src.is_dir():
        raise ValueError(f"{src} is not a folder")
    members = _members(src)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in [src, *members]:
            arcname = (Path(src.name) / path.relative_to(src)).as_posix()
            info = tarfile.TarInfo(arcname)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            tar.addfile(info, io.BytesIO(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())
    return out
