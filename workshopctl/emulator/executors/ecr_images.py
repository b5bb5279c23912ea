"""What a pushed image holds, in the emulated account: moto records an ECR image's manifest and
its layers' sizes, not the layers' bytes. These executors keep the bytes of each uploaded layer
(UploadLayerPart, then CompleteLayerUpload names its digest:
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CompleteLayerUpload.html), so
that hosting can run what an attendee pushed (:func:`pushed_program`): Module 7's edit of
``serve`` shows on the endpoint as on AWS.

Only an image pushed through the emulated API has content here (the emulated notebook's
``docker push``); the deployed workshop image (CodeBuild's, in AWS) has none, and hosting runs
the container's source for it.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import tarfile
import threading
from pathlib import Path

PROGRAM = "opt/program/"  # where the workshop image keeps train, serve and the byom package


def _root(account) -> Path:
    return Path(account.workdir) / "ecr"


def _blob(params) -> bytes:
    blob = params.get("layerPartBlob") or b""
    return base64.b64decode(blob) if isinstance(blob, str) else bytes(blob)


class LayerContent:
    """Keeps the bytes of every completed layer upload, by digest, under the account's folder."""

    def __init__(self, account) -> None:
        self.account = account
        self.root = _root(account)
        self._lock = threading.Lock()

    def install(self) -> None:
        self.account.execute("ecr", "UploadLayerPart", self.upload_part)
        self.account.execute("ecr", "CompleteLayerUpload", self.complete)

    def upload_part(self, call, forward):
        reply = forward(call)
        if reply.status == 200:
            upload = self.root / "uploads" / call.params["uploadId"]
            upload.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, open(upload, "ab") as parts:
                parts.write(_blob(call.params))
        return reply

    def complete(self, call, forward):
        reply = forward(call)
        upload = self.root / "uploads" / call.params["uploadId"]
        if reply.status == 200 and upload.exists():
            digest = reply.json()["layerDigest"]
            blobs = self.root / "blobs"
            blobs.mkdir(parents=True, exist_ok=True)
            upload.replace(blobs / digest.removeprefix("sha256:"))
        return reply


def _image_manifest(account, repository: str, reference: str) -> tuple[str, dict] | None:
    """(image digest, manifest) of ``repository``'s image tagged (or digested) ``reference``
    in moto's state; None if there is none."""
    from moto.ecr.models import ecr_backends

    backend = ecr_backends[account.assembly.account][account.assembly.region]
    found = backend.repositories.get(repository)
    for image in found.images if found else []:
        if reference in (image.image_digest, *(image.image_tags or [])):
            return image.image_digest, json.loads(image.image_manifest)
    return None


def pushed_program(account, image_uri: str) -> Path | None:
    """The ``/opt/program`` of an image pushed through the emulated API, unpacked once per
    image digest; None when the image has no stored layers (or no ``serve`` program)."""
    host_path, _, digest = image_uri.partition("@")
    if digest:
        repository_path, reference = host_path, digest
    else:
        repository_path, _, reference = host_path.rpartition(":")
    repository = repository_path.split("/", 1)[-1]
    found = _image_manifest(account, repository, reference)
    if found is None:
        return None
    image_digest, manifest = found
    blobs = _root(account) / "blobs"
    layers = [
        blobs / layer["digest"].removeprefix("sha256:") for layer in manifest.get("layers", [])
    ]
    if not layers or not all(layer.exists() for layer in layers):
        return None
    program = _root(account) / "programs" / image_digest.removeprefix("sha256:")[:16]
    if not (program / "serve").exists():
        staging = program.with_suffix(".partial")
        shutil.rmtree(staging, ignore_errors=True)
        for layer in layers:
            _unpack_program(layer.read_bytes(), staging)
        if not (staging / "serve").exists():
            shutil.rmtree(staging, ignore_errors=True)
            return None
        shutil.rmtree(program, ignore_errors=True)
        staging.replace(program)
    return program


def _unpack_program(layer: bytes, into: Path) -> None:
    """The layer's files under opt/program/ (a plain or gzipped tar), nothing outside it."""
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:*") as archive:
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith(PROGRAM):
                continue
            relative = Path(member.name[len(PROGRAM) :])
            if relative.is_absolute() or ".." in relative.parts:
                continue
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
            target.chmod(0o755 if member.mode & 0o111 else 0o644)


def install(account) -> None:
    LayerContent(account).install()
