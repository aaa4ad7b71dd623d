"""Windows for a BMRS endpoint, and the request that asks the API for one window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from loaders.bmrs.catalogue import DATE, DATETIME, PATH_DATE, PERIOD, SNAPSHOT, Endpoint
from loaders.common.engine import Window
from loaders.common.timeutil import floor_to, rfc3339, to_settlement_period

DAY = timedelta(days=1)


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


def request_for(endpoint: Endpoint, window: Window) -> tuple[str, dict[str, Any]]:
    """The path and query parameters that ask the API for one window."""
    params: dict[str, Any] = dict(endpoint.fixed_params)
    path = endpoint.path
    start, end = window.start, window.end
    if endpoint.window == DATETIME:
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
