"""Which BMRS windows a command should load: a requested range, or incrementally."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from loaders.common.checkpoint import INCREMENTAL_STEP, is_due, retry_due
from loaders.common.engine import Task, Window
from loaders.common.ops import OpsState
from loaders.common.timeutil import floor_to
from loaders.errors import UsageError, unknown_names_error
from loaders.sources.bmrs.catalogue import DATE, PATH_DATE, PERIOD, SNAPSHOT, Catalogue, Endpoint
from loaders.sources.bmrs.windows import is_midnight_range, plan_windows, settlement_day_tasks

# A dataset never loaded before starts this far back on its first incremental run.
FIRST_LOAD_LOOKBACK = timedelta(days=1)


def resolve_datasets(
    catalogue: Catalogue,
    names: Sequence[str],
    all_: bool,
    windows: Mapping[str, timedelta] | None = None,
) -> list[Endpoint]:
    """Catalogue endpoints for the names given (case-insensitive), or a usage error listing them;
    `windows` overrides window sizes per dataset (GRIDWAREHOUSE_BMRS_WINDOWS)."""
    unknown_overrides = [n for n in (windows or {}) if n not in catalogue]
    if unknown_overrides:
        raise UsageError(
            f"GRIDWAREHOUSE_BMRS_WINDOWS names unknown datasets: {', '.join(unknown_overrides)}"
        )
    for name, size in (windows or {}).items():  # every override, not only those loaded now
        _check_window(catalogue.get(name), size)
    return [_with_window(e, windows or {}) for e in _named(catalogue, names, all_)]


def _with_window(endpoint: Endpoint, windows: Mapping[str, timedelta]) -> Endpoint:
    size = windows.get(endpoint.name)
    return dataclasses.replace(endpoint, default_window=size) if size else endpoint


def _check_window(endpoint: Endpoint, size: timedelta) -> None:
    """A window override the dataset cannot use is refused, not quietly changed: a snapshot
    or per-day/per-period dataset has no window to size, date windows are whole days, and
    no window may exceed the API's limit."""
    setting = f"GRIDWAREHOUSE_BMRS_WINDOWS[{endpoint.name}]"
    if endpoint.window in (SNAPSHOT, PATH_DATE, PERIOD):
        raise UsageError(
            f"{setting}: {endpoint.name} is loaded {WINDOW_WORDS[endpoint.window]}; "
            "its window size cannot be changed"
        )
    if endpoint.window == DATE and size % timedelta(days=1):
        raise UsageError(f"{setting}: {endpoint.name} has whole-day windows; use e.g. 1d or 7d")
    if endpoint.max_window is not None and size > endpoint.max_window:
        raise UsageError(
            f"{setting}: {_days_hours(size)} is more than the API allows for "
            f"{endpoint.name} ({_days_hours(endpoint.max_window)})"
        )


WINDOW_WORDS = {
    SNAPSHOT: "as a whole list",
    PATH_DATE: "one settlement day per request",
    PERIOD: "one settlement period per request",
}


def _days_hours(size: timedelta) -> str:
    if size % timedelta(days=1) == timedelta(0):
        return f"{size.days}d"
    if size % timedelta(hours=1) == timedelta(0):
        return f"{int(size.total_seconds() // 3600)}h"
    return f"{int(size.total_seconds() // 60)}m"


def _named(catalogue: Catalogue, names: Sequence[str], all_: bool) -> list[Endpoint]:
    if all_:
        return list(catalogue)
    if not names:
        raise UsageError(
            "name at least one --dataset (or --all); `gridwarehouse datasets list` shows them"
        )
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        raise unknown_names_error(
            "dataset", unknown, list(catalogue.names()), "gridwarehouse datasets list"
        )
    seen: dict[str, Endpoint] = {}
    for name in names:
        endpoint = catalogue.get(name)
        seen.setdefault(endpoint.name, endpoint)
    return list(seen.values())


def range_tasks(
    endpoints: Sequence[Endpoint],
    start: datetime,
    end: datetime,
    *,
    settlement_days: bool = True,
) -> list[Task]:
    """Every window of [start, end) for each endpoint. A range of dates of a dataset that the
    API also filters by settlement date loads whole settlement days by settlement date (unless
    `settlement_days` is False: the IRIS gap fill wants exactly the publish-time gap)."""
    if start >= end:
        raise UsageError(f"--from {start:%Y-%m-%dT%H:%MZ} is not before --to {end:%Y-%m-%dT%H:%MZ}")
    tasks = []
    for e in endpoints:
        if settlement_days and e.settlement_params and is_midnight_range(start, end):
            tasks += settlement_day_tasks(e, start, end)
        else:
            tasks += [Task(e.name, w) for w in plan_windows(e, start, end)]
    return tasks


def incremental_tasks(
    endpoints: Sequence[Endpoint],
    states: dict[str, OpsState],
    *,
    trailing: timedelta,
    retry_lookback: timedelta = timedelta(0),
    now: datetime | None = None,
) -> list[Task]:
    """New windows since each dataset's last loaded window, re-fetching a trailing margin for
    late revisions, plus the windows to fetch again (failed, skipped, or stored before they
    ended) that ended within `retry_lookback`; nothing when none of these is due."""
    now = now or datetime.now(UTC)
    end = floor_to(now, INCREMENTAL_STEP)
    tasks = []
    for endpoint in endpoints:
        state = states.get(endpoint.name, OpsState())
        due = is_due(
            snapshot=endpoint.window == SNAPSHOT,
            refresh=endpoint.refresh,
            last_end=state.last_end,
            last_snapshot=state.last_snapshot,
            now=now,
        )
        if endpoint.window == SNAPSHOT:  # a whole-list endpoint: once per refresh period
            if due:
                tasks.append(Task(endpoint.name, plan_windows(endpoint, end, end)[0]))
            continue
        new: list[Window] = []
        if due:
            last = state.last_end
            start = (last - trailing) if last is not None else end - FIRST_LOAD_LOOKBACK
            new = plan_windows(endpoint, start, end)
        span = (_start(new[0]), new[-1].end) if new else None
        again = _windows_again(endpoint, state, retry_lookback, now, new=span)
        tasks.extend(Task(endpoint.name, w) for w in sorted(again + new, key=_start))
    return tasks


def _windows_again(
    endpoint: Endpoint,
    state: OpsState,
    lookback: timedelta,
    now: datetime,
    *,
    new: tuple[datetime, datetime | None] | None,
) -> list[Window]:
    """The windows to fetch again that the new span does not already cover, planned with the
    endpoint's current window size (so a changed size still covers the failed span)."""
    planned: dict[tuple[datetime | None, datetime | None], Window] = {}
    for lo, hi in retry_due(state.retry, lookback=lookback, now=now):
        for window in plan_windows(endpoint, lo, hi):
            assert window.start is not None and window.end is not None
            if new is None or new[1] is None or window.start < new[0] or window.end > new[1]:
                planned.setdefault((window.start, window.end), window)
    return list(planned.values())


def _start(window: Window) -> datetime:
    assert window.start is not None
    return window.start
