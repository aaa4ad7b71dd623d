"""The one runner: a source's plan through the shared engine, returning its summary.

Nothing here prints (progress lines go to stderr through the engine's reporter, as before):
the CLI, `run` and the demo show what the runner returns.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from loaders.common.engine import BatchLimits, FetchResult, RunSummary, Task, run_tasks
from loaders.progress import Progress
from loaders.settings import Settings

UP_TO_DATE = "nothing to load: every dataset asked for is up to date"


@dataclass
class Plan:
    """What a source decided to load: its tasks, results known before fetching (refusals,
    planning failures), and how to run them."""

    source: str
    pipeline_name: str
    concurrency: int
    tasks: list[Task] = field(default_factory=list)
    initial_results: list[FetchResult] = field(default_factory=list)
    adapter: Any = None  # made by the source; the runner closes it
    notes: list[str] = field(default_factory=list)  # shown before the run (backfill counts)
    # said instead of a summary when there is nothing to do; None: run (and summarise) anyway
    nothing_message: str | None = UP_TO_DATE
    resumable: bool = False  # an interrupted run tells how to resume, and exits 130

    @property
    def empty(self) -> bool:
        return not self.tasks and not self.initial_results


@dataclass
class Outcome:
    """A plan and what running it gave (no summary: there was nothing to do)."""

    plan: Plan
    summary: RunSummary | None

    @property
    def stopped(self) -> int:
        """Windows an interrupt left for the next run of a resumable load."""
        if self.summary is None or not self.plan.resumable:
            return 0
        return self.summary.not_attempted

    @property
    def exit_code(self) -> int:
        if self.summary is None:
            return 0
        return 130 if self.stopped else self.summary.exit_code


def run_plan(settings: Settings, plan: Plan) -> Outcome:
    """Run a plan's tasks; a plan with nothing to do returns no summary."""
    if plan.empty and plan.nothing_message is not None:
        if plan.adapter is not None:
            plan.adapter.close()
        return Outcome(plan, None)
    summary = run_source(
        settings,
        plan.adapter,
        plan.tasks,
        pipeline_name=plan.pipeline_name,
        concurrency=plan.concurrency,
        initial_results=plan.initial_results,
    )
    return Outcome(plan, summary)


def run_source(
    settings: Settings,
    adapter: Any,
    tasks: list[Task],
    *,
    pipeline_name: str,
    concurrency: int,
    initial_results: list[FetchResult] | tuple[FetchResult, ...] = (),
) -> RunSummary:
    """Run tasks through the shared engine with progress on stderr. Ctrl-C (or SIGTERM) stops
    taking new tasks, commits what was fetched, and returns."""
    try:
        with graceful_stop() as stop:
            return run_tasks(
                adapter,
                tasks,
                settings,
                concurrency=concurrency,
                limits=BatchLimits(
                    settings.commit_rows, settings.commit_windows, settings.commit_seconds
                ),
                reporter=Progress(),
                stop=stop,
                requests_counter=lambda: adapter.client.stats.requests,
                pipeline_name=pipeline_name,
                initial_results=initial_results,
            )
    finally:
        adapter.close()


STOPPING = "stopping: finishing the windows in flight and committing them (Ctrl-C again to abort)"


@contextlib.contextmanager
def graceful_stop(notice: str | None = STOPPING) -> Iterator[threading.Event]:
    """An event set by the first SIGINT/SIGTERM, which says `notice` on stderr (None: nothing);
    a second SIGINT interrupts at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        if notice:
            # the one print here: the user pressed Ctrl-C and must hear that it was taken
            print(f"\n{notice}", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
