"""The flush worker: a child process that commits landing files, so dlt and DuckDB never
compete with the receive loop for the interpreter lock, and the receiver's own memory stays
small and flat. The receiver sends (landing files, stats rows) and waits for the outcome.

The child dies with its parent (PR_SET_PDEATHSIG): an orphan must not flush files that a new
receiver is about to flush too. It ignores SIGINT and SIGTERM, which reach the whole process
group: the receiver stops it, after a final flush, by closing the pipe. A flush cut short
leaves its landing files in place, and the next flush commits them again; merge on the natural
key makes that harmless.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import signal
import sys
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loaders.common.memory import pin_malloc_threshold
from loaders.logs import setup_logging
from loaders.settings import Settings
from loaders.sources.bmrs.catalogue import load_catalogue

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class WorkerGoneError(Exception):
    """The flush worker died (it is restarted for the next flush)."""


def _serve(conn: Connection, settings: Settings, queue: str, run_id: str, level: str) -> None:
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # Ctrl-C and systemd's stop (SIGTERM to the whole process group) reach this process too;
    # the receiver decides: it asks for a final flush and then closes the pipe, which ends
    # this loop. Dying on the signal would cut the flush in hand and fail the final one.
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)
    pin_malloc_threshold()
    setup_logging(settings, level, command="iris flush")
    # imported here, in the spawned child only: the flush brings dlt and DuckDB, which the
    # receiver's own process must not load (its memory stays small and flat)
    from loaders.sources.iris.flush import Flusher

    flusher = Flusher(settings, load_catalogue(), queue, run_id)
    while True:
        try:
            paths, stats = conn.recv()
        except (EOFError, OSError):
            return  # the receiver closed the pipe: done
        try:
            outcome = flusher.flush([Path(p) for p in paths], stats)
            conn.send(("ok", asdict(outcome)))
        except Exception as exc:  # reported to the receiver, which keeps the files and retries
            log.debug("flush failed", exc_info=True)
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class FlushWorker:
    """The receiver's handle on its flush process (started on first use, restarted if dead)."""

    def __init__(self, settings: Settings, queue: str, run_id: str) -> None:
        self.settings = settings
        self.queue = queue
        self.run_id = run_id
        self._process: Any = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def flush(self, paths: list[Path], stats: list[tuple[Any, ...]]) -> dict[str, Any]:
        self._ensure()
        assert self._conn is not None
        try:
            self._conn.send(([str(p) for p in paths], stats))
            status, payload = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._reap()
            raise WorkerGoneError(f"the flush worker exited ({exc or 'no reply'})") from None
        if status != "ok":
            raise RuntimeError(payload)
        return payload

    def _ensure(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._reap()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
        self._process = context.Process(
            target=_serve,
            args=(child, self.settings, self.queue, self.run_id, level),
            name="iris-flush",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._conn = parent

    def _reap(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
            self._process = None

    def close(self) -> None:
        """Let the worker finish and exit (closing the pipe ends its loop)."""
        self._reap()
