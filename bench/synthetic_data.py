"""SYNTHETIC volume for tests and benchmarks, made from recorded real BMRS records.

The recorded real BOALF (and MILS) records are repeated over many days with shifted times and
renumbered ids, so windows, merges, memory and throughput can be measured at real-world volume.
Nothing here is a real record: every generator's name says `synthetic`, and the values are
copies of real ones moved in time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from loaders.common.timeutil import parse_api_timestamp, rfc3339, to_settlement_period

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "data" / "recorded" / "bmrs"
BOALF_FILE = RECORDED / "BOALF" / "boalf_stream_2024-05-01.json"
MILS_FILE = RECORDED / "MILS" / "mils_2024-05-01T10-11Z.json"
RECORDED_DAY = date(2024, 5, 1)


def _load(path: Path) -> list[dict[str, Any]]:
    body = json.loads(path.read_text())
    return body["data"] if isinstance(body, dict) else body


def _shift(value: str, by: timedelta) -> str:
    return rfc3339(parse_api_timestamp(value) + by)


def synthetic_boalf(first_day: date, days: int, copies_per_day: int) -> list[dict[str, Any]]:
    """The 1000 recorded BOALF records, `copies_per_day` times a day (spread over the day) for
    `days` days from `first_day`; acceptance numbers renumbered so every copy has its own key,
    settlement date/periods recomputed from the shifted times."""
    base = _load(BOALF_FILE)
    return list(_synthetic_boalf_iter(base, first_day, days, copies_per_day))


def _synthetic_boalf_iter(
    base: list[dict[str, Any]], first_day: date, days: int, copies_per_day: int
) -> Iterator[dict[str, Any]]:
    start_offset = timedelta(days=(first_day - RECORDED_DAY).days)
    for day in range(days):
        for copy in range(copies_per_day):
            offset = start_offset + timedelta(days=day, seconds=copy * 86_400 // copies_per_day)
            serial = (day * copies_per_day + copy + 1) * 100_000
            for r in base:
                new = dict(r)
                new["timeFrom"] = _shift(r["timeFrom"], offset)
                new["timeTo"] = _shift(r["timeTo"], offset)
                new["acceptanceTime"] = _shift(r["acceptanceTime"], offset)
                new["acceptanceNumber"] = r["acceptanceNumber"] + serial
                day_from, period_from = to_settlement_period(parse_api_timestamp(new["timeFrom"]))
                _, period_to = to_settlement_period(parse_api_timestamp(new["timeTo"]))
                new["settlementDate"] = day_from.isoformat()
                new["settlementPeriodFrom"], new["settlementPeriodTo"] = period_from, period_to
                yield new


def synthetic_range(
    records: list[dict[str, Any]], field: str = "timeFrom"
) -> tuple[datetime, datetime]:
    """The half-open UTC range that holds every record's `field`."""
    times = [parse_api_timestamp(r[field]) for r in records]
    return min(times), max(times) + timedelta(seconds=1)
