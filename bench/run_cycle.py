"""One whole `gridwarehouse run` cycle with one new 15-minute window, timed (target <= 60 s at 90
days of history; issue 21). Used by bench/dbt_incremental.py on its 90-day warehouse.

`run` loads incrementally up to now, so the warehouse is first topped up (untimed, by the real
loader) to 15 minutes before the current 5-minute step, and built; the cycle then finds exactly
one new 15-minute window (plus the trailing windows it re-fetches for late revisions, as it does
in production) and builds what is downstream of it. The served records near now are SYNTHETIC
(the same shifted, renumbered copies of the recorded real BOALF records as the history).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from bench.common import GRIDWAREHOUSE, Span, run_measured, timed
from loaders.common.timeutil import floor_to, rfc3339
from loaders.testing.replay import RecordSet

STEP = timedelta(minutes=5)  # the incremental planner's step (loaders.common.checkpoint)
NEW_WINDOW = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def serve_recent(record_set: RecordSet, bodies: dict[datetime, Path], now: datetime) -> int:
    """Also answer non-hourly windows near now, by filtering the records of the last hours on
    their timeFrom (inclusive bounds, as the API does). Returns the records held."""
    hour = floor_to(now, HOUR)
    recent: list[dict] = []
    for start in (hour - 2 * HOUR, hour - HOUR, hour, hour + HOUR):
        if start in bodies:
            recent.extend(orjson.loads(bodies[start].read_bytes()))
    record_set.records = recent
    record_set.time_field, record_set.from_param, record_set.to_param = "timeFrom", "from", "to"
    record_set._index = None  # the records changed: index them again on the next request
    return len(recent)


def cycle_env(env: dict[str, str]) -> dict[str, str]:
    """BMRS BOALF only, in 15-minute windows, as a production cycle asks for them."""
    return {
        **env,
        "GRIDWAREHOUSE_RUN_SOURCES": "bmrs",
        "GRIDWAREHOUSE_RUN_BMRS_DATASETS": "BOALF",
        "GRIDWAREHOUSE_BMRS_WINDOWS": "BOALF=15m",
    }


def top_up(env: dict[str, str], start: datetime | date) -> datetime:
    """Load (untimed) from `start` to one new window before now; returns where it ended."""
    end = floor_to(datetime.now(UTC), STEP) - NEW_WINDOW
    args = ["load", "bmrs", "--dataset", "BOALF", "--from", _text(start), "--to", rfc3339(end)]
    run_measured([str(GRIDWAREHOUSE), *args], env)
    return end


def _text(value: datetime | date) -> str:
    return rfc3339(value) if isinstance(value, datetime) else value.isoformat()


def timed_cycle(
    env: dict[str, str], bmrs_requests: list[str], since: date
) -> tuple[Span, int, str]:
    """Top up and build (untimed), then time one `gridwarehouse run`; returns its span, the
    BOALF requests it made and its printed summary."""
    loaded_to = top_up(env, since)
    run_measured([str(GRIDWAREHOUSE), "build"], env)  # untimed: the history is built before
    if floor_to(datetime.now(UTC), STEP) - NEW_WINDOW > loaded_to:  # time moved on meanwhile
        loaded_to = top_up(env, loaded_to)
    before = len(bmrs_requests)
    (_, _, out), span = timed(
        "gridwarehouse run, one new 15-minute window",
        lambda: run_measured([str(GRIDWAREHOUSE), "run"], cycle_env(env)),
    )
    return span, len(bmrs_requests) - before, out
