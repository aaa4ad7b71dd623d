"""Which BMRS windows a command should load: a requested range, or incrementally."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from loaders.bmrs.catalogue import SNAPSHOT, Catalogue, Endpoint
from loaders.bmrs.windows import plan_windows
from loaders.common.checkpoint import INCREMENTAL_STEP, is_due
from loaders.common.engine import Task
from loaders.common.ops import OpsState
from loaders.common.timeutil import floor_to
from loaders.errors import UsageError, unknown_names_error

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
    return [_with_window(e, windows or {}) for e in _named(catalogue, names, all_)]


def _with_window(endpoint: Endpoint, windows: Mapping[str, timedelta]) -> Endpoint:
    size = windows.get(endpoint.name)
    return dataclasses.replace(endpoint, default_window=size) if size else endpoint


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


def range_tasks(endpoints: Sequence[Endpoint], start: datetime, end: datetime) -> list[Task]:
    """Every window of [start, end) for each endpoint."""
    if start >= end:
        raise UsageError(f"--from {start:%Y-%m-%dT%H:%MZ} is not before --to {end:%Y-%m-%dT%H:%MZ}")
    return [Task(e.name, w) for e in endpoints for w in plan_windows(e, start, end)]


def incremental_tasks(
    endpoints: Sequence[Endpoint],
    states: dict[str, OpsState],
    *,
    trailing: timedelta,
    now: datetime | None = None,
) -> list[Task]:
    """New windows since each dataset's last loaded window, re-fetching a trailing margin for
    late revisions; nothing when no new step has elapsed since the last load."""
    now = now or datetime.now(UTC)
    end = floor_to(now, INCREMENTAL_STEP)
    tasks = []
    for endpoint in endpoints:
        state = states.get(endpoint.name, OpsState())
        snapshot = endpoint.window == SNAPSHOT
        if not is_due(
            snapshot=snapshot,
            refresh=endpoint.refresh,
            last_end=state.last_end,
            last_snapshot=state.last_snapshot,
            now=now,
        ):
            continue  # nothing new is due (a whole-list endpoint once per refresh period)
        if snapshot:
            tasks.append(Task(endpoint.name, plan_windows(endpoint, end, end)[0]))
            continue
        last = state.last_end
        start = (last - trailing) if last is not None else end - FIRST_LOAD_LOOKBACK
        tasks.extend(Task(endpoint.name, w) for w in plan_windows(endpoint, start, end))
    return tasks
