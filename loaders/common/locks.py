"""File locks, one module for all of them (advisory `flock`, released by the kernel when the
holder dies, even by kill -9).

- `file_lock`: wait with backoff for a lock (the warehouse write lock, a pipeline's run lock),
  then fail naming the holder; while a dbt build holds it, wait for the build however long.
- `sole_holder`: a process that must run alone (one IRIS receiver per queue, one scheduled
  cycle): a second one is refused at once, naming the first.
- `locked_json`: a small JSON state file read and rewritten by one process at a time (the
  shared request limits and circuit breakers).

The holder (pid, purpose, since) is written beside a `file_lock`, and into a `sole_holder`'s
lock file, so a process that waits or is refused can say who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from loaders.errors import WarehouseBusyError

log = logging.getLogger(__name__)

WAIT_NOTICE_S = 30.0  # how often a process waiting for a build says so


@contextlib.contextmanager
def sole_holder(path: Path, refused: Callable[[str], Exception]) -> Iterator[None]:
    """Hold `path` for as long as this process runs alone; when another process holds it,
    raise `refused(holder)` at once ("pid N since T", or "another process")."""
    with _opened(path) as handle:
        if not _try_flock(handle):
            handle.seek(0)
            raise refused(handle.read().strip() or "another process") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def locked_json(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON object in `path`, held under an exclusive flock and rewritten on exit."""
    with _opened(path) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            text = handle.read()
            try:
                state = json.loads(text) if text.strip() else {}
            except ValueError:
                state = {}  # a torn or foreign file: start afresh rather than fail every load
            yield state
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        yield handle


def _try_flock(handle: IO[str]) -> bool:
    """Take the exclusive lock on an open file without waiting; False when another holds it."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def file_lock(
    path: Path, purpose: str, timeout_s: float, what: str, *, build: bool = False
) -> Iterator[None]:
    """An exclusive advisory lock on `path`; waits with backoff, then names the holder. While
    a build holds it, waits for the build without a timeout (the timeout counts from its end)."""
    with _opened(path) as handle:
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        waiting = BuildWait(purpose)
        while not _try_flock(handle):
            holder = running_build(path)
            if holder is not None:
                waiting.notice(holder)
                deadline = time.monotonic() + timeout_s
            elif time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"{what} ({_holder(path)}) and the lock stayed held for {timeout_s:.0f}s; "
                    "try again later or raise GRIDWAREHOUSE_LOCK_TIMEOUT_S"
                ) from None
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 2.0)
        waiting.done()
        try:
            write_holder(path, purpose, build=build)
            yield
        finally:
            with contextlib.suppress(OSError):
                _holder_path(path).unlink()
            fcntl.flock(handle, fcntl.LOCK_UN)


class BuildWait:
    """Says, at once and then every WAIT_NOTICE_S, that a process waits for a build."""

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self.began: float | None = None
        self._last = 0.0

    def notice(self, holder: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.began is None:
            self.began = now
        if self._last and now - self._last < WAIT_NOTICE_S:
            return
        self._last = now
        log.warning(
            "waiting for %s (pid %s, since %s) to finish before %s; waited %.0fs",
            holder.get("purpose", "a dbt build"),
            holder.get("pid"),
            holder.get("since"),
            self.purpose,
            now - self.began,
        )

    def done(self) -> None:
        if self.began is not None:
            log.warning(
                "the build finished; %s goes ahead after waiting %.0fs",
                self.purpose,
                time.monotonic() - self.began,
            )


def _holder_path(lock: Path) -> Path:
    return lock.with_suffix(".holder")


def write_holder(lock: Path, purpose: str, *, build: bool, snapshot: Path | None = None) -> None:
    info: dict[str, Any] = {
        "pid": os.getpid(),
        "purpose": purpose,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "build": build,
    }
    if snapshot is not None:
        info["snapshot"] = str(snapshot)
    partial = _holder_path(lock).with_suffix(".holder.partial")
    partial.write_text(json.dumps(info))
    os.replace(partial, _holder_path(lock))  # readers never see half a file


def _holder_info(lock: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(_holder_path(lock).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _holder(lock: Path) -> str:
    info = _holder_info(lock)
    if not info or not {"pid", "purpose", "since"} <= set(info):
        return "holder unknown"
    return f"pid {info['pid']}: {info['purpose']} since {info['since']}"


def running_build(lock: Path) -> dict[str, Any] | None:
    """The holder of the lock when it is a build whose process is alive (a build killed with
    -9 leaves its holder file behind, but not its lock)."""
    info = _holder_info(lock)
    if not info or not info.get("build"):
        return None
    try:
        os.kill(int(info["pid"]), 0)
    except (ProcessLookupError, ValueError, KeyError, TypeError):
        return None
    except PermissionError:
        pass  # alive, another user's
    return info
