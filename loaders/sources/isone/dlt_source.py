"""ISO New England as a dlt source for your own pipeline: one resource per dataset.

    dlt.pipeline(destination="duckdb").run(
        isone_source(datasets=["hourly_system_load"], start="2024-03-09", end="2024-03-11"))

Day datasets are asked for one market day (America/New_York) at a time, for the ended days from
where the last run stopped (or `start`); each resource merges on the dataset's natural key and
carries a dlt cursor on its time column. Current-only datasets (`..._current`) are one poll of
the latest values each run, merged on the same key. Requests (JSON, XML and fallback endpoints,
the shared rate limiter, the circuit breaker, credentials) and conversion are the loaders' own
(source.IsoneAdapter).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import dlt

from loaders.common.dlt_sources import (
    MERGE,
    as_utc,
    covered_windows,
    incremental,
    key_columns,
    resume_start,
    tables_of,
)
from loaders.common.engine import Task, Window
from loaders.settings import Settings
from loaders.sources.isone.config import Dataset, resolve
from loaders.sources.isone.plan import DAY, check_locations, market_day, range_tasks
from loaders.sources.isone.source import IsoneAdapter


@dlt.source(name="isone", max_table_nesting=0)
def isone_source(
    datasets: Sequence[str],
    start: datetime | date | str | None = None,
    end: datetime | date | str | None = None,
    locations: Sequence[str] = (),
    settings: Settings | None = None,
) -> Any:
    """ISO-NE datasets by name (datasets.toml, e.g. "fuel_mix"): market days from `start` (the
    cursor's initial value; needed for day datasets) to `end` (a date, exclusive; default today)."""
    from loaders.settings import load_settings

    adapter = IsoneAdapter(settings or load_settings())
    chosen = resolve(adapter.config, list(datasets), False)
    only = check_locations(chosen, locations) if locations else ()
    for dataset in chosen:
        if dataset.backfillable:
            if start is None:
                raise ValueError(f"{dataset.name} is loaded by market day: give a start")
            # one resource per location: each keeps its own cursor, so a location added
            # later starts from `start` instead of behind another location's cursor
            for name in dataset.load_names(only):
                yield day_resource(adapter, dataset, name, as_utc(start), end)
        else:
            yield _resource(_polls(adapter, dataset.load_names(only)), dataset, dataset.name)


def day_resource(
    adapter: IsoneAdapter,
    dataset: Dataset,
    name: str,
    start: datetime,
    end: datetime | date | str | None,
) -> Any:
    """The resource of one day dataset (at one location), with its cursor on the time column."""
    cursor = cursor_column(dataset)
    days = _days(adapter, dataset, name, start, as_utc(end or datetime.now(UTC)), cursor)
    resource = _resource(days, dataset, name)
    if cursor is not None:
        resource.apply_hints(incremental=incremental(cursor, start))
    return resource


def _resource(data: Iterator[Any], dataset: Dataset, name: str) -> Any:
    """A resource merging on the dataset's natural key into its table."""
    return dlt.resource(
        data,
        name=re.sub(r"\W+", "_", name).lower(),
        table_name=dataset.table,
        write_disposition=MERGE,
        primary_key=key_columns(dataset.keys) if dataset.keys else "_natural_key",
        max_table_nesting=0,
    )


def cursor_column(dataset: Dataset) -> str | None:
    """The dataset's time column: its first timestamp key field (BeginDate for most)."""
    types = {f.name: f.type for f in dataset.fields}
    field = next((k for k in dataset.keys if types.get(k) == "timestamp"), None)
    return key_columns([field])[0] if field else None


def _days(
    adapter: IsoneAdapter,
    dataset: Dataset,
    name: str,
    start: datetime,
    end: datetime,
    cursor: str | None,
) -> Iterator[Any]:
    """The ended market days not loaded yet, in order; a day that fails (or comes back empty
    once ended, or is skipped by an open breaker) fails the run."""
    today = datetime.combine(market_day(datetime.now(UTC)), time(), UTC)
    end = min(end, today)  # a day in progress would be loaded again: only ended days
    begin = resume_start(dlt.current.resource_state(), name, start)
    if begin >= end:
        return
    tasks = [t for t in range_tasks([dataset], begin, end) if t.dataset == name]
    yield from covered_windows(tasks, adapter, begin, cursor=cursor, end_of=_day_end)


def _day_end(task: Task) -> datetime:
    """The UTC midnight after a task's market day: coverage in the terms `start`/`end` use."""
    assert task.window.start is not None
    return datetime.combine(market_day(task.window.start), time(), UTC) + DAY


def _polls(adapter: IsoneAdapter, names: list[str]) -> Iterator[Any]:
    """One poll of a current-only dataset per location."""
    for name in names:
        yield from tables_of(adapter, Task(name, Window(None, None)))
