"""The table of loaded models in multi-model mode, shared by every worker process.

SageMaker's multi-model contract (``POST /models``, ``GET /models``, ``DELETE /models/{name}``,
``POST /models/{name}/invoke``) assumes *one* table of loaded models, but the server runs
several worker processes and any of them may get any request. So the table lives in a folder
that all workers share, one small JSON file per model:

* registering is an exclusive create under a ``flock``: exactly one worker wins, the others
  answer 409, and the capacity check plus eviction happen atomically with it;
* a file's mtime is the model's last use: each invocation ``utime``-s it (a syscall, no lock),
  and least-recently-used eviction picks the oldest mtime;
* each worker keeps its own cache of predictors, keyed by the entry's ``load_id``, and checks
  the entry on every invocation, so an unload or eviction done by another worker is seen at
  once, and a model re-registered under the same name is reloaded.

Bounds (environment variables of ``serve``):

* ``MULTI_MODEL_MAX_MODELS`` (default 32): at most this many models are loaded;
* ``MULTI_MODEL_MEMORY_BUDGET_MB`` (default: none): the loaded models' estimated memory;
* ``MULTI_MODEL_EVICTION`` = ``lru`` (default) evicts the least recently used models to make
  room; ``off`` answers 507 instead and leaves unloading to SageMaker, as the contract
  describes. A model bigger than the whole budget, or more than the machine's available
  memory, is always refused with 507.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


class ModelAlreadyLoaded(Exception):
    """409: a model with this name is loaded already."""


class InsufficientCapacity(Exception):
    """507: the model does not fit (count, memory budget or the machine's free memory)."""


@dataclass(frozen=True)
class RegistryEntry:
    """One loaded model: its name, where it came from, its size and a unique load id."""

    model_name: str
    url: str
    nbytes: int
    load_id: str
    last_used_ns: int = 0


@dataclass(frozen=True)
class CapacityPolicy:
    """How many models, how much memory, and whether to evict or refuse when full."""

    max_models: int = 32
    memory_budget_bytes: int | None = None
    evict_lru: bool = True
    # Keep this much of the machine's available memory free for requests in flight.
    memory_reserve_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_environment(cls) -> CapacityPolicy:
        budget_mb = os.environ.get("MULTI_MODEL_MEMORY_BUDGET_MB", "").strip()
        eviction = os.environ.get("MULTI_MODEL_EVICTION", "lru").strip().lower()
        if eviction not in ("lru", "off"):
            raise ValueError(f"MULTI_MODEL_EVICTION must be 'lru' or 'off', not {eviction!r}")
        return cls(
            max_models=max(1, int(os.environ.get("MULTI_MODEL_MAX_MODELS", "32"))),
            memory_budget_bytes=int(float(budget_mb) * 1024 * 1024) if budget_mb else None,
            evict_lru=eviction == "lru",
        )


class ModelRegistry:
    """The shared table of loaded models (see the module docstring)."""

    def __init__(self, directory: Path, policy: CapacityPolicy) -> None:
        self.directory = Path(directory)
        self.policy = policy
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.directory / ".lock"

    def register(self, model_name: str, url: str, nbytes: int) -> list[str]:
        """Add a model; return the names evicted to make room. Raises 409/507 exceptions."""
        with self._locked():
            if self._entry_path(model_name).exists():
                raise ModelAlreadyLoaded(model_name)
            evicted = self._make_room(model_name, nbytes)
            entry = {
                "model_name": model_name,
                "url": url,
                "nbytes": nbytes,
                "load_id": uuid.uuid4().hex,
            }
            self._write_entry(model_name, entry)
            return evicted

    def lookup(self, model_name: str) -> RegistryEntry | None:
        """The entry of a loaded model, or None."""
        path = self._entry_path(model_name)
        try:
            data = json.loads(path.read_bytes())
            last_used = path.stat().st_mtime_ns
        except (FileNotFoundError, json.JSONDecodeError):
            # JSONDecodeError: caught mid-write by another worker; it is not loaded *yet*.
            return None
        return RegistryEntry(last_used_ns=last_used, **data)

    def touch(self, model_name: str) -> None:
        """Mark a model as just used (for LRU). A model evicted meanwhile is ignored."""
        now = time.time_ns()
        with contextlib.suppress(FileNotFoundError):
            os.utime(self._entry_path(model_name), ns=(now, now))

    def unregister(self, model_name: str) -> bool:
        """Remove a model; False if it was not loaded."""
        with self._locked():
            try:
                self._entry_path(model_name).unlink()
            except FileNotFoundError:
                return False
            return True

    def entries(self) -> list[RegistryEntry]:
        """Every loaded model, ordered by name."""
        found = []
        for path in self.directory.glob("*.json"):
            try:
                data = json.loads(path.read_bytes())
                found.append(RegistryEntry(last_used_ns=path.stat().st_mtime_ns, **data))
            except (FileNotFoundError, json.JSONDecodeError):
                continue
        return sorted(found, key=lambda entry: entry.model_name)

    def _make_room(self, model_name: str, nbytes: int) -> list[str]:
        policy = self.policy
        budget = policy.memory_budget_bytes
        if budget is not None and nbytes > budget:
            raise InsufficientCapacity(
                f"model {model_name!r} needs ~{nbytes} bytes; the memory budget is {budget}"
            )
        available = _available_memory_bytes()
        if available is not None and nbytes + policy.memory_reserve_bytes > available:
            raise InsufficientCapacity(
                f"model {model_name!r} needs ~{nbytes} bytes; the machine has {available} free"
            )
        loaded = sorted(self.entries(), key=lambda entry: entry.last_used_ns)
        evicted: list[str] = []

        def is_full() -> bool:
            over_count = len(loaded) >= policy.max_models
            used = sum(entry.nbytes for entry in loaded)
            return over_count or (budget is not None and used + nbytes > budget)

        while is_full():
            if not policy.evict_lru:
                raise InsufficientCapacity(
                    f"{len(loaded)} models loaded (limit {policy.max_models}); unload one first"
                )
            oldest = loaded.pop(0)
            with contextlib.suppress(FileNotFoundError):
                self._entry_path(oldest.model_name).unlink()
            evicted.append(oldest.model_name)
        return evicted

    def _write_entry(self, model_name: str, entry: dict) -> None:
        # Write to a temp name, then rename: readers never see a half-written entry.
        final = self._entry_path(model_name)
        temporary = final.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entry))
        os.replace(temporary, final)

    def _entry_path(self, model_name: str) -> Path:
        # Model names are opaque to us (SageMaker may put slashes in them): hash to a file name.
        digest = hashlib.sha256(model_name.encode()).hexdigest()[:40]
        return self.directory / f"{digest}.json"

    @contextlib.contextmanager
    def _locked(self):
        with open(self._lock_path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), or None where there is no such file."""
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
