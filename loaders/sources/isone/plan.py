"""Which ISO-NE windows a command loads: market days (America/New_York) or a current poll.

A market day is one window: its UTC bounds are the local midnights, so 23 hours on the spring
clock change and 25 in autumn. A day still in progress is loaded up to the last cadence step
(a window [midnight, 10:00) for an hourly dataset polled at 10:05), so the next run, a step
later, finds it not yet covered and asks again; once the day has ended, the whole-day window is
loaded once more and the day is done. Daily datasets always load whole days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from loaders.common.checkpoint import floor_time, is_due
from loaders.common.engine import Task, Window
from loaders.common.ops import OpsState
from loaders.errors import UsageError
from loaders.sources.isone.config import Dataset, Limits
from loaders.sources.isone.normalize import EASTERN

DAY = timedelta(days=1)


def market_day(instant: datetime) -> date:
    return instant.astimezone(EASTERN).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC instants of the market day's local midnights."""
    start = datetime.combine(day, time(), EASTERN).astimezone(UTC)
    end = datetime.combine(day + DAY, time(), EASTERN).astimezone(UTC)
    return start, end


def window_for(dataset: Dataset, day: date, now: datetime) -> Window | None:
    """The window to load for a market day now: whole, or up to the last cadence step of a day
    in progress (None when nothing of it can be published yet)."""
    start, end = day_bounds(day)
    if dataset.cadence == "daily" or start >= now or end <= now:
        return Window(start, end)
    step_end = min(end, floor_time(now, dataset.refresh))
    return Window(start, step_end) if step_end > start else None


def day_of(window: Window) -> date | None:
    return market_day(window.start) if window.start is not None else None


def check_locations(datasets: Sequence[Dataset], locations: Sequence[str]) -> tuple[str, ...]:
    """--location values, each known to at least one of the datasets asked for."""
    known = {label for d in datasets for label in d.locations}
    unknown = [loc for loc in locations if loc not in known]
    if unknown:
        raise UsageError(
            f"unknown location{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for "
            f"{', '.join(d.name for d in datasets)}; configured: {', '.join(sorted(known)) or 'none'}"
        )
    return tuple(locations)


def latest_range_ends(datasets: Sequence[Dataset], now: datetime) -> dict[str, datetime]:
    """The latest --to each dataset accepts, in range_days' terms (dates as UTC midnights, end
    exclusive): today's market day, plus `days_ahead` for day-ahead results and forecasts."""
    today = market_day(now)
    return {
        d.name: datetime.combine(today + timedelta(days=d.days_ahead + 1), time(), UTC)
        for d in datasets
    }


def range_days(start: datetime, end: datetime) -> list[date]:
    """The market days --from/--to name: dates, end exclusive (--from 2024-03-10 --to
    2024-03-11 is the market day of 10 March); a time of day rounds out to whole days."""
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def require_backfillable(datasets: Sequence[Dataset]) -> None:
    current = [d.name for d in datasets if not d.backfillable]
    if current:
        raise UsageError(
            f"{', '.join(current)} {'is' if len(current) == 1 else 'are'} current-only: the "
            "service serves only the latest value, so there is no range to load or back-fill. "
            "Load without --from/--to; it is polled on its cadence."
        )


def range_tasks(
    datasets: Sequence[Dataset],
    start: datetime,
    end: datetime,
    *,
    locations: tuple[str, ...] = (),
    now: datetime | None = None,
) -> list[Task]:
    """A window per market day of [start, end), per location, for each dataset."""
    require_backfillable(datasets)
    now = now or datetime.now(UTC)
    tasks = []
    for dataset in datasets:
        for day in range_days(start, end):
            window = window_for(dataset, day, now)
            if window is not None:
                tasks += [Task(name, window) for name in dataset.load_names(locations)]
    return tasks


def incremental_tasks(
    datasets: Sequence[Dataset],
    states: Mapping[str, OpsState],
    limits: Limits,
    *,
    locations: tuple[str, ...] = (),
    force: bool = False,
    now: datetime | None = None,
) -> list[Task]:
    """What is due: current-only datasets once per cadence (or now, with force); for day
    datasets every market day from the last loaded one (and at least `lookback_days` back) to
    today (plus `days_ahead`), skipping windows already loaded."""
    now = now or datetime.now(UTC)
    tasks = []
    for dataset in datasets:
        for name in dataset.load_names(locations):
            state = states.get(name, OpsState())
            if dataset.window == "current":
                if force or is_due(
                    snapshot=True,
                    refresh=dataset.refresh,
                    last_end=None,
                    last_snapshot=state.last_snapshot,
                    now=now,
                ):
                    tasks.append(Task(name, Window(None, None)))
                continue
            tasks += [Task(name, w) for w in _due_windows(dataset, state, limits, now)]
    return tasks


def _due_windows(dataset: Dataset, state: OpsState, limits: Limits, now: datetime) -> list[Window]:
    today = market_day(now)
    first = today - timedelta(days=limits.lookback_days)
    if state.last_end is not None:
        first = min(first, market_day(state.last_end - timedelta(microseconds=1)))
    last = today + timedelta(days=dataset.days_ahead)
    windows = []
    for n in range((last - first).days + 1):
        window = window_for(dataset, first + timedelta(days=n), now)
        if window is not None and not state.covers(window.start, window.end):
            windows.append(window)
    return windows


def backfill_tasks(
    datasets: Sequence[Dataset],
    states: Mapping[str, OpsState],
    start: datetime,
    end: datetime,
    *,
    locations: tuple[str, ...] = (),
    now: datetime | None = None,
) -> tuple[list[Task], dict[str, tuple[int, int]]]:
    """Range tasks not yet loaded, and per dataset (windows in range, already loaded)."""
    planned = range_tasks(datasets, start, end, locations=locations, now=now)
    todo, counts = [], {}
    for task in planned:
        state = states.get(task.dataset, OpsState())
        assert task.window.start is not None and task.window.end is not None
        done = state.covers(task.window.start, task.window.end)
        total, loaded = counts.get(task.dataset, (0, 0))
        counts[task.dataset] = (total + 1, loaded + int(done))
        if not done:
            todo.append(task)
    return todo, counts


def load_names(datasets: Sequence[Dataset], locations: tuple[str, ...]) -> list[str]:
    return [name for d in datasets for name in d.load_names(locations)]
