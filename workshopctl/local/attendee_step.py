"""The attendee environment, checked locally: the notebook lifecycle scripts for real.

The on-create and on-start scripts of the first attendee's notebook, as its lifecycle
configuration in the synthesized template holds them (byte for byte what SageMaker runs), run
twice each in a sandbox standing in for the notebook instance: a temporary home for
``ec2-user``; the lab repositories the script names, redirected by git's ``insteadOf`` to local
bare repositories made from this project's own git repository; the labs archive the script
copies, at its S3 URI, from the asset the deploy publishes; and small recording stand-ins for
``aws`` (S3 copy, SSM parameter, stop), ``dnf``, ``crontab``, the kernel env's ``pip`` and
``yum`` (which Amazon Linux 2023 lacks: a call to it is a bug the tests catch). Then the
installed ``autostop.py`` judges synthetic Jupyter sessions, served over HTTP like the notebook
server's API, in dry-run. Every value (idle minutes, repositories, the parameter's name) is
read from the scripts' own parameter lines; nothing comes from the workshop config.
"""

from __future__ import annotations

import http.server
import json
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.workspace import Log, Metric, StepReport, Workspace

LIFECYCLE_LIMIT_SECONDS = 300  # SageMaker stops a lifecycle script after 5 minutes
BLOCK_START = "# >>> workshop shell set-up"
CRON_MARK = "# workshop-autostop"
NOTEBOOK_NAME = "mlws-attendee-01"
NOTEBOOK_ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/{NOTEBOOK_NAME}"
_GIT_IDENTITY = ["-c", "user.name=workshop", "-c", "user.email=workshop@example.invalid"]

# One recording stand-in serves as every fake tool (by the name it is called with). `sudo` and
# `chown` are installed only by tests that need them (install_user_tools).
_FAKE_TOOL = r"""
import json, os, shutil, sys
from pathlib import Path

tool, args = Path(sys.argv[0]).name, sys.argv[1:]
with open(os.environ["FAKE_CALLS"], "a") as calls:
    region = os.environ.get("AWS_DEFAULT_REGION")
    calls.write(json.dumps({"tool": tool, "args": args, "region": region}) + "\n")

def option(name):
    return args[args.index(name) + 1]

def s3_path(uri):
    return Path(os.environ["FAKE_S3"]) / uri.removeprefix("s3://")

if tool == "crontab":
    table = Path(os.environ["FAKE_CRONTAB"])
    if args == ["-l"]:
        if not table.exists():
            sys.exit("no crontab for root")
        print(table.read_text(), end="")
    elif args == ["-"]:
        table.write_text(sys.stdin.read())
    else:
        sys.exit(f"crontab stand-in: unsupported {args}")
elif tool in ("dnf", "pip"):
    print(f"{tool} stand-in: nothing installed")
elif tool == "yum":
    sys.exit("yum: command not found (Amazon Linux 2023 has dnf)")
elif tool == "chown":
    pass
elif tool == "sudo":
    command = args[args.index("--") + 1:]
    os.execv(shutil.which(command[0]) or command[0], command)
elif args[:2] == ["s3", "cp"]:
    source, target = [a for a in args[2:] if not a.startswith("--")]
    if not s3_path(source).is_file():
        sys.exit(f"fatal error: {source} does not exist")
    shutil.copyfile(s3_path(source), target)
elif args[:2] == ["ssm", "get-parameter"]:
    stored = Path(os.environ["FAKE_SSM"]) / option("--name").strip("/").replace("/", "__")
    if not stored.is_file():
        sys.exit("An error occurred (ParameterNotFound) when calling the GetParameter operation")
    print(stored.read_text())
elif args[:2] == ["sagemaker", "stop-notebook-instance"]:
    pass
else:
    sys.exit(f"aws stand-in: unsupported call {args}")
"""


@dataclass(frozen=True)
class Sandbox:
    """A stand-in notebook instance: folders, fake tools and what they recorded."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home" / "ec2-user"

    @property
    def notebook_dir(self) -> Path:
        return self.home / "SageMaker"

    @property
    def autostop_dir(self) -> Path:
        return self.root / "usr-local-lib-workshop"

    @property
    def metadata_file(self) -> Path:
        return self.root / "resource-metadata.json"

    @property
    def env_file(self) -> Path:
        return self.notebook_dir / ".workshop" / "env.json"

    @property
    def bashrc(self) -> Path:
        return self.home / ".bashrc"

    @property
    def kernel_env_pip(self) -> Path:
        """pip of the conda env behind the ``conda_python3`` kernel."""
        return self.home / "anaconda3" / "envs" / "python3" / "bin" / "pip"

    def install_user_tools(self) -> None:
        """Recording ``sudo`` (runs its command after ``--``) and ``chown`` stand-ins, for
        runs with ``SUDO_AS`` set: no ``ec2-user`` exists here."""
        for name in ("sudo", "chown"):
            (self.root / "bin" / name).symlink_to(self.root / "bin" / "fake_tool.py")

    def environment(self) -> dict[str, str]:
        """The scripts' environment: the overrides of README.md and the stand-ins first on PATH.

        Built from scratch (not inherited) so that no AWS variable or git configuration of
        the operator's shell leaks in.
        """
        return {
            "PATH": f"{self.root / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "WORKSHOP_HOME": str(self.home),
            "SUDO_AS": "",
            "AUTOSTOP_DIR": str(self.autostop_dir),
            "AUTOSTOP_PYTHON": sys.executable,
            "RESOURCE_METADATA": str(self.metadata_file),
            "CLONE_WAIT_SECONDS": "30",
            "JOB_TIMEOUT_SECONDS": "60",
            "FAKE_CALLS": str(self.root / "calls.jsonl"),
            "FAKE_CRONTAB": str(self.root / "crontab"),
            "FAKE_S3": str(self.root / "s3"),
            "FAKE_SSM": str(self.root / "ssm"),
        }

    def calls(self, tool: str) -> list[dict]:
        """What the stand-in ``tool`` was called with, in order."""
        path = self.root / "calls.jsonl"
        if not path.exists():
            return []
        lines = path.read_text().splitlines()
        return [call for call in map(json.loads, lines) if call["tool"] == tool]

    def crontab(self) -> list[str]:
        path = self.root / "crontab"
        return path.read_text().splitlines() if path.exists() else []

    def put_s3_object(self, uri: str, source: Path) -> None:
        target = self.root / "s3" / uri.removeprefix("s3://")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    def put_ssm_parameter(self, name: str, value: str) -> None:
        (self.root / "ssm" / name.strip("/").replace("/", "__")).write_text(value)


def make_sandbox(root: Path, notebook: str = NOTEBOOK_NAME, arn: str = NOTEBOOK_ARN) -> Sandbox:
    """A fresh sandbox under ``root`` (removed first) with its stand-in tools installed, for
    the notebook instance ``notebook`` (its metadata file names it, as on the instance)."""
    shutil.rmtree(root, ignore_errors=True)
    sandbox = Sandbox(root)
    for folder in (sandbox.home, root / "bin", root / "s3", root / "ssm", root / "remotes"):
        folder.mkdir(parents=True)
    tool = root / "bin" / "fake_tool.py"
    tool.write_text(f"#!{sys.executable}\n{_FAKE_TOOL}")
    tool.chmod(0o755)
    for name in ("aws", "dnf", "yum", "crontab"):
        (root / "bin" / name).symlink_to(tool)
    sandbox.kernel_env_pip.parent.mkdir(parents=True)
    sandbox.kernel_env_pip.symlink_to(tool)
    metadata = {"ResourceArn": arn, "ResourceName": notebook}
    sandbox.metadata_file.write_text(json.dumps(metadata))
    return sandbox


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *_GIT_IDENTITY, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def make_bare_repository(target: Path, source: Path | None = PROJECT_ROOT) -> str:
    """A bare repository at ``target`` made from ``source``'s HEAD (shallow), or, when
    ``source`` is not a git repository, a one-commit repository; returns its ``file://`` URL."""
    if source is not None and (source / ".git").exists():
        _git("clone", "--quiet", "--bare", "--depth", "1", source.resolve().as_uri(), str(target))
        return target.resolve().as_uri()
    work = target.with_name(target.name + ".work")
    work.mkdir(parents=True)
    (work / "README.md").write_text(f"# {target.stem}\n\nA stand-in lab repository.\n")
    _git("init", "--quiet", str(work))
    _git("add", "README.md", cwd=work)
    _git("commit", "--quiet", "-m", "Stand-in lab repository", cwd=work)
    _git("clone", "--quiet", "--bare", str(work), str(target))
    shutil.rmtree(work)
    return target.resolve().as_uri()


def repository_name(url: str) -> str:
    """The folder a clone of ``url`` gets (as on-create.sh names it)."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return name.removesuffix(".git")


@dataclass(frozen=True)
class ScriptRun:
    script: str
    seconds: float
    output: str


def run_script(
    sandbox: Sandbox, name: str, content: str, overrides: Mapping[str, str] | None = None
) -> ScriptRun:
    """Run rendered script ``content`` with bash in the sandbox (its environment plus
    ``overrides``); raise if it fails or runs past the lifecycle limit."""
    path = sandbox.root / "scripts" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(content)
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", str(path)],
        env={**sandbox.environment(), **(overrides or {})},
        cwd=sandbox.root,
        capture_output=True,
        text=True,
        timeout=LIFECYCLE_LIMIT_SECONDS,
    )
    seconds = time.perf_counter() - started
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{name} exited with {done.returncode}:\n{output}")
    return ScriptRun(name, seconds, output)


PARAMETERS_START = "# --- parameters from the workshop stack ---"


def script_parameters(script: str) -> dict[str, str]:
    """The ``export NAME='value'`` lines the stack rendered at the top of a lifecycle script
    (notebook_lifecycle/render.py writes them with ``shlex.quote``, so ``shlex`` reads them)."""
    lines = script.splitlines()
    if PARAMETERS_START not in lines:
        raise ValueError("the script has no parameter block from the workshop stack")
    found = {}
    for line in lines[lines.index(PARAMETERS_START) + 1 :]:
        if line == "# ---":
            return found
        words = shlex.split(line)
        if len(words) != 2 or words[0] != "export" or "=" not in words[1]:
            raise ValueError(f"not a parameter line: {line!r}")
        name, _, value = words[1].partition("=")
        found[name] = value
    raise ValueError("the script's parameter block never ends")


def lifecycle_scripts(assembly, notebook) -> dict[str, str]:
    """on-create.sh and on-start.sh of ``notebook``'s lifecycle configuration, as deployed."""
    config = assembly.find(
        "AWS::SageMaker::NotebookInstanceLifecycleConfig",
        notebook.properties["LifecycleConfigName"],
    )
    if config is None:
        raise LookupError(f"{notebook.name} has no lifecycle configuration in the assembly")
    return {
        "on-create.sh": config.properties["OnCreate"][0]["Content"],
        "on-start.sh": config.properties["OnStart"][0]["Content"],
    }


# -- synthetic Jupyter server --------------------------------------------------------------


def _jupyter_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _kernel(kernel_id: str, state: str, last_activity: datetime) -> dict:
    return {
        "id": kernel_id,
        "name": "python3",
        "execution_state": state,
        "connections": 1,
        "last_activity": _jupyter_time(last_activity),
    }


def session(kernel: dict, path: str) -> dict:
    """A Jupyter session object as /api/sessions lists it."""
    return {"id": f"s-{kernel['id']}", "path": path, "type": "notebook", "kernel": kernel}


def idle_scenarios(now: datetime, idle_minutes: int) -> list[dict]:
    """Synthetic Jupyter answers, each with the decision the auto-stop must reach."""
    minutes = timedelta(minutes=1)
    long_ago, recently = now - 3 * idle_minutes * minutes, now - 5 * minutes
    busy = _kernel("k-busy", "busy", long_ago)
    quiet = _kernel("k-quiet", "idle", long_ago)
    fresh = _kernel("k-fresh", "idle", recently)
    started_long_ago = _jupyter_time(now - 4 * idle_minutes * minutes)
    return [
        {"name": "a kernel is busy", "sessions": [session(busy, "train.ipynb")], "idle": False},
        {
            "name": "a kernel ran 5 min ago",
            "sessions": [session(fresh, "eda.ipynb")],
            "idle": False,
        },
        {
            "name": f"every kernel quiet for {3 * idle_minutes} min",
            "sessions": [session(quiet, "eda.ipynb")],
            "idle": True,
        },
        {
            "name": "mixed: one quiet, one recent",
            "sessions": [session(quiet, "a.ipynb"), session(fresh, "b.ipynb")],
            "idle": False,
        },
        {
            "name": "no sessions, started 5 min ago",
            "sessions": [],
            "started_at": _jupyter_time(now - 5 * minutes),
            "idle": False,
        },
        {
            "name": f"no sessions, started {4 * idle_minutes} min ago",
            "sessions": [],
            "started_at": started_long_ago,
            "idle": True,
        },
        {
            "name": "a terminal typed in 5 min ago",
            "sessions": [session(quiet, "a.ipynb")],
            "terminals": [{"name": "1", "last_activity": _jupyter_time(recently)}],
            "idle": False,
        },
    ]


class _JupyterApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        answers: Mapping[str, list] = self.server.answers  # type: ignore[attr-defined]
        body = json.dumps(answers.get(self.path.split("?")[0], [])).encode()
        self.send_response(200 if self.path.split("?")[0] in answers else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # quiet: the step reports what matters
        pass


@contextmanager
def fake_jupyter_server() -> Iterator[http.server.ThreadingHTTPServer]:
    """A loopback HTTP server answering /api/sessions, /api/kernels, /api/terminals from
    its ``answers`` attribute (path → JSON list)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JupyterApi)
    server.answers = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def judge_scenarios(sandbox: Sandbox, idle_minutes: int) -> list[dict]:
    """Run the installed autostop.py (dry run) against each scenario; one row per scenario."""
    script = sandbox.autostop_dir / "autostop.py"
    rows = []
    with fake_jupyter_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        for scenario in idle_scenarios(datetime.now(UTC), idle_minutes):
            server.answers = {  # type: ignore[attr-defined]
                "/api/sessions": scenario["sessions"],
                "/api/kernels": [],
                "/api/terminals": scenario.get("terminals", []),
            }
            command = [
                sys.executable,
                str(script),
                "--idle-minutes",
                str(idle_minutes),
                "--ignore-connections",
                "--jupyter-url",
                url,
                "--metadata-file",
                str(sandbox.metadata_file),
                "--started-at",
                scenario.get("started_at", "2000-01-01T00:00:00Z"),
                "--dry-run",
            ]
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=30, env=sandbox.environment()
            )
            decision = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(
                {
                    "scenario": scenario["name"],
                    "expected": "stop" if scenario["idle"] else "keep",
                    "decision": "stop" if decision["idle"] else "keep",
                    "reason": decision.get("reason") or decision.get("error", ""),
                    "action": decision.get("action", ""),
                }
            )
    return rows


# -- the step ------------------------------------------------------------------------------


def _check(condition: bool, problem: str, problems: list[str]) -> None:
    if not condition:
        problems.append(problem)


class AttendeeEnvironmentStep:
    """Module 1's notebook set-up, run locally: lifecycle scripts twice, then the idle check."""

    name = "attendee environment"

    def __init__(self, cdk_out: Path | None = None) -> None:
        self.cdk_out = cdk_out

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        from workshopctl.cloud_assembly import CloudAssembly
        from workshopctl.emulator.rehearsal import attendee_notebook
        from workshopctl.labs_parameters import shared_parameter
        from workshopctl.local.synth_step import CDK_OUT

        # The notebook, its scripts and the labs' parameter as the templates deploy them.
        assembly = CloudAssembly(self.cdk_out or CDK_OUT)
        notebook = attendee_notebook(assembly)
        scripts = lifecycle_scripts(assembly, notebook)
        parameters = {**script_parameters(scripts["on-create.sh"]),
                      **script_parameters(scripts["on-start.sh"])}  # fmt: skip
        idle_minutes = int(parameters["IDLE_MINUTES"])
        repositories = parameters["LAB_REPOSITORIES"].split()
        parameter = shared_parameter(assembly)  # what the scripts read; not the attendees'
        self.parameter = (parameter.name, parameter.properties["Value"])
        sandbox = make_sandbox(
            workspace.bucket("work") / "attendee_environment", notebook.name, notebook.arn
        )
        sandbox.bashrc.write_text("# the attendee's own line\nalias gs='git status'\n")

        log(f"lifecycle: {len(repositories)} lab repositories as local bare repositories")
        self._stage(assembly, sandbox, parameters, repositories)
        runs = []
        for attempt in ("first", "second"):
            for name, script in scripts.items():
                log(f"lifecycle: {name} ({attempt} run)")
                runs.append((attempt, run_script(sandbox, name, script)))
        problems = self._check_instance(sandbox, parameters, repositories, runs)

        log("auto-stop: judging synthetic Jupyter sessions (dry run)")
        started = time.perf_counter()
        decisions = judge_scenarios(sandbox, idle_minutes)
        judge_seconds = time.perf_counter() - started
        for row in decisions:
            _check(
                row["decision"] == row["expected"],
                f"auto-stop: {row['scenario']}: {row['decision']} ({row['reason']})",
                problems,
            )
        if problems:
            raise RuntimeError("; ".join(problems))
        return self._report(sandbox, repositories, idle_minutes, runs, decisions, judge_seconds)

    def _stage(
        self, assembly, sandbox: Sandbox, parameters: Mapping[str, str], repositories: list[str]
    ) -> None:
        """What the scripts reach on AWS, in the sandbox: each repository they clone (git's
        ``insteadOf`` sends its URL to a local bare copy, so the script runs unchanged), the
        labs archive at the S3 URI they copy it from (the very asset the deploy publishes)
        and the SSM parameter they read."""
        from workshopctl.emulator.deploy import asset_bytes

        redirects = []
        for url in repositories:
            local = make_bare_repository(sandbox.root / "remotes" / f"{repository_name(url)}.git")
            redirects.append(f'[url "{local}"]\n\tinsteadOf = {url}\n')
        (sandbox.home / ".gitconfig").write_text("".join(redirects))
        labs = parameters.get("LABS_S3_URI")
        if labs:
            bucket, _, key = labs.removeprefix("s3://").partition("/")
            archive = sandbox.root / "labs.zip"
            archive.write_bytes(asset_bytes(assembly, bucket, key))
            sandbox.put_s3_object(labs, archive)
        name, value = self.parameter
        if parameters.get("WORKSHOP_SSM_PARAMETER") != name:
            raise RuntimeError(
                f"the scripts read {parameters.get('WORKSHOP_SSM_PARAMETER')}, the stack "
                f"deploys {name}"
            )
        sandbox.put_ssm_parameter(name, value)

    def _check_instance(
        self,
        sandbox: Sandbox,
        parameters: Mapping[str, str],
        repositories: list[str],
        runs: list,
    ) -> list[str]:
        """What a notebook instance must look like after two starts; one line per problem."""
        idle_minutes = int(parameters["IDLE_MINUTES"])
        problems: list[str] = []
        second_create = next(
            run for attempt, run in runs if attempt == "second" and run.script == "on-create.sh"
        )
        for url in repositories:
            name = repository_name(url)
            clone = sandbox.notebook_dir / name
            _check((clone / ".git").is_dir(), f"{name} was not cloned", problems)
            _check(
                f"{name}: already present" in second_create.output,
                f"{name} was not recognised as cloned on the second run",
                problems,
            )
        bashrc = sandbox.bashrc.read_text()
        _check(
            bashrc.count(BLOCK_START) == 1, "~/.bashrc block is not there exactly once", problems
        )
        _check("alias gs='git status'" in bashrc, "~/.bashrc lost the attendee's line", problems)
        _check(
            json.loads(sandbox.env_file.read_text()) == json.loads(self.parameter[1]),
            "env.json does not hold the SSM parameter's values",
            problems,
        )
        if parameters.get("LABS_S3_URI"):
            _check((sandbox.notebook_dir / "labs").is_dir(), "labs.zip not unpacked", problems)
        entries = [line for line in sandbox.crontab() if CRON_MARK in line]
        expected = 1 if idle_minutes > 0 else 0
        _check(len(entries) == expected, f"{len(entries)} cron entries, not {expected}", problems)
        _check(
            all(run.seconds < LIFECYCLE_LIMIT_SECONDS for _, run in runs),
            "a lifecycle script ran past the 5-minute limit",
            problems,
        )
        return problems

    def _report(
        self,
        sandbox: Sandbox,
        repositories: list[str],
        idle_minutes: int,
        runs: list,
        decisions: list[dict],
        judge_seconds: float,
    ) -> StepReport:
        report = StepReport(title="Attendee environment (notebook lifecycle)")
        report.lines = [
            f"on-create cloned {', '.join(map(repository_name, repositories))} from local bare "
            "repositories; a second run kept them",
            "on-start: ~/.bashrc block once after two runs, env.json from the SSM parameter, "
            f"auto-stop cron entry once ({idle_minutes} idle minutes)",
            f"auto-stop: {len(decisions)} synthetic Jupyter states judged as expected "
            f"in {judge_seconds:.1f} s (dry run)",
            f"sandbox: {sandbox.root}",
        ]
        report.metrics = [
            Metric(
                f"{run.script} {attempt} run (s)",
                round(run.seconds, 2),
                f"< {LIFECYCLE_LIMIT_SECONDS}",
                run.seconds < LIFECYCLE_LIMIT_SECONDS,
            )
            for attempt, run in runs
        ]
        report.tables["idle decisions"] = decisions
        report.artifacts = [sandbox.env_file, sandbox.bashrc]
        return report
