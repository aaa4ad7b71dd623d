"""What the CLI's commands do, one function each, through the source registry. Nothing here
prints: each returns a plan, an outcome or a listing, and the CLI (loaders/console.py) shows it.
"""

from __future__ import annotations

from pathlib import Path

from loaders.common.engine import RunSummary, Task
from loaders.common.ranges import parse_range, refuse_future_range
from loaders.common.runner import Outcome, Plan, graceful_stop, run_plan, run_source
from loaders.errors import UsageError
from loaders.settings import Settings
from loaders.sources import registry
from loaders.sources.base import Listing, LoadRequest
from loaders.sources.bmrs.loader import bmrs_plan, latest_ends
from loaders.sources.iris.receiver import IrisReceiver

# parse_range, refuse_future_range and latest_ends are imported from here by tests and scripts
__all__ = [
    "backfill_plan",
    "iris_run",
    "latest_ends",
    "list_datasets",
    "load",
    "load_plan",
    "parse_range",
    "refuse_future_range",
    "run_bmrs",
    "run_plan",
    "run_source",
]


def load_plan(settings: Settings, source: str, request: LoadRequest) -> Plan:
    """`gridwarehouse load <source>`: what a range, or an incremental load, would fetch."""
    chosen = registry.get(source)
    if request.locations and not chosen.takes_locations:
        raise UsageError("--location applies to `load isone` only")
    if (request.dnos or request.file) and not chosen.takes_files:
        raise UsageError("--dno and --file apply to `load dno` only")
    return chosen.plan_load(settings, request)


def backfill_plan(settings: Settings, source: str, request: LoadRequest) -> Plan:
    """`gridwarehouse backfill <source>`: a long range, resumable; windows already loaded are
    skipped, so an interrupted (even killed) backfill picks up where it stopped."""
    chosen = registry.get(source)
    if request.locations and not chosen.takes_locations:
        raise UsageError("--location applies to `backfill isone` only")
    return chosen.plan_backfill(settings, request)


def load(settings: Settings, source: str, request: LoadRequest) -> Outcome:
    """Plan and run a load (the demo's steps; scripts)."""
    return run_plan(settings, load_plan(settings, source, request))


def run_bmrs(settings: Settings, tasks: list[Task], *, pipeline_name: str = "bmrs") -> RunSummary:
    """Run BMRS window tasks through the shared engine."""
    plan = bmrs_plan(settings, tasks, pipeline_name=pipeline_name, always=True)
    summary = run_plan(settings, plan).summary
    assert summary is not None  # a plan without a nothing-message always runs
    return summary


def list_datasets(settings: Settings, source: str, *, skipped: bool = False) -> Listing:
    """`gridwarehouse datasets list`: what can be loaded, window limits, keys, loaded or not."""
    return registry.get(source).list_datasets(settings, skipped=skipped)


def iris_run(settings: Settings, *, archive: str | None, keep_days: float, drain: bool) -> int:
    """`gridwarehouse iris run`: receive until SIGTERM/Ctrl-C (or, with --drain, until empty)."""
    if keep_days <= 0:
        raise UsageError("--archive-keep-days must be more than 0")
    # SIGTERM/SIGINT ask the receiver to finish its batch, flush and exit 0; quietly, as it has
    # no windows in flight to speak of
    with graceful_stop(notice=None) as stop:
        receiver = IrisReceiver(
            settings,
            archive=Path(archive) if archive else None,
            archive_keep_days=keep_days,
            drain=drain,
            stop=stop,
        )
        return receiver.run()
