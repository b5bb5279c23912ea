"""``docker`` on the emulated notebook instance: what Module 7 does with Docker, without Docker.

A SageMaker notebook instance runs Docker, and Module 7 builds the workshop's container there,
smoke-tests it and pushes it to the attendee's ECR repository. The rehearsal's lab kernels find
this program as ``docker`` on their PATH (:func:`install`), as part of the emulated notebook
instance like the emulated AWS is part of the emulated account; the lab's cells are the same on
AWS and here. It does what the lab uses, each the way Docker's CLI reference describes it
(https://docs.docker.com/reference/cli/docker/), and refuses anything else by name:

* ``build [-t NAME]... [-f FILE] [--platform P] [--build-arg K=V]... CONTEXT``: reads the
  Dockerfile, checks every instruction is one it knows and every ``COPY`` source exists in the
  context, and records the image in the notebook's image store with a content digest (the
  context's files and the Dockerfile): a copy of the context, so a later edit of ``serve``
  needs a new build, as with Docker. ``RUN`` steps are not executed: the programs run on the
  rehearsal's runtime of that container, whose pins are the image's requirements.txt
  (tests/runtimes checks them on the base image's Python);
* ``images``, ``tag SOURCE TARGET``;
* ``run [-d] [--rm] [--name N] [-p HOST:CONTAINER]... [-v HOST:/opt/ml/...[:ro]]...
  [-e K=V]... IMAGE [train|serve]``: the image's own ``train`` or ``serve`` program (the
  container contract: ``docker run IMAGE train|serve``) from the recorded copy, with a folder
  standing in for ``/opt/ml`` and the volumes linked into it; the container port is published
  on the host port (the program binds it on loopback);
* ``ps``, ``logs NAME``, ``stop NAME``, ``rm [-f] NAME``;
* ``login --username AWS --password-stdin REGISTRY``: an Amazon ECR private registry, checked
  against ECR's GetAuthorizationToken as the caller (what ``aws ecr get-login-password``
  returns; https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html);
* ``push REGISTRY/REPOSITORY:TAG``: the ECR API calls Docker's push amounts to, as the
  caller's credentials, so the emulated account's IAM decides: BatchCheckLayerAvailability,
  InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload for the image's layer and config,
  then PutImage with a Docker image manifest v2 naming them
  (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html).

State lives in ``$WORKSHOP_DOCKER_ROOT`` (the rehearsal puts it in the emulated notebook's home).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fnmatch
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT_VARIABLE = "WORKSHOP_DOCKER_ROOT"
OPT_ML = "/opt/ml"
PROGRAMS = ("train", "serve")  # the container contract: docker run IMAGE train|serve
KNOWN_INSTRUCTIONS = {
    "FROM", "ARG", "ENV", "RUN", "COPY", "ADD", "WORKDIR", "LABEL", "EXPOSE", "HEALTHCHECK",
    "ENTRYPOINT", "CMD", "USER", "SHELL", "VOLUME", "STOPSIGNAL", "ONBUILD",
}  # fmt: skip
ECR_REGISTRY = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
STOP_SECONDS = 10.0  # docker stop's default grace period before SIGKILL
COMMANDS = ("build", "images", "tag", "run", "ps", "logs", "stop", "rm", "login", "push")


class DockerError(RuntimeError):
    """A refusal or failure, printed as Docker prints its errors."""


# -- the store ----------------------------------------------------------------------------------
@dataclass
class Store:
    root: Path

    @classmethod
    def here(cls) -> Store:
        root = Path(os.environ.get(ROOT_VARIABLE) or Path.home() / ".workshop-docker")
        root.mkdir(parents=True, exist_ok=True)
        return cls(root)

    def read(self, name: str) -> dict:
        path = self.root / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def write(self, name: str, value: dict) -> None:
        path = self.root / f"{name}.json"
        path.with_suffix(".tmp").write_text(json.dumps(value, indent=1, sort_keys=True))
        path.with_suffix(".tmp").replace(path)

    def image(self, reference: str) -> tuple[str, dict]:
        """The image ``reference`` names (``name[:tag]`` or an id prefix): (id, record)."""
        images, tags = self.read("images"), self.read("tags")
        image_id = tags.get(full_name(reference))
        if image_id is None:
            wanted = reference.removeprefix("sha256:")
            found = [i for i in images if i.removeprefix("sha256:").startswith(wanted)]
            image_id = found[0] if len(found) == 1 and len(wanted) >= 4 else None
        if image_id is None:
            raise DockerError(f"Unable to find image '{full_name(reference)}' locally")
        return image_id, images[image_id]


def full_name(reference: str) -> str:
    """``name`` → ``name:latest``; a registry's port is not a tag."""
    return reference if ":" in reference.rsplit("/", 1)[-1] else f"{reference}:latest"


# -- build --------------------------------------------------------------------------------------
def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: comments dropped, continuations joined."""
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        if whole:
            keyword, _, arguments = whole.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    if pending.strip():
        raise DockerError("dockerfile parse error: the last line ends with a continuation")
    return instructions


def _exec_form(arguments: str) -> list[str]:
    return json.loads(arguments) if arguments.startswith("[") else ["/bin/sh", "-c", arguments]


def _copy_sources(arguments: str) -> list[str] | None:
    """The context sources of a COPY/ADD (None when it copies from another stage)."""
    words = shlex.split(arguments) if not arguments.startswith("[") else json.loads(arguments)
    flags = [w for w in words if w.startswith("--")]
    if any(flag.startswith("--from=") for flag in flags):
        return None
    paths = [w for w in words if not w.startswith("--")]
    if len(paths) < 2:
        raise DockerError(f"COPY {arguments}: needs a source and a destination")
    return paths[:-1]


def _sent(sent: list[str], source: str) -> bool:
    """Whether a COPY source names files of the context Docker sends (a file, a folder, a
    glob)."""
    pattern = source.strip("/") or "*"
    return any(_matches(relative, pattern) for relative in sent) or pattern == "."


def parse_image(dockerfile: str, context: Path) -> dict:
    """What the Dockerfile makes of ``context`` (the last stage's entrypoint, command,
    environment, labels, ports), after checking it; raises DockerError naming the problem."""
    instructions = dockerfile_instructions(dockerfile)
    if not instructions or instructions[0][0] not in ("FROM", "ARG"):
        raise DockerError("dockerfile parse error: the first instruction must be FROM (or ARG)")
    image: dict = {"entrypoint": [], "cmd": [], "env": {}, "labels": {}, "exposed": []}
    sent = [path.relative_to(context).as_posix() for path in context_files(context)]
    for keyword, arguments in instructions:
        if keyword not in KNOWN_INSTRUCTIONS:
            raise DockerError(f"dockerfile parse error: unknown instruction: {keyword}")
        if keyword == "FROM":  # a new stage: what the image is made of starts again
            image = {"entrypoint": [], "cmd": [], "env": {}, "labels": {}, "exposed": []}
        elif keyword in ("COPY", "ADD"):
            for source in _copy_sources(arguments) or []:
                if not _sent(sent, source):
                    raise DockerError(
                        f'COPY failed: file not found in build context: "{source}" '
                        f"(context {context})"
                    )
        elif keyword == "ENTRYPOINT":
            image["entrypoint"] = _exec_form(arguments)
        elif keyword == "CMD":
            image["cmd"] = _exec_form(arguments)
        elif keyword in ("ENV", "LABEL"):
            pairs = dict(w.split("=", 1) for w in shlex.split(arguments) if "=" in w)
            image["env" if keyword == "ENV" else "labels"].update(pairs)
        elif keyword == "EXPOSE":
            image["exposed"] += arguments.split()
    return image


def dockerignore(context: Path) -> list[tuple[bool, str]]:
    """(negated, pattern) of the context's ``.dockerignore``, in order (the last match wins:
    https://docs.docker.com/build/concepts/context/#dockerignore-files)."""
    path = context / ".dockerignore"
    rules = []
    for line in path.read_text().splitlines() if path.exists() else []:
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, line.removeprefix("!").strip().strip("/")))
    return rules


def _matches(relative: str, pattern: str) -> bool:
    """A pattern matches a path or any folder above it; ``**/`` matches any folders."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    if pattern.startswith("**/"):
        rest = pattern[3:]
        return any(fnmatch.fnmatchcase(part, rest) for part in parts) or any(
            fnmatch.fnmatchcase(prefix, rest) for prefix in prefixes
        )
    return any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)


def context_files(context: Path) -> list[Path]:
    """The files Docker sends as the build context: all but what ``.dockerignore`` leaves
    out (and never bytecode caches)."""
    rules = dockerignore(context)
    kept = []
    for path in sorted(context.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or ".pytest_cache" in path.parts:
            continue
        relative = path.relative_to(context).as_posix()
        ignored = False
        for negated, pattern in rules:
            if _matches(relative, pattern):
                ignored = not negated
        if not ignored:
            kept.append(path)
    return kept


def content_digest(context: Path, dockerfile: str, build_args: dict[str, str]) -> str:
    digest = hashlib.sha256()
    digest.update(dockerfile.encode())
    digest.update(json.dumps(build_args, sort_keys=True).encode())
    for path in context_files(context):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def build(args: argparse.Namespace, store: Store) -> int:
    context = Path(args.context).resolve()
    if not context.is_dir():
        raise DockerError(f'unable to prepare context: path "{args.context}" not found')
    dockerfile_path = (context / args.file) if args.file else context / "Dockerfile"
    if not dockerfile_path.is_file():
        raise DockerError(f"failed to read dockerfile: {dockerfile_path}: no such file")
    dockerfile = dockerfile_path.read_text()
    build_args = dict(pair.split("=", 1) for pair in args.build_arg)
    image = parse_image(dockerfile, context)
    image_id = content_digest(context, dockerfile, build_args)
    images = store.read("images")
    snapshot = store.root / "images" / image_id.removeprefix("sha256:")[:12]
    if not snapshot.exists():
        # A copy, as Docker's layers are: editing the context later changes nothing built.
        for path in context_files(context):
            copy = snapshot / path.relative_to(context)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
    steps = dockerfile_instructions(dockerfile)
    for number, (keyword, arguments) in enumerate(steps, 1):
        note = "  (not executed: the rehearsal has the image's runtime)" if keyword == "RUN" else ""
        print(f"Step {number}/{len(steps)} : {keyword} {arguments[:100]}{note}")
    size = sum(path.stat().st_size for path in context_files(snapshot))
    images[image_id] = {
        **image,
        "snapshot": str(snapshot),
        "platform": args.platform or "linux/amd64",
        "created": images.get(image_id, {}).get("created") or time.time(),
        "context_bytes": size,
    }
    store.write("images", images)
    tags = store.read("tags")
    for name in args.tag:
        tags[full_name(name)] = image_id
    store.write("tags", tags)
    print(f"Successfully built {image_id.removeprefix('sha256:')[:12]}")
    for name in args.tag:
        print(f"Successfully tagged {full_name(name)}")
    return 0


def images(args: argparse.Namespace, store: Store) -> int:
    records = store.read("images")
    print(f"{'REPOSITORY':<60} {'TAG':<20} {'IMAGE ID':<12}  SIZE (context)")
    for name, image_id in sorted(store.read("tags").items()):
        repository, _, tag = name.rpartition(":")
        if args.repository and args.repository not in (repository, name):
            continue
        size = records[image_id]["context_bytes"]
        print(f"{repository:<60} {tag:<20} {image_id.removeprefix('sha256:')[:12]}  {size} B")
    return 0


def tag(args: argparse.Namespace, store: Store) -> int:
    image_id, _ = store.image(args.source)
    tags = store.read("tags")
    tags[full_name(args.target)] = image_id
    store.write("tags", tags)
    return 0


# -- containers ---------------------------------------------------------------------------------
def _port_pair(mapping: str) -> tuple[int, int]:
    parts = mapping.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts[-2:]):
        raise DockerError(f"-p {mapping}: publish as HOST_PORT:CONTAINER_PORT")
    return int(parts[-2]), int(parts[-1])


def _mount(root: Path, volume: str) -> None:
    """``-v HOST:/opt/ml/...[:ro]``: the host folder linked into the container's /opt/ml."""
    parts = volume.split(":")
    if len(parts) not in (2, 3) or not parts[1].startswith(OPT_ML + "/"):
        raise DockerError(f"-v {volume}: the emulated notebook mounts HOST:/opt/ml/... only")
    host = Path(parts[0]).expanduser().resolve()
    if not host.exists():
        host.mkdir(parents=True)
    inside = root / parts[1][len(OPT_ML) + 1 :]
    inside.parent.mkdir(parents=True, exist_ok=True)
    if inside.is_symlink() or inside.exists():
        shutil.rmtree(inside) if inside.is_dir() and not inside.is_symlink() else inside.unlink()
    inside.symlink_to(host, target_is_directory=True)


def _program(image: dict, command: list[str]) -> list[str]:
    """What the container runs: its entrypoint hands ``train`` or ``serve`` to the program of
    that name (the workshop image's entrypoint.sh, and SageMaker's contract)."""
    arguments = command or image["cmd"]
    if not arguments or arguments[0] not in PROGRAMS:
        raise DockerError(
            f"the emulated notebook runs an image's {' or '.join(PROGRAMS)} program "
            f"(docker run IMAGE train|serve), not {' '.join(arguments) or 'nothing'}"
        )
    program = Path(image["snapshot"]) / arguments[0]
    if not program.is_file():
        raise DockerError(f"exec: {arguments[0]!r}: the image has no such program")
    return [sys.executable, str(program), *arguments[1:]]


def run(args: argparse.Namespace, store: Store) -> int:
    image_id, image = store.image(args.image)
    containers = store.read("containers")
    name = args.name or f"container-{len(containers) + 1}"
    if name in containers:
        raise DockerError(f'Conflict. The container name "/{name}" is already in use')
    container_id = hashlib.sha256(f"{name}{time.time()}".encode()).hexdigest()
    root = store.root / "containers" / name
    shutil.rmtree(root, ignore_errors=True)
    for folder in ("model", "input/config", "input/data", "output"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for volume in args.volume:
        _mount(root, volume)
    environment = {**image["env"], **dict(e.split("=", 1) for e in args.env)}
    ports = [_port_pair(p) for p in args.publish]
    container_port = int(environment.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    host_port = next((host for host, inside in ports if inside == container_port), None)
    command = _program(image, args.command)
    from workshopctl.local.pipeline_jobs import job_environment

    # A container gets the image's environment and -e, not the notebook's (no AWS keys).
    inherited = job_environment(root, Path(image["snapshot"]))
    env = {**{k: v for k, v in inherited.items() if not k.startswith("AWS_")}, **environment}
    env["SM_ROOT"] = str(root)  # the image's SM_ROOT=/opt/ml, here its stand-in
    # No network namespace here: the program listens on the published host port, on loopback.
    env["SAGEMAKER_BIND_TO_HOST"] = "127.0.0.1"
    env["SAGEMAKER_BIND_TO_PORT"] = str(host_port or _free_port())
    log = root / "container.log"
    if not args.detach:
        with open(log, "ab") as output:
            process = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT)  # fmt: skip
            for line in process.stdout:
                sys.stdout.buffer.write(line)
                output.write(line)
            code = process.wait()
        if not args.rm:
            exited = f"Exited ({code})"
            containers[name] = _record(container_id, image_id, args, ports, None, exited)
            store.write("containers", containers)
        return code
    with open(log, "ab") as output:
        process = subprocess.Popen(command, env=env, cwd=root, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    containers[name] = _record(container_id, image_id, args, ports, process.pid, "Up")
    store.write("containers", containers)
    print(container_id)
    return 0


def _record(container_id, image_id, args, ports, pid, status) -> dict:
    return {
        "id": container_id, "image": image_id, "reference": args.image, "pid": pid,
        "ports": [f"{h}->{c}/tcp" for h, c in ports], "rm": args.rm, "status": status,
        "command": args.command,
    }  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def ps(args: argparse.Namespace, store: Store) -> int:
    print(f"{'CONTAINER ID':<14}{'IMAGE':<50}{'STATUS':<14}{'PORTS':<24}NAMES")
    for name, record in store.read("containers").items():
        status = "Up" if _alive(record["pid"]) else record["status"].replace("Up", "Exited")
        if status.startswith("Exited") and not args.all:
            continue
        print(f"{record['id'][:12]:<14}{record['reference'][:48]:<50}{status:<14}"
              f"{','.join(record['ports']):<24}{name}")  # fmt: skip
    return 0


def _container(store: Store, name: str) -> dict:
    containers = store.read("containers")
    found = containers.get(name) or next(
        (r for r in containers.values() if r["id"].startswith(name)), None
    )
    if found is None:
        raise DockerError(f"No such container: {name}")
    return found


def _name_of(store: Store, name: str) -> str:
    record = _container(store, name)
    return next(n for n, r in store.read("containers").items() if r["id"] == record["id"])


def logs(args: argparse.Namespace, store: Store) -> int:
    name = _name_of(store, args.container)
    log = store.root / "containers" / name / "container.log"
    sys.stdout.write(log.read_text(errors="replace") if log.exists() else "")
    return 0


def _terminate(pid: int | None) -> None:
    """SIGTERM to the container's processes, SIGKILL after the grace period (docker stop)."""
    if not _alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def stop(args: argparse.Namespace, store: Store) -> int:
    for given in args.containers:
        name = _name_of(store, given)
        containers = store.read("containers")
        _terminate(containers[name]["pid"])
        if containers[name]["rm"]:
            del containers[name]
            shutil.rmtree(store.root / "containers" / name, ignore_errors=True)
        else:
            containers[name]["status"] = "Exited (143)"
        store.write("containers", containers)
        print(given)
    return 0


def rm(args: argparse.Namespace, store: Store) -> int:
    for given in args.containers:
        name = _name_of(store, given)
        containers = store.read("containers")
        if _alive(containers[name]["pid"]):
            if not args.force:
                raise DockerError(
                    f"cannot remove container {name}: container is running: stop the "
                    "container before removing or force remove"
                )
            _terminate(containers[name]["pid"])
        del containers[name]
        store.write("containers", containers)
        shutil.rmtree(store.root / "containers" / name, ignore_errors=True)
        print(given)
    return 0


# -- registry -----------------------------------------------------------------------------------
def _registry(host: str) -> tuple[str, str]:
    match = ECR_REGISTRY.match(host)
    if match is None:
        raise DockerError(
            f"{host}: the emulated notebook logs in and pushes to Amazon ECR private "
            "registries only (<account>.dkr.ecr.<region>.amazonaws.com)"
        )
    return match.group(1), match.group(2)


def _ecr(region: str):
    import boto3

    return boto3.client("ecr", region_name=region)


def login(args: argparse.Namespace, store: Store) -> int:
    if not args.password_stdin:
        raise DockerError("the emulated notebook takes the password with --password-stdin only")
    password = sys.stdin.read().strip()
    account, region = _registry(args.registry.removeprefix("https://"))
    token = _ecr(region).get_authorization_token(registryIds=[account])["authorizationData"][0]
    expected_user, expected = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    if args.username != expected_user or password != expected:
        raise DockerError(
            f"Error response from daemon: login attempt to https://{args.registry}/v2/ failed "
            "with status: 401 Unauthorized"
        )
    auths = store.read("auths")
    auths[args.registry.removeprefix("https://")] = {"username": args.username}
    store.write("auths", auths)
    print("Login Succeeded")
    return 0


def _layer_tar(snapshot: Path) -> bytes:
    """The image's files as one reproducible tar layer (sorted, no times, no owners)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in context_files(snapshot):
            info = tarfile.TarInfo("opt/program/" + str(path.relative_to(snapshot)))
            data = path.read_bytes()
            info.size, info.mode = len(data), 0o755 if os.access(path, os.X_OK) else 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _upload_blob(ecr, repository: str, blob: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    known = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    if any(layer.get("layerAvailability") == "AVAILABLE" for layer in known.get("layers", [])):
        print(f"{digest[7:19]}: Layer already exists")
        return digest
    upload = ecr.initiate_layer_upload(repositoryName=repository)
    size = upload.get("partSize") or len(blob) or 1
    for first in range(0, len(blob), size):
        part = blob[first : first + size]
        ecr.upload_layer_part(
            repositoryName=repository, uploadId=upload["uploadId"], partFirstByte=first,
            partLastByte=first + len(part) - 1, layerPartBlob=part,
        )  # fmt: skip
    ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload["uploadId"], layerDigests=[digest]
    )
    print(f"{digest[7:19]}: Pushed")
    return digest


def push(args: argparse.Namespace, store: Store) -> int:
    from botocore.exceptions import ClientError

    reference = full_name(args.image)
    host, _, path = reference.partition("/")
    repository, _, image_tag = path.rpartition(":")
    _, region = _registry(host)
    if host not in store.read("auths"):
        raise DockerError("no basic auth credentials (log in to the registry first: docker login)")
    image_id, image = store.image(reference)
    layer = _layer_tar(Path(image["snapshot"]))
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64", "os": "linux",
            "config": {"Entrypoint": image["entrypoint"], "Cmd": image["cmd"],
                       "Env": [f"{k}={v}" for k, v in image["env"].items()],
                       "Labels": image["labels"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "workshop": {"content_digest": image_id},
        },
        sort_keys=True,
    ).encode()  # fmt: skip
    print(f"The push refers to repository [{host}/{repository}]")
    ecr = _ecr(region)
    try:
        layer_digest = _upload_blob(ecr, repository, layer)
        config_digest = _upload_blob(ecr, repository, config)
        manifest = json.dumps(
            {
                "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": CONFIG_TYPE, "size": len(config), "digest": config_digest},
                "layers": [{"mediaType": LAYER_TYPE, "size": len(layer), "digest": layer_digest}],
            },
            sort_keys=True,
        )  # fmt: skip
        # An image's digest is its manifest's sha256, as the registry computes it.
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        ecr.put_image(
            repositoryName=repository, imageManifest=manifest, imageTag=image_tag,
            imageManifestMediaType=MANIFEST_TYPE, imageDigest=digest,
        )  # fmt: skip
    except ClientError as error:
        code = error.response["Error"]["Code"]
        # The same manifest under the same tag is already there (Docker checks and skips it);
        # an immutable tag naming another image refuses the push (ECR calls that
        # ImageTagAlreadyExistsException; moto answers ImageAlreadyExistsException for both).
        if code in ("ImageAlreadyExistsException", "ImageTagAlreadyExistsException"):
            existing = ecr.describe_images(
                repositoryName=repository, imageIds=[{"imageTag": image_tag}]
            )["imageDetails"][0]["imageDigest"]
            if existing != digest:
                raise DockerError(
                    f"ImageTagAlreadyExistsException: the tag {image_tag!r} of the immutable "
                    f"repository {repository} names another image ({existing})"
                ) from None
        else:
            raise DockerError(f"{code}: {error.response['Error'].get('Message', '')}") from None
    print(f"{image_tag}: digest: {digest} size: {len(manifest)}")
    return 0


# -- the command line ---------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="docker", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="verb", metavar="COMMAND")
    b = commands.add_parser("build")
    b.add_argument("-t", "--tag", action="append", default=[])
    b.add_argument("-f", "--file")
    b.add_argument("--platform")
    b.add_argument("--build-arg", action="append", default=[])
    b.add_argument("-q", "--quiet", action="store_true")
    b.add_argument("context")
    im = commands.add_parser("images")
    im.add_argument("repository", nargs="?")
    t = commands.add_parser("tag")
    t.add_argument("source")
    t.add_argument("target")
    r = commands.add_parser("run")
    r.add_argument("-d", "--detach", action="store_true")
    r.add_argument("--rm", action="store_true")
    r.add_argument("--name")
    r.add_argument("--platform")
    r.add_argument("-p", "--publish", action="append", default=[])
    r.add_argument("-v", "--volume", action="append", default=[])
    r.add_argument("-e", "--env", action="append", default=[])
    r.add_argument("image")
    r.add_argument("command", nargs=argparse.REMAINDER)
    p = commands.add_parser("ps")
    p.add_argument("-a", "--all", action="store_true")
    lg = commands.add_parser("logs")
    lg.add_argument("container")
    s = commands.add_parser("stop")
    s.add_argument("containers", nargs="+")
    rr = commands.add_parser("rm")
    rr.add_argument("-f", "--force", action="store_true")
    rr.add_argument("containers", nargs="+")
    li = commands.add_parser("login")
    li.add_argument("-u", "--username", required=True)
    li.add_argument("--password-stdin", action="store_true")
    li.add_argument("registry")
    pu = commands.add_parser("push")
    pu.add_argument("image")
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        print(
            f"docker: '{argv[0]}' is not a command of the emulated notebook's docker "
            f"(it emulates: {', '.join(COMMANDS)}).",
            file=sys.stderr,
        )
        return 125
    args = parser().parse_args(argv)
    if args.verb is None:
        parser().print_help()
        return 0
    try:
        return globals()[args.verb](args, Store.here())
    except DockerError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


def install(bin_dir: Path) -> Path:
    """Write ``bin_dir/docker``: this program, run by this Python with this project on its
    path, for a lab kernel's PATH. Returns the folder."""
    from workshop_spec.config import PROJECT_ROOT

    bin_dir.mkdir(parents=True, exist_ok=True)
    program = bin_dir / "docker"
    program.write_text(
        "#!/bin/sh\n"
        "# The emulated notebook instance's docker (workshopctl/emulator/notebook_docker.py).\n"
        f"PYTHONPATH={shlex.quote(str(PROJECT_ROOT))} exec {shlex.quote(sys.executable)} "
        '-m workshopctl.emulator.notebook_docker "$@"\n'
    )
    program.chmod(0o755)
    return bin_dir


if __name__ == "__main__":
    sys.exit(main())
