"""Windows for a BMRS endpoint, and the request that asks the API for one window."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from loaders.common.engine import Task, Window
from loaders.common.timeutil import (
    HALF_HOUR,
    floor_to,
    rfc3339,
    settlement_day_start_utc,
    to_settlement_period,
)
from loaders.sources.bmrs.catalogue import DATE, DATETIME, PATH_DATE, PERIOD, SNAPSHOT, Endpoint

DAY = timedelta(days=1)
# Task.part of a range-load task that asks for one whole settlement day by settlement date
SETTLEMENT_DATE_PART = "settlement date "


def plan_windows(endpoint: Endpoint, start: datetime, end: datetime) -> list[Window]:
    """Windows covering [start, end) for an endpoint, aligned to its window size."""
    if endpoint.window == SNAPSHOT:
        return [Window(None, None)]
    size = endpoint.window_size
    assert size is not None
    if endpoint.window in (DATE, PATH_DATE):  # whole settlement days
        start = floor_to(start, DAY)
        end = floor_to(end, DAY) + (DAY if floor_to(end, DAY) < end else timedelta(0))
    windows = []
    cell = floor_to(start, size)
    while cell < end:
        lo, hi = max(cell, start), min(cell + size, end)
        if lo < hi:
            windows.append(Window(lo, hi))
        cell += size
    return windows


def is_midnight_range(start: datetime, end: datetime) -> bool:
    """A range given as dates (`--from 2024-05-01 --to 2024-05-02`): both ends UTC midnights."""
    return floor_to(start, DAY) == start and floor_to(end, DAY) == end


def settlement_day_tasks(endpoint: Endpoint, start: datetime, end: datetime) -> list[Task]:
    """One task per settlement day of a date range (the dates in [start, end)), asked for by
    settlement date. A publish-time window of the same dates misses periods: SP1 of a BST day
    starts (and is published) the previous UTC day, and the last period is published after
    midnight. Each window is the UTC span of the day's periods, so the load log says what it
    holds (23:00-23:00 UTC in summer, 46 or 50 periods on clock-change days)."""
    tasks = []
    day: date = start.date()
    while day < end.date():
        span = Window(settlement_day_start_utc(day), settlement_day_start_utc(day + DAY))
        tasks.append(Task(endpoint.name, span, part=SETTLEMENT_DATE_PART + day.isoformat()))
        day += DAY
    return tasks


def by_settlement_date(task: Task) -> bool:
    """Whether a task asks for whole settlement days by settlement date (settlement_day_tasks)."""
    return (task.part or "").startswith(SETTLEMENT_DATE_PART)


def request_for(
    endpoint: Endpoint, window: Window, *, settlement_days: bool = False
) -> tuple[str, dict[str, Any]]:
    """The path and query parameters that ask the API for one window (with `settlement_days`,
    the settlement days the window spans, by settlement date)."""
    params: dict[str, Any] = dict(endpoint.fixed_params)
    path = endpoint.path
    start, end = window.start, window.end
    if settlement_days and endpoint.settlement_params:
        assert start and end
        lo, hi = endpoint.settlement_params
        params[lo] = to_settlement_period(start)[0].isoformat()
        params[hi] = to_settlement_period(end - HALF_HOUR)[0].isoformat()  # inclusive days
    elif endpoint.window == DATETIME:
        assert start and end and endpoint.from_param and endpoint.to_param
        params[endpoint.from_param] = rfc3339(start)
        params[endpoint.to_param] = rfc3339(end)
    elif endpoint.window == DATE:
        assert start and end and endpoint.from_param and endpoint.to_param
        params[endpoint.from_param] = start.date().isoformat()
        params[endpoint.to_param] = (end - DAY).date().isoformat()  # the API's "to" is inclusive
    elif endpoint.window == PATH_DATE:
        assert start
        path = path.replace("{settlementDate}", start.date().isoformat())
    elif endpoint.window == PERIOD:
        assert start
        settlement_date, period = to_settlement_period(start)
        if "{settlementDate}" in path:
            path = path.replace("{settlementDate}", settlement_date.isoformat())
            path = path.replace("{settlementPeriod}", str(period))
        else:
            params["settlementDate"] = settlement_date.isoformat()
            params["settlementPeriod"] = period
    return path, params
