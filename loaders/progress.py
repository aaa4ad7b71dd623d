"""Progress for long loads: a bar on a terminal, a plain line per window otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from loaders.common.engine import FAILED_STATUSES, FetchResult, RunSummary
from loaders.common.summary import group_errors


class Progress:
    """Windows done, rows, rate and ETA; one log line per window when not on a TTY."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = 0
        self.done = 0
        self.rows = 0
        self.failed = 0
        self.skipped = 0  # not attempted (host down, breaker): not loaded either
        self.skipped_committed = 0
        self.failed_committed = 0
        self.last_error: dict[str, str] = {}  # per dataset, the error last printed in full
        self.began = time.monotonic()

    def start(self, total: int) -> None:
        self.total, self.began = total, time.monotonic()
        if not self.tty:
            self._line(f"{total} window{'s' if total != 1 else ''} to load")

    def window_done(self, result: FetchResult) -> None:
        self.done += 1
        self.rows += result.rows
        failed = result.status in FAILED_STATUSES
        self.failed += failed
        self.skipped += result.status == "skipped"
        if self.tty:
            self._bar()
            return
        what = f"{result.status.upper()}: {result.error}" if failed else f"{result.rows} rows"
        if failed:
            what = self._failure(result)
        if result.status in ("empty", "skipped"):
            what = "no rows" if result.status == "empty" else f"skipped: {result.error}"
        where = result.task.part or result.task.window.label()
        self._line(f"[{self.done}/{self.total}] {result.task.dataset} {where}: {what}")

    def _failure(self, result: FetchResult) -> str:
        """The error in full the first time a dataset meets it; after that, only that it
        recurred (an offline service fails every window the same way)."""
        previous = self.last_error.get(result.task.dataset)
        if previous is not None and len(group_errors([previous, result.error or ""])) == 1:
            return f"{result.status.upper()} (same error as above)"
        self.last_error[result.task.dataset] = result.error or ""
        return f"{result.status.upper()}: {result.error}"

    def committed(self, windows: int, rows: int) -> None:
        failed, self.failed_committed = self.failed - self.failed_committed, self.failed
        if self.tty:
            return
        skipped, self.skipped_committed = self.skipped - self.skipped_committed, self.skipped
        plural = "s" if windows != 1 else ""
        if failed == windows:
            self._line(f"recorded {windows} failed window{plural} in ops.load_log (no rows)")
        elif failed + skipped == windows:
            self._line(
                f"recorded {windows} window{plural} in ops.load_log, none loaded: "
                f"{failed} failed, {skipped} skipped (asked again next run)"
            )
        elif failed:
            self._line(f"committed {windows} window{plural}: {rows} rows, {failed} failed")
        else:
            self._line(f"committed {windows} window{plural} ({rows} rows)")

    def finish(self, summary: RunSummary) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _bar(self) -> None:
        elapsed = max(time.monotonic() - self.began, 1e-6)
        rate = self.rows / elapsed
        per_window = elapsed / self.done
        eta = per_window * (self.total - self.done)
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        failed = f" {self.failed} failed" if self.failed else ""
        self.stream.write(
            f"\r[{bar}] {self.done}/{self.total} windows  {self.rows:,} rows  "
            f"{rate:,.0f} rows/s  ETA {_duration(eta)}{failed}   "
        )
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Steps:
    """A few long steps (the demo): one line per finished step, and on a terminal a bar for the
    step in hand. Whatever a step prints goes to its log file, not here."""

    def __init__(self, total: int, stream: TextIO | None = None, *, tty: bool | None = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = total
        self.done = 0

    def begin(self, label: str) -> None:
        if self.tty:
            width = 20
            filled = width * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r\033[K[{bar}] {self.done + 1}/{self.total} {label} …")
            self.stream.flush()

    def end(self, label: str, detail: str) -> None:
        self.done += 1
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(f"[{self.done}/{self.total}] {label}: {detail}\n")
        self.stream.flush()
