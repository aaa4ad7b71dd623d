"""BMRS as a dlt source for your own pipeline: one resource per catalogue dataset.

    dlt.pipeline(destination="duckdb").run(bmrs_source(datasets=["FUELHH"], start=..., end=...))

Each resource merges on the catalogue's natural key (a whole-list dataset such as BMUNITS
replaces its table), carries a dlt cursor on the time column its windows filter by, and asks
only for windows after those already loaded. Windows, requests, the HTTP client (retries, rate
limit, API keys, redaction) and record conversion are the loaders' own (source.BmrsAdapter).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt

from loaders.common.dlt_sources import (
    MERGE,
    REPLACE,
    as_utc,
    covered_windows,
    incremental,
    key_columns,
    resume_start,
    tables_of,
)
from loaders.common.engine import Task, Window
from loaders.common.timeutil import floor_to
from loaders.settings import Settings
from loaders.sources.bmrs.catalogue import DATE, PATH_DATE, SNAPSHOT, Endpoint
from loaders.sources.bmrs.plan import resolve_datasets
from loaders.sources.bmrs.source import BmrsAdapter
from loaders.sources.bmrs.windows import DAY, plan_windows, settlement_day_tasks

SETTLEMENT_DATE = "settlementDate"
HALF_HOUR = timedelta(minutes=30)


@dlt.source(name="bmrs", max_table_nesting=0)
def bmrs_source(
    datasets: Sequence[str],
    start: datetime | date | str | None = None,
    end: datetime | date | str | None = None,
    settings: Settings | None = None,
) -> Any:
    """Elexon BMRS datasets (catalogue names, e.g. "FUELHH") from `start` (the cursor's
    initial value; required for datasets with windows) to `end` (default: now)."""
    from loaders.settings import load_settings

    adapter = BmrsAdapter(settings or load_settings())
    overrides = adapter.settings.bmrs_windows
    for endpoint in resolve_datasets(adapter.catalogue, list(datasets), False, overrides):
        yield dataset_resource(adapter, endpoint, start, end)


def dataset_resource(
    adapter: BmrsAdapter,
    endpoint: Endpoint,
    start: datetime | date | str | None,
    end: datetime | date | str | None,
) -> Any:
    """The dlt resource of one dataset, with its key, write disposition and cursor."""
    snapshot = endpoint.window == SNAPSHOT
    if snapshot:
        data: Iterator[Any] = tables_of(adapter, Task(endpoint.name, Window(None, None)))
    else:
        if start is None:
            raise ValueError(f"{endpoint.name} is loaded by time window: give a start")
        data = _windows(adapter, endpoint, as_utc(start), as_utc(end or datetime.now(UTC)))
    resource = dlt.resource(
        data,
        name=endpoint.table,
        table_name=endpoint.table,
        write_disposition=REPLACE if snapshot else MERGE,
        primary_key=primary_key(endpoint),
        max_table_nesting=0,
    )
    cursor = cursor_column(endpoint)
    if cursor is not None and start is not None:
        initial: datetime | date = as_utc(start)
        if _is_date(endpoint, cursor):
            initial = initial.date()
        resource.apply_hints(incremental=incremental(cursor, initial))
    return resource


def primary_key(endpoint: Endpoint) -> list[str] | str:
    """The catalogue's natural key as columns when no part of it may be null; otherwise the
    `_natural_key` column the loaders build from it (a null in a key column would never merge)."""
    if endpoint.keys and endpoint.required_keys == endpoint.keys:
        return key_columns(endpoint.keys)
    return "_natural_key"


def by_settlement_day(endpoint: Endpoint) -> bool:
    """Datasets the API also filters by settlement date are asked for whole settlement days,
    as the CLI's range loads do: a publish-time window misses a day's first and last periods."""
    return endpoint.settlement_params is not None


def cursor_column(endpoint: Endpoint) -> str | None:
    """The column the dataset's windows filter by, so every row of a new window lies after the
    cursor; None for datasets asked again whole each run (forecasts by target time)."""
    if endpoint.window == SNAPSHOT or endpoint.horizon:
        return None
    field = SETTLEMENT_DATE if by_settlement_day(endpoint) else endpoint.cursor_field
    return key_columns([field])[0] if field else None


def _is_date(endpoint: Endpoint, cursor: str) -> bool:
    """Whether the cursor column holds dates (settlement dates), not instants."""
    types = {key_columns([f.name])[0]: f.type for f in endpoint.fields}
    return cursor == key_columns([SETTLEMENT_DATE])[0] or types.get(cursor) == "date"


def _windows(adapter: BmrsAdapter, endpoint: Endpoint, start: datetime, end: datetime) -> Any:
    """Windows from where the last run ended (or `start`) to `end`, none reaching past what is
    published: only whole settlement days that have ended, only half hours that have ended."""
    resumable = not endpoint.horizon
    begin = resume_start(dlt.current.resource_state(), endpoint.name, start) if resumable else start
    now = datetime.now(UTC)
    if by_settlement_day(endpoint):
        begin, end = floor_to(begin, DAY), min(_ceil_day(end), floor_to(now, DAY))
        tasks = settlement_day_tasks(endpoint, begin, end) if begin < end else []
    else:
        # a whole-day window asked for before its day ends would be marked loaded short
        step = DAY if endpoint.window in (DATE, PATH_DATE) else HALF_HOUR
        end = min(end, floor_to(now, step) + endpoint.horizon)
        windows = plan_windows(endpoint, begin, end) if begin < end else []
        tasks = [Task(endpoint.name, w) for w in windows]
    if not resumable:
        for task in tasks:
            yield from tables_of(adapter, task)
        return
    # coverage is kept in the terms the next run plans from: a settlement day's UTC midnights
    end_of = _day_end if by_settlement_day(endpoint) else (lambda task: task.window.end)
    yield from covered_windows(tasks, adapter, begin, cursor=cursor_column(endpoint), end_of=end_of)


def _day_end(task: Task) -> datetime:
    """The UTC midnight after a settlement-day task's date (its `part` names the date)."""
    day = date.fromisoformat((task.part or "").rsplit(" ", 1)[-1])
    return datetime.combine(day, datetime.min.time(), UTC) + DAY


def _ceil_day(instant: datetime) -> datetime:
    floor = floor_to(instant, DAY)
    return floor if floor == instant else floor + DAY
