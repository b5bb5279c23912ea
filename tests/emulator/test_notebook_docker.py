"""The emulated notebook's ``docker`` (workshopctl/emulator/notebook_docker.py): what Module 7
does with it, run as the lab kernel runs it (the program on PATH, the kernel's environment), and
its refusals."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.emulator.conftest import attendee_role_arn
from workshop_spec.config import PROJECT_ROOT
from workshopctl.emulator import notebook_docker
from workshopctl.emulator.executors.ecr_images import pushed_program
from workshopctl.labs_parameters import attendee_values, shared_values

CONTAINER = PROJECT_ROOT / "training_code" / "byom_scikit"


@pytest.fixture
def docker(tmp_path: Path):
    """``docker(*args, env=..., input=...)`` → the completed process of the installed program."""
    bin_dir = notebook_docker.install(tmp_path / "bin")
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        notebook_docker.ROOT_VARIABLE: str(tmp_path / "store"),
    }

    def run(*args: str, env: dict | None = None, input: str | None = None):
        return subprocess.run(
            ["docker", *args], env={**base, **(env or {})}, input=input, capture_output=True,
            text=True, cwd=tmp_path, timeout=120,
        )  # fmt: skip

    return run


def _context(tmp_path: Path) -> Path:
    context = tmp_path / "container"
    shutil.copytree(CONTAINER, context, ignore=shutil.ignore_patterns("__pycache__"))
    return context


def test_build_records_the_image_by_content_and_honours_dockerignore(docker, tmp_path):
    context = _context(tmp_path)
    (context / "notes.txt").write_text("left out by .dockerignore's allow-list")
    first = docker("build", "--platform", "linux/amd64", "-t", "byom-scikit", str(context))
    assert first.returncode == 0, first.stderr
    assert "Successfully tagged byom-scikit:latest" in first.stdout
    again = docker("build", "-t", "byom-scikit", str(context))
    assert again.stdout.splitlines()[-2] == first.stdout.splitlines()[-2]  # same content, same id
    (context / "notes.txt").write_text("ignored files do not change the image")
    assert docker("build", str(context)).stdout.splitlines()[-1] == first.stdout.splitlines()[-2]
    (context / "serve").write_text((context / "serve").read_text() + "# an attendee's edit\n")
    edited = docker("build", "-t", "byom-scikit:edited", str(context))
    assert edited.stdout.splitlines()[-2] != first.stdout.splitlines()[-2]
    images = docker("images").stdout
    assert "byom-scikit" in images and "edited" in images
    store = tmp_path / "store" / "images"
    assert not list(store.rglob("notes.txt")), "an ignored file went into the image"


@pytest.mark.parametrize(
    ("dockerfile", "message"),
    [
        ("FROM python:3.13-slim\nCOPY missing.py /opt/program/\n", '"missing.py"'),
        ("FROM python:3.13-slim\nFROBNICATE now\n", "unknown instruction: FROBNICATE"),
        ("COPY serve /x\n", "first instruction must be FROM"),
    ],
)
def test_build_refuses_a_dockerfile_docker_would_refuse(docker, tmp_path, dockerfile, message):
    context = _context(tmp_path)
    (context / "Dockerfile").write_text(dockerfile)
    (context / ".dockerignore").unlink()
    result = docker("build", str(context))
    assert result.returncode == 1
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compose", "up"], "'compose' is not a command of the emulated notebook's docker"),
        (["run", "byom-scikit", "bash"], "runs an image's train or serve program"),
        (["run", "-v", "/tmp:/etc", "byom-scikit", "serve"], "mounts HOST:/opt/ml/... only"),
        (["push", "docker.io/library/byom:1"], "Amazon ECR private registries only"),
        (["run", "nothing-built", "serve"], "Unable to find image 'nothing-built:latest'"),
    ],
)
def test_anything_the_lab_does_not_use_is_refused_by_name(docker, tmp_path, args, message):
    assert docker("build", "-t", "byom-scikit", str(_context(tmp_path))).returncode == 0
    result = docker(*args)
    assert result.returncode != 0
    assert message in result.stderr


def _get(url: str, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "text/csv"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return answer.status, answer.read().decode().strip()


def test_train_then_serve_detached_on_the_published_port_then_stop(docker, tmp_path):
    """The smoke test of Module 7: train, run `serve` detached with the model mounted, /ping
    and /invocations over HTTP on the host port, stop and remove."""
    assert docker("build", "-t", "byom-scikit", str(_context(tmp_path))).returncode == 0
    data = tmp_path / "data" / "training"
    data.mkdir(parents=True)
    rows = ["setosa,5.1,3.5,1.4,0.2", "versicolor,5.9,3.0,4.2,1.5", "virginica,6.9,3.1,5.4,2.1"]
    (data / "flowers.csv").write_text("\n".join(rows * 10) + "\n")
    model = f"{tmp_path / 'model'}:/opt/ml/model"
    data_mount = f"{tmp_path / 'data'}:/opt/ml/input/data"
    trained = docker("run", "--rm", "-v", data_mount, "-v", model, "byom-scikit", "train")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert list((tmp_path / "model").iterdir()), "train wrote no model"
    port = notebook_docker._free_port()
    started = docker("run", "-d", "--name", "smoke", "-p", f"{port}:8080",
                     "-v", f"{model}:ro", "byom-scikit", "serve")  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        for _ in range(120):
            try:
                assert _get(f"http://127.0.0.1:{port}/ping")[0] == 200
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(docker("logs", "smoke").stdout)
        answer = _get(f"http://127.0.0.1:{port}/invocations", b"5.9,3.0,4.2,1.5")
        assert answer == (200, "versicolor")
        assert "Up" in docker("ps").stdout
        assert "container is running" in docker("rm", "smoke").stderr
    finally:
        assert docker("stop", "smoke").returncode == 0
    assert "Exited" in docker("ps", "-a").stdout
    assert docker("rm", "smoke").returncode == 0
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/ping")


def _repository_uri(rehearsal, attendee_index: int) -> str:
    """The n-th attendee's repository, as the labs' helper makes it from the parameter."""
    published = shared_values(rehearsal.assembly)
    own = attendee_values(rehearsal.assembly)
    attendees = sorted(own)
    registry = published["model_repository_uri"].split("/", 1)[0]
    return f"{registry}/{own[attendees[attendee_index]]['image_repository']}"


def test_login_and_push_are_ecr_calls_the_attendees_role_may_make_on_its_own_repository(
    docker, tmp_path, rehearsal
):
    """The push goes through the emulated account as the notebook's role: its own repository
    takes the image (PutImage with a manifest naming the uploaded layers); another attendee's
    repository refuses it."""
    assembly = rehearsal.assembly
    env = rehearsal.account.environment("test notebook docker", attendee_role_arn(assembly, 0))
    ecr = rehearsal.account.client("ecr", "test notebook docker", attendee_role_arn(assembly, 0))
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, password = base64.b64decode(token).decode().split(":", 1)
    mine, theirs = _repository_uri(rehearsal, 0), _repository_uri(rehearsal, 1)
    registry = mine.split("/", 1)[0]
    context = _context(tmp_path)
    edited_serve = (context / "serve").read_text() + "# the attendee's edit\n"
    (context / "serve").write_text(edited_serve)
    assert docker("build", "-t", "byom-scikit", str(context)).returncode == 0
    refused = docker("push", f"{mine}:v1", env=env)
    assert "no basic auth credentials" in refused.stderr
    wrong = docker("login", "-u", user, "--password-stdin", registry, env=env, input="guess")
    assert "401 Unauthorized" in wrong.stderr
    logged_in = docker("login", "-u", user, "--password-stdin", registry, env=env, input=password)
    assert logged_in.returncode == 0, logged_in.stderr
    for target in (f"{mine}:v1", f"{theirs}:v1"):
        assert docker("tag", "byom-scikit", target).returncode == 0
    pushed = docker("push", f"{mine}:v1", env=env)
    assert pushed.returncode == 0, pushed.stderr
    name = mine.split("/", 1)[1]
    (image,) = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "v1"}])[
        "imageDetails"
    ]
    assert image["imageDigest"] in pushed.stdout
    # Hosting runs what was pushed: the layers' bytes are kept, the programs unpacked from them.
    program = pushed_program(rehearsal.account, f"{mine}:v1")
    assert program is not None and (program / "serve").read_text() == edited_serve
    assert (program / "byom" / "server.py").is_file()
    assert pushed_program(rehearsal.account, f"{mine}:never-pushed") is None
    again = docker("push", f"{mine}:v1", env=env)  # the same image again: nothing to do
    assert again.returncode == 0, again.stderr
    context_edit = (context / "train").read_text() + "# another edit\n"
    (context / "train").write_text(context_edit)
    assert docker("build", "-t", f"{mine}:v1", str(context)).returncode == 0
    overwrite = docker("push", f"{mine}:v1", env=env)  # immutable tags: not another image
    assert overwrite.returncode == 1
    assert "ImageTagAlreadyExistsException" in overwrite.stderr
    denied = docker("push", f"{theirs}:v1", env=env)
    assert denied.returncode == 1
    assert "AccessDenied" in denied.stderr
