"""`gridwarehouse run` (one scheduled cycle) and `gridwarehouse schedule --every 15m` (a loop).

A cycle loads every enabled source that is due on its cadence (GRIDWAREHOUSE_RUN_EVERY:
BMRS and the IRIS gap check every 15 minutes, NESO hourly, DNO weekly, ISO-NE hourly), then
runs `dbt build` on just the models downstream of the raw tables that got new rows, then sends
alerts for incidents that opened or cleared. The build's data tests of large models check only
the new window (var test_window_start, macros/test_window.sql); once per
GRIDWAREHOUSE_FULL_TEST_EVERY (default daily) every data test of the project checks every row.
A lock file makes overlapping cron runs harmless: the second one says who holds it and exits 0
at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loaders.common.dbt import (
    build_held,
    built_marker,
    full_tests_due,
    mark_built,
    mark_full_tests,
    project_fingerprint,
    run_dbt,
    tests_window_start,
)
from loaders.common.jsonfile import read_json, write_json
from loaders.common.locks import sole_holder
from loaders.common.runner import graceful_stop
from loaders.common.summary import summary_lines
from loaders.errors import GridwarehouseError
from loaders.operations.alerts import check_and_send
from loaders.settings import Settings, parse_duration
from loaders.sources import registry

log = logging.getLogger(__name__)


# -- the cycle --------------------------------------------------------------------------------


@dataclass
class SourceOutcome:
    source: str
    exit_code: int
    rows: int = 0
    tables: set[str] = field(default_factory=set)  # dbt selectors: source:<name>.<table>
    note: str = ""


@dataclass
class CycleResult:
    started_at: datetime
    outcomes: list[SourceOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dbt_exit: int | None = None
    full_build: bool = False
    selectors: list[str] = field(default_factory=list)
    tests_from: str | None = None  # the first day the build's data tests checked; None: all

    @property
    def exit_code(self) -> int:
        failed = any(o.exit_code not in (0,) for o in self.outcomes)
        return 1 if failed or (self.dbt_exit not in (None, 0)) else 0


class RunLocked(Exception):
    pass


@contextlib.contextmanager
def cycle_lock(settings: Settings) -> Iterator[None]:
    """Held for a whole cycle; a second `run` gets RunLocked at once instead of waiting."""
    with sole_holder(settings.data_dir / "run.lock", RunLocked):
        yield


def _state_path(settings: Settings) -> Path:
    return settings.pipelines_dir / "run.state.json"


def read_state(settings: Settings) -> dict[str, str]:
    return read_json(_state_path(settings))


def _write_state(settings: Settings, state: dict[str, str]) -> None:
    write_json(_state_path(settings), state)


def due_sources(
    settings: Settings, state: dict[str, str], now: datetime, force: bool = False
) -> tuple[list[str], list[str]]:
    """(due, not yet due) among the enabled sources, by each source's cadence."""
    due, waiting = [], []
    for source in registry.enabled(settings):
        last = state.get(source)
        every = settings.run_every.get(source, timedelta(minutes=15))
        # a little slack, so a 15-minute cron whose runs start a few seconds early still runs
        if force or last is None or now - datetime.fromisoformat(last) >= every * 0.95:
            due.append(source)
        else:
            waiting.append(source)
    return due, waiting


def run_cycle(settings: Settings, *, force: bool = False, build: bool = True) -> int:
    """`gridwarehouse run`: one cycle; exit 0, or 1 when a load or the build failed."""
    registry.scheduled_datasets(settings)  # a RUN_<SOURCE>_DATASETS naming nothing real: exit 2 now
    try:
        with cycle_lock(settings):
            result = _cycle(settings, force=force, build=build)
    except RunLocked as held:
        print(
            f"another `gridwarehouse run` is in progress ({held}); this one exits", file=sys.stderr
        )
        return 0
    _print_cycle(result)
    return result.exit_code


def _cycle(settings: Settings, *, force: bool, build: bool) -> CycleResult:
    now = datetime.now(UTC)
    state = read_state(settings)
    due, waiting = due_sources(settings, state, now, force)
    result = CycleResult(started_at=now, skipped=waiting)
    for source in due:
        began = datetime.now(UTC)
        try:
            outcome = _load_source(settings, source)
        except GridwarehouseError as exc:
            log.error("%s: %s", source, exc)
            outcome = SourceOutcome(source, exc.exit_code or 1, note=str(exc))
        result.outcomes.append(outcome)
        state[source] = began.isoformat()
        _write_state(settings, state)
    result.selectors = sorted({t for o in result.outcomes for t in o.tables})
    if build and result.selectors:
        result.dbt_exit, result.full_build, result.tests_from = _build(settings, result.selectors)
    _alert(settings)
    return result


def _build(settings: Settings, selectors: list[str]) -> tuple[int, bool, str | None]:
    """dbt build of what is downstream of the changed raw tables; the whole project instead
    when this warehouse has not had a full build of this version of the project (a selective
    build needs every other parent of those models to exist already).
    Returns (dbt's exit code, whole project or not, the first day the data tests checked)."""
    started = datetime.now(UTC)
    fingerprint = project_fingerprint()
    marker = built_marker(settings)
    full = not marker.exists() or marker.read_text().strip() != fingerprint
    if full:
        log.info("dbt build of the whole project (first build of this project version)")
        code = run_dbt(settings, ["build"])
        if code == 0:
            mark_built(settings)
            mark_full_tests(settings, started)
        return code, True, None
    log.info("dbt build of the models downstream of %d raw tables", len(selectors))
    selected = ["--select", *[f"{s}+" for s in selectors]]
    with build_held(settings, "dbt build"):  # the load log's snapshot is current inside
        tests_from = None if full_tests_due(settings, started) else tests_window_start(settings)
        if tests_from is not None:
            scoped = ["--vars", json.dumps({"test_window_start": tests_from})]
            return run_dbt(settings, ["build", *selected, *scoped], lock=False), False, tests_from
        # the full pass: every data test of the project on every row, besides the build
        code = run_dbt(settings, ["build", *selected, "test_type:data"], lock=False)
    if code == 0:
        mark_full_tests(settings, started)
    return code, False, None


def _load_source(settings: Settings, source: str) -> SourceOutcome:
    """One source's scheduled load (its GRIDWAREHOUSE_RUN_<SOURCE>_DATASETS, or all of them),
    its summary shown as `load` shows it."""
    scheduled = registry.get(source).run_scheduled(settings)
    outcome = SourceOutcome(source, scheduled.exit_code, note=scheduled.note)
    for done in scheduled.outcomes:
        if done.summary is None:
            print(done.plan.nothing_message)
            continue
        print("\n".join(summary_lines(done.summary)))
        for dataset, entry in done.summary.datasets.items():
            if entry.rows:
                outcome.rows += entry.rows
                outcome.tables.add(registry.get(done.summary.source).selector(dataset))
    return outcome


def _alert(settings: Settings) -> None:
    try:
        check_and_send(settings)
    except GridwarehouseError as exc:
        log.error("alerts not checked: %s", exc)
    except Exception:  # an alerting problem must not fail the loads it reports on
        log.exception("alerts not checked")


def _print_cycle(result: CycleResult) -> None:
    for o in result.outcomes:
        word = "ok" if o.exit_code == 0 else f"failed (exit {o.exit_code})"
        extra = f" — {o.note}" if o.note else ""
        print(f"run: {o.source}: {word}, {o.rows:,} new rows in {len(o.tables)} tables{extra}")
    if result.skipped:
        print(f"run: not due yet: {', '.join(result.skipped)}")
    if result.dbt_exit is not None:
        what = (
            "the whole project (first build of this version)"
            if result.full_build
            else f"{len(result.selectors)} changed sources and their downstream models"
        )
        print(f"run: dbt build of {what}: {'ok' if result.dbt_exit == 0 else 'failed'}")
        print(f"run: {_tests_scope(result.tests_from)}")
    elif not result.selectors:
        print("run: no new rows; dbt build skipped")


def _tests_scope(tests_from: str | None) -> str:
    if tests_from is None:
        return "data tests: full pass (every row of every model)"
    return f"data tests: scoped to rows from {tests_from} on for the large models"


def schedule(settings: Settings, every: str, *, cycles: int | None = None) -> int:
    """`gridwarehouse schedule --every 15m`: cycles in a loop until Ctrl-C / SIGTERM."""
    interval = parse_duration(every, "--every").total_seconds()
    done = 0
    worst = 0
    with graceful_stop() as stop:
        while not stop.is_set():
            began = time.monotonic()
            code = run_cycle(settings)
            worst = max(worst, code)
            done += 1
            if cycles is not None and done >= cycles:
                break
            wait = max(0.0, interval - (time.monotonic() - began))
            print(f"schedule: next cycle in {wait / 60:.1f} min (Ctrl-C to stop)", file=sys.stderr)
            stop.wait(wait)
    return worst
