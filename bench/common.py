"""What every benchmark shares: the environment a `gridwarehouse` command runs in, a measured
subprocess, and the machine's load average printed with the figures (figures taken on a busy
machine are marked "(under load)", so nobody mistakes them for quiet-machine figures)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
GRIDWAREHOUSE = Path(sys.executable).with_name("gridwarehouse")
# A 1-minute load average above this share of the cores means other work competed for them.
UNDER_LOAD_SHARE = 0.5
UNDER_LOAD = " (under load)"

T = TypeVar("T")


def cores() -> int:
    return os.cpu_count() or 1


def load_average() -> float:
    """The machine's 1-minute load average."""
    return os.getloadavg()[0]


def is_busy(one_minute: float) -> bool:
    return one_minute > UNDER_LOAD_SHARE * cores()


@dataclass
class Span:
    """One timed step and the load average when it started and when it ended."""

    label: str
    seconds: float
    load_start: float
    load_end: float

    @property
    def under_load(self) -> bool:
        return is_busy(self.load_start) or is_busy(self.load_end)

    @property
    def mark(self) -> str:
        return UNDER_LOAD if self.under_load else ""

    def line(self) -> str:
        return (
            f"{self.label}: {self.seconds:.1f} s{self.mark}  "
            f"[load average {self.load_start:.2f} -> {self.load_end:.2f}]"
        )


def timed(label: str, fn: Callable[[], T]) -> tuple[T, Span]:
    """Run `fn`, timing it and sampling the load average before and after."""
    load_start = load_average()
    began = time.monotonic()
    result = fn()
    span = Span(label, time.monotonic() - began, load_start, load_average())
    return result, span


def marked(*spans: Span) -> str:
    """The mark for a figure derived from these spans: under load if any of them was."""
    return UNDER_LOAD if any(s.under_load for s in spans) else ""


def commit() -> str:
    """The checked-out commit (with `+dirty` for uncommitted changes), for the docs' figures."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}+dirty" if dirty else head or "unknown"


class Session:
    """A benchmark run: prints when, on what commit and under what load it started, and at the
    end its total runtime and whether the machine was busy at the start or end."""

    def __init__(self, name: str) -> None:
        # a stopped bench (kill, timeout) unwinds: its command and temporary folders go with it
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.name = name
        self.began = time.monotonic()
        self.load_start = load_average()
        print(
            f"{name}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, {cores()} cores, "
            f"load average {self.load_start:.2f} (1 min) at start"
        )

    @property
    def under_load(self) -> bool:
        return is_busy(self.load_start) or is_busy(load_average())

    def finish(self) -> None:
        load_end = load_average()
        verdict = (
            f"UNDER LOAD (1-min load average above {UNDER_LOAD_SHARE} x {cores()} cores at start "
            "or end): figures marked so are not quiet-machine figures"
            if is_busy(self.load_start) or is_busy(load_end)
            else "quiet machine"
        )
        print(
            f"{self.name}: total {time.monotonic() - self.began:.0f} s; load average "
            f"{self.load_start:.2f} at start, {load_end:.2f} at end: {verdict}"
        )


def environment(data_dir: Path, bmrs_base_url: str, **extra: str) -> dict[str, str]:
    """A `gridwarehouse` environment of its own: this warehouse, the replay server, no pacing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWAREHOUSE_")}
    env.update(
        {
            "GRIDWAREHOUSE_DATA_DIR": str(data_dir),
            "GRIDWAREHOUSE_DUCKDB_PATH": str(data_dir / "gridwarehouse.duckdb"),
            "GRIDWAREHOUSE_BMRS_BASE_URL": bmrs_base_url,
            "GRIDWAREHOUSE_BMRS_REQUESTS_PER_S": "0",
            "GRIDWAREHOUSE_BMRS_WINDOWS": "BOALF=1h",  # BOD-like volume, BOD's window
            **extra,
        }
    )
    return env


def _peak_rss_kib(pid: int) -> int:
    """The process's own RSS high-water mark (VmHWM resets at exec, unlike rusage's maxrss,
    which a child inherits from the parent it was forked from)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stdout of one command in its own process."""
    began = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as out_file:
        proc = subprocess.Popen(args, env=env, stdout=out_file, stderr=subprocess.STDOUT, text=True)
        peak = 0
        try:
            while proc.poll() is None:
                peak = max(peak, _peak_rss_kib(proc.pid))
                time.sleep(0.02)
        finally:
            if proc.poll() is None:  # the bench itself was stopped: stop the command too
                proc.terminate()
                proc.wait()
        elapsed = time.monotonic() - began
        out_file.seek(0)
        out = out_file.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed (exit {proc.returncode}):\n{out[-4000:]}")
    return elapsed, peak, out
