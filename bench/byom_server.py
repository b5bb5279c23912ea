"""Benchmark: the Module 7 inference server vs. the 2020 sample's Flask stack, on loopback.

    .venv/bin/python bench/byom_server.py            # ~2-3 minutes, 3 rounds per cell
    .venv/bin/python bench/byom_server.py --quick    # ~30 seconds, 1 short round
    .venv/bin/python bench/byom_server.py --soak 60  # 60 s of steady load on ours only

Both servers run here, in the same run, with the same worker count and the same model
(iris, trained by our ``train``; the baseline gets the equivalent sklearn pickle), on
127.0.0.1 only. The baseline runs as the 2020 sample deployed it: gunicorn with gevent
workers (without the nginx in front). Payloads of 1, 100 and 10,000 CSV rows; each cell is
measured in several rounds, alternating servers, and the median round is reported. Load
comes from wrk when it is installed (``apt-get install -y wrk``), else from a Python
keep-alive client.

The client's own ceiling is measured in the same rounds: the same client against
``byom_null_server.py``, which answers each request with a canned body of the real answer's
size and does no work. A server within ~80 % of that ceiling is limited by the client (which
shares the cores), and its ratio to the baseline is then a lower bound.

Then a 6 MB payload (SageMaker's MaxPayloadInMB, what batch transform sends): the latency of
one request at a time on a keep-alive connection, median of many, for both servers.

Targets: 1-row >= 3x baseline req/s with p99 <= 5 ms; 10,000-row >= 3x baseline rows/s;
6 MB answered in <= 100 ms (median); the soak: zero failed requests, steady memory, and
every /ping probe under SageMaker's 2 s health-check deadline while the load runs.
"""

from __future__ import annotations

import argparse
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from byom_load import LoadResult, run_load, run_mixed_python_load, wrk_available

REPO = Path(__file__).resolve().parent.parent
BYOM_DIR = REPO / "training_code" / "byom_scikit"
PYTHON = sys.executable
PAYLOAD_ROWS = (1, 100, 10_000)
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker's MaxPayloadInMB = 6
# A container must answer /ping within 2 s or the host is taken out of service: "Use Your Own
# Inference Code with Hosting Services", https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
PING_DEADLINE_SECONDS = 2.0
CLIENT_BOUND = 0.8  # a server this close to the client's ceiling is limited by the client


def main() -> int:
    args = _parse_args()
    with tempfile.TemporaryDirectory(prefix="byom-bench-") as folder:
        workdir = Path(folder)
        _prepare_model(workdir)
        if args.soak:
            return _soak(workdir, args)
        return _compare(workdir, args)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s per cell")
    parser.add_argument("--soak", type=int, metavar="SECONDS", help="steady load on ours only")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0, help="per round and cell")
    parser.add_argument("--python-client", action="store_true", help="don't use wrk")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
    return args


# -- set-up ---------------------------------------------------------------------------------


def _prepare_model(workdir: Path) -> None:
    """Train ours with the real ``train``; pickle the same tree for the baseline."""
    sys.path.insert(0, str(BYOM_DIR))
    from byom.iris_data import write_iris_csv
    from sklearn.tree import DecisionTreeClassifier

    csv_path = write_iris_csv(workdir / "opt_ml" / "input" / "data" / "training" / "iris.csv")
    subprocess.run(
        [PYTHON, str(BYOM_DIR / "train"), "--opt-ml", str(workdir / "opt_ml")],
        check=True,
        capture_output=True,
    )
    import numpy as np

    cells = np.loadtxt(csv_path, delimiter=",", dtype=str)
    baseline_model = DecisionTreeClassifier(random_state=0).fit(
        cells[:, 1:].astype(float), cells[:, 0]
    )
    (workdir / "baseline.pkl").write_bytes(pickle.dumps(baseline_model))


def _flowers() -> list[str]:
    sys.path.insert(0, str(BYOM_DIR))
    from byom.iris_data import iris_rows

    return [",".join(repr(v) for v in values) + "\n" for _, values in iris_rows()]


def _payload(rows: int) -> bytes:
    flowers = _flowers()
    return "".join(flowers[i % len(flowers)] for i in range(rows)).encode()


def _largest_payload(limit: int = MAX_PAYLOAD_BYTES) -> tuple[bytes, int]:
    """As many iris rows as fit in ``limit`` bytes, and how many that is."""
    flowers = _flowers()
    cycle = "".join(flowers).encode()
    body = cycle * (limit // len(cycle))
    rows = len(flowers) * (limit // len(cycle))
    for flower in flowers:
        if len(body) + len(flower) > limit:
            break
        body += flower.encode()
        rows += 1
    return body, rows


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server:
    """A server subprocess on a free loopback port, stopped with SIGTERM."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path, port: int) -> None:
        self.name, self.port = name, port
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /ping within {timeout} s")

    def rss_bytes(self) -> int:
        """Resident memory of the server and all its worker processes."""
        pids = [self.process.pid, *_children(self.process.pid)]
        return sum(_rss_of(pid) for pid in pids)

    def stop(self) -> int:
        self.process.terminate()
        try:
            code = self.process.wait(timeout=30)
        finally:
            self._log.close()
        return code


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _rss_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _start_ours(workdir: Path, workers: int) -> _Server:
    port = _free_port()
    command = [PYTHON, str(BYOM_DIR / "serve"), "--opt-ml", str(workdir / "opt_ml"),
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    return _Server("ours", command, {}, workdir / "ours.log", port)


def _start_baseline(workdir: Path, workers: int) -> _Server:
    port = _free_port()
    # As the 2020 sample's `serve` started it: gunicorn -k gevent, one worker per CPU (its
    # nginx in front only buffered requests and capped bodies at 5 MB, so it is left out).
    command = [PYTHON, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gevent",
               "--timeout", "60", "--bind", f"127.0.0.1:{port}", "--chdir", str(REPO / "bench"),
               "--no-control-socket", "byom_baseline_app:app"]  # fmt: skip
    env = {"BASELINE_MODEL_PATH": str(workdir / "baseline.pkl")}
    return _Server("baseline", command, env, workdir / "baseline.log", port)


def _start_null(workdir: Path, workers: int, answer_bytes: int) -> _Server:
    port = _free_port()
    command = [PYTHON, str(REPO / "bench" / "byom_null_server.py"), str(port), str(workers),
               str(answer_bytes)]  # fmt: skip
    return _Server("ceiling", command, {}, workdir / "null.log", port)


def _answer_bytes(port: int, body: bytes) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "text/csv"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(response.read())


# -- comparison -----------------------------------------------------------------------------


def _compare(workdir: Path, args: argparse.Namespace) -> int:
    use_wrk = wrk_available() and not args.python_client
    servers = {
        "baseline": _start_baseline(workdir, args.workers),
        "ours": _start_ours(workdir, args.workers),
    }
    client = "wrk (1 thread)" if use_wrk else "Python keep-alive client"
    print(
        f"BYOM server benchmark: {args.workers} workers per server, {args.connections} "
        f"keep-alive connections, load from {client}; median of {args.rounds} round(s) "
        f"x {args.seconds:g} s per cell; {os.cpu_count()} cores, loopback only; "
        "'ceiling' = the same client against a server that does no work"
    )
    try:
        results = {}
        for rows in PAYLOAD_ROWS:
            body = _payload(rows)
            ceiling = _start_null(workdir, args.workers, _answer_bytes(servers["ours"].port, body))
            cell = {"ceiling": ceiling, **servers}
            try:
                results[rows] = _measure_cell(cell, body, args, use_wrk)
            finally:
                ceiling.stop()
        large = _large_payload_latency(servers, workdir, args, use_wrk)
        codes = {name: server.stop() for name, server in servers.items()}
    except BaseException:
        for server in servers.values():
            server.process.kill()
        raise
    _print_table(results)
    _print_large(large)
    _print_targets(results, large)
    print(f"exit codes after SIGTERM: {codes}")
    return 0


def _measure_cell(servers: dict, body: bytes, args, use_wrk: bool) -> dict[str, list[LoadResult]]:
    for server in servers.values():  # warm caches, connections and every worker
        run_load(server.port, body, 1, args.connections, use_wrk=use_wrk)
    rounds: dict[str, list[LoadResult]] = {name: [] for name in servers}
    for round_index in range(args.rounds):
        order = list(servers) if round_index % 2 == 0 else list(reversed(servers))
        for name in order:
            rounds[name].append(
                run_load(servers[name].port, body, args.seconds, args.connections, use_wrk=use_wrk)
            )
    return rounds


def _large_payload_latency(servers: dict, workdir: Path, args, use_wrk: bool) -> dict:
    """One 6 MB request at a time on one keep-alive connection: latency, median of many."""
    body, rows = _largest_payload()
    ceiling = _start_null(workdir, args.workers, _answer_bytes(servers["ours"].port, body))
    cell = {"ceiling": ceiling, **servers}
    seconds = max(2.0, args.seconds / 2)
    try:
        for server in cell.values():
            run_load(server.port, body, 1, 1, use_wrk=use_wrk)
        measured: dict[str, list[LoadResult]] = {name: [] for name in cell}
        for round_index in range(args.rounds):
            order = list(cell) if round_index % 2 == 0 else list(reversed(cell))
            for name in order:
                measured[name].append(run_load(cell[name].port, body, seconds, 1, use_wrk=use_wrk))
    finally:
        ceiling.stop()
    return {"bytes": len(body), "rows": rows, "results": measured}


def _median(results: list[LoadResult], attribute: str) -> float:
    return statistics.median(getattr(result, attribute) for result in results)


def _ratio(by_server: dict[str, list[LoadResult]]) -> float:
    ours = _median(by_server["ours"], "requests_per_second")
    baseline = _median(by_server["baseline"], "requests_per_second")
    return ours / baseline if baseline else float("inf")


def _print_table(results: dict[int, dict[str, list[LoadResult]]]) -> None:
    header = f"{'payload':>11} {'server':>9} {'req/s':>9} {'rows/s':>11} {'p50 ms':>8} "
    print(header + f"{'p99 ms':>8} {'failed':>7}")
    for rows, by_server in results.items():
        for name, rounds in by_server.items():
            rps = _median(rounds, "requests_per_second")
            failed = sum(result.failures for result in rounds)
            print(
                f"{rows:>7} row{'s' if rows > 1 else ' '} {name:>9} {rps:>9.0f} "
                f"{rps * rows:>11.0f} {_median(rounds, 'p50_ms'):>8.2f} "
                f"{_median(rounds, 'p99_ms'):>8.2f} {failed:>7}"
            )
        ceiling = _median(by_server["ceiling"], "requests_per_second")
        ours = _median(by_server["ours"], "requests_per_second")
        share = ours / ceiling if ceiling else 0.0
        bound = " (client-bound: the ratio is a lower bound)" if share >= CLIENT_BOUND else ""
        print(
            f"{'':>11} {'ratio':>9} {_ratio(by_server):>8.2f}x ours / baseline; ours at "
            f"{share:.0%} of the client's ceiling{bound}"
        )


def _print_large(large: dict) -> None:
    results = large["results"]
    print(
        f"{large['bytes'] / 1e6:.2f} MB payload ({large['rows']:,} rows), one request at a "
        "time on one keep-alive connection:"
    )
    for name, rounds in results.items():
        p50 = _median(rounds, "p50_ms")
        failed = sum(result.failures for result in rounds)
        print(
            f"{'':>11} {name:>9} p50 {p50:>7.1f} ms  p99 {_median(rounds, 'p99_ms'):>7.1f} ms  "
            f"{large['rows'] / p50 * 1000:>11.0f} rows/s  failed {failed}"
        )


def _print_targets(results: dict, large: dict) -> None:
    one_row = results[1]["ours"]
    ratio_1, ratio_10k = _ratio(results[1]), _ratio(results[10_000])
    p99 = _median(one_row, "p99_ms")
    large_p50 = _median(large["results"]["ours"], "p50_ms")
    ceiling_10k = _median(results[10_000]["ceiling"], "requests_per_second") / _median(
        results[10_000]["baseline"], "requests_per_second"
    )
    print(
        f"targets: 1-row >= 3x: {ratio_1:.2f}x {'MET' if ratio_1 >= 3 else 'MISSED'}; "
        f"1-row p99 <= 5 ms: {p99:.2f} ms {'MET' if p99 <= 5 else 'MISSED'}; "
        f"10,000-row >= 3x rows/s: {ratio_10k:.2f}x {'MET' if ratio_10k >= 3 else 'MISSED'} "
        f"(client's ceiling: {ceiling_10k:.2f}x the baseline); "
        f"6 MB <= 100 ms: {large_p50:.1f} ms {'MET' if large_p50 <= 100 else 'MISSED'} "
        f"(client's ceiling: {_median(large['results']['ceiling'], 'p50_ms'):.1f} ms)"
    )


# -- soak -----------------------------------------------------------------------------------


def _soak(workdir: Path, args: argparse.Namespace) -> int:
    server = _start_ours(workdir, args.workers)
    bodies = [_payload(1), _payload(100), _payload(1), _payload(10_000)]
    run_mixed_python_load(server.port, bodies, 2, args.connections)  # warm-up
    rss_start = server.rss_bytes()
    samples: list[tuple[float, int]] = []
    outcome: list[LoadResult] = []
    loader = threading.Thread(
        target=lambda: outcome.append(
            run_mixed_python_load(server.port, bodies, args.soak, args.connections)
        )
    )
    ping_seconds: list[float] = []
    began = time.monotonic()
    loader.start()
    while loader.is_alive():
        ping_seconds.append(_ping_seconds(server.port))
        loader.join(timeout=5)
        samples.append((time.monotonic() - began, server.rss_bytes()))
    rss_end = server.rss_bytes()
    code = server.stop()
    result = outcome[0]
    mib = 1024 * 1024
    peak = max(rss for _, rss in samples)
    print(
        f"soak: {args.soak} s of mixed 1/100/1/10,000-row CSV requests over "
        f"{args.connections} keep-alive connections (Python client), {args.workers} workers"
    )
    print(
        f"requests {result.requests}, failed {result.failures}, "
        f"{result.requests_per_second:.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms"
    )
    print(
        f"server RSS (master + workers): start {rss_start / mib:.1f} MiB, end "
        f"{rss_end / mib:.1f} MiB, peak {peak / mib:.1f} MiB, "
        f"change {(rss_end - rss_start) / mib:+.1f} MiB"
    )
    print("RSS every ~5 s (MiB): " + " ".join(f"{rss / mib:.1f}" for _, rss in samples))
    print(
        f"/ping under that load, {len(ping_seconds)} probes: median "
        f"{statistics.median(ping_seconds) * 1000:.1f} ms, "
        f"slowest {max(ping_seconds) * 1000:.1f} ms"
    )
    steady = rss_end <= rss_start * 1.10
    pings_in_time = max(ping_seconds) < PING_DEADLINE_SECONDS
    print(
        f"targets: zero failed: {'MET' if result.failures == 0 else 'MISSED'}; steady memory "
        f"(end within 10% of start): {'MET' if steady else 'MISSED'}; every /ping under "
        f"{PING_DEADLINE_SECONDS:.0f} s: {'MET' if pings_in_time else 'MISSED'}; exit code after "
        f"SIGTERM: {code}"
    )
    return 0 if result.failures == 0 and steady and pings_in_time and code == 0 else 1


def _ping_seconds(port: int) -> float:
    """One health check's latency, as SageMaker's pinger sees it (a new connection each time)."""
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=30) as answer:
        answer.read()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
