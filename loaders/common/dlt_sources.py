"""What every source's dlt source shares: run planned windows through the source's own adapter
(the same requests, HTTP client, retries, redaction and record conversion the CLI uses), fail
the whole resource on a window that did not load, and remember in dlt's resource state how far
the windows are covered, so the next run asks only for new ones.

A window's rows are yielded only after the whole window was fetched and converted, and any
failure raises: dlt then discards the run's extracted rows and state, so nothing partial lands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

import dlt

from loaders.common.engine import FetchResult, Task
from loaders.common.records import snake_case
from loaders.errors import SourceError, UsageError
from loaders.logs import redact

# Statuses of a window that loaded completely (CONTRACTS.md); anything else fails the run.
LOADED = ("ok", "empty", "fallback")
# Merge on the key for datasets with a history; a whole-list snapshot replaces the table.
MERGE = "merge"
REPLACE = "replace"


class Fetcher(Protocol):
    def fetch(self, task: Task) -> FetchResult: ...


def as_utc(value: datetime | date | str) -> datetime:
    """A start/end given as a datetime (naive = UTC), a date (its UTC midnight) or ISO text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def key_columns(keys: Sequence[str]) -> list[str]:
    """The natural key as the raw table's column names (the loaders' snake_case rule)."""
    return [snake_case(k) for k in keys]


def window_failure(result: FetchResult) -> SourceError:
    """The error a window that did not load raises: its status and reason, secrets masked."""
    reason = redact(result.error) or "no reason given"
    return SourceError(
        f"{result.task.dataset} {result.task.window.label()}: {result.status}: {reason}"
    )


def tables_of(adapter: Fetcher, task: Task) -> Iterator[Any]:
    """The rows of one window (one Arrow table, or none when the window was empty), or the
    window's failure raised: a cut body, records without their key or a refused request."""
    result = adapter.fetch(task)
    if result.status not in LOADED:
        raise window_failure(result)
    if result.table is not None and result.table.num_rows:
        yield result.table


def resume_start(state: dict[str, Any], name: str, start: datetime) -> datetime:
    """Where windows of `name` start this run: `start` the first time, then where the windows
    already loaded end (`start` is a cursor's initial value, as in dlt). An earlier `start`
    than the first run's would need rows the cursor already passed, so it is refused."""
    covered = state.get("covered", {}).get(name)
    if covered is None:
        return start
    first, until = (datetime.fromisoformat(covered[0]), datetime.fromisoformat(covered[1]))
    if start < first:
        raise UsageError(
            f"{name}: this pipeline has loaded from {first:%Y-%m-%dT%H:%MZ} on; a start of "
            f"{start:%Y-%m-%dT%H:%MZ} is earlier. Load earlier windows with a new pipeline "
            "(or reset this one's state: `dlt pipeline <name> drop <resource>`)"
        )
    return until


def mark_covered(state: dict[str, Any], name: str, start: datetime, end: datetime) -> None:
    """Record that the windows of `name` are loaded up to `end` (kept with the load's state)."""
    covered = state.setdefault("covered", {})
    first = covered.get(name, [start.isoformat()])[0]
    covered[name] = [first, end.isoformat()]


def covered_windows(
    tasks: Iterable[Task],
    fetcher: Fetcher,
    start: datetime,
    *,
    cursor: str | None = None,
    name: Callable[[Task], str] = lambda task: task.dataset,
    end_of: Callable[[Task], datetime | None] = lambda task: task.window.end,
) -> Iterator[Any]:
    """Each planned window's rows in order, marking it covered (up to `end_of` it, under
    `name`) in the resource state once its rows are handed over; a window that fails raises,
    and so does one holding rows behind the `cursor`, which dlt would otherwise drop."""
    state = dlt.current.resource_state()
    floor = state.get("incremental", {}).get(cursor or "", {}).get("last_value")
    for task in tasks:
        for table in tables_of(fetcher, task):
            if floor is not None and cursor is not None:
                refuse_rows_behind(table, cursor, floor, task)
            yield table
        end = end_of(task)
        assert end is not None
        mark_covered(state, name(task), start, end)


def refuse_rows_behind(table: Any, cursor: str, floor: Any, task: Task) -> None:
    """A window's rows must all lie at or after the cursor's last value: dlt's incremental
    filter would silently drop any before it, and the window would load short."""
    import pyarrow.compute as pc

    if cursor not in table.column_names:
        return
    earliest = pc.min(table.column(cursor)).as_py()
    if earliest is not None and earliest < floor:
        raise SourceError(
            f"{task.dataset} {task.window.label()}: a row has {cursor} {earliest}, before "
            f"the {floor} already loaded; dlt's cursor would drop it, so the run stops. "
            "Load this range with a new pipeline."
        )


def incremental(cursor: str | None, initial: datetime | date) -> Any:
    """The dlt cursor on a dataset's time column (None when it has none). Rows without a value
    are kept: a cursor must never be a reason to drop a record. No row hashes are kept at the
    cursor's last value (`primary_key=()`): windows do not overlap and the resource merges on
    its key, and a day's worth of hashes would bloat the state of date cursors."""
    if cursor is None:
        return None
    return dlt.sources.incremental(
        cursor, initial_value=initial, on_cursor_value_missing="include", primary_key=()
    )
