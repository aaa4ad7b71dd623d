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


def _shift_days(column: str, days: int) -> str:
    return f"{column} - to_days({days})"


def _london_day(ts: str) -> str:
    """The settlement date of a UTC instant: its date in Europe/London."""
    return f"cast(timezone('Europe/London', cast({ts} as timestamptz)) as date)"


def _london_period(ts: str) -> str:
    """The settlement period of a UTC instant: half-hours since that London day's midnight,
    counted in elapsed time, so clock-change days get their 46 or 50 periods."""
    midnight = f"timezone('Europe/London', cast({_london_day(ts)} as timestamp))"
    return f"cast(date_diff('second', {midnight}, cast({ts} as timestamptz)) // 1800 + 1 as bigint)"


def _copy_tag(column: str, dtype: str, copy: int) -> str:
    """A per-copy variant of a row-identity column, so copies never share a key or hash."""
    if dtype.upper() in ("VARCHAR", "TEXT", "STRING"):
        if column == "_record_hash":
            return f"md5({column} || '-synthetic-copy-{copy}')"
        return f"{column} || '-synthetic-copy-{copy}'"
    # hash() is a UBIGINT: one bit less fits a signed BIGINT (the 64-bit _record_hash) too
    return f"cast(hash({column}, {copy}) >> 1 as {dtype})"


def synthetic_copy_shift_boalf(
    con: Any, template: tuple[datetime, datetime], history_start: datetime
) -> int:
    """SYNTHETIC history, fast: copy the loaded BOALF rows of `template` (a half-open UTC range)
    into the earlier days back to `history_start`, shifted by whole multiples of the template's
    length, in DuckDB SQL instead of through the loader (which would take many minutes).
    Acceptance numbers move by 10^9 per copy and the hash/key/id columns get a per-copy tag, so
    every copy's keys are unique; settlement dates and periods are recomputed from the shifted
    times in Europe/London, so a copy moved across a clock change stays consistent.
    Returns the rows inserted."""
    con.execute("set TimeZone = 'UTC'")
    columns = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_bmrs' and table_name = 'boalf'"
        ).fetchall()
    )
    tagged = [c for c in ("_record_hash", "_natural_key", "_dlt_id") if c in columns]
    length = (template[1] - template[0]).days
    copies = -(-((template[0] - history_start).days) // length)
    before = con.execute("select count(*) from raw_bmrs.boalf").fetchone()[0]
    for copy in range(1, copies + 1):
        days = copy * length
        replaced = [
            *(
                f"{_shift_days(c, days)} as {c}"
                for c in ("time_from", "time_to", "acceptance_time")
            ),
            f"acceptance_number + {copy} * 1000000000 as acceptance_number",
            *(f"{_copy_tag(c, columns[c], copy)} as {c}" for c in tagged),
        ]
        periods = [
            f"{_london_day('time_from')} as settlement_date",
            f"{_london_period('time_from')} as settlement_period_from",
            f"{_london_period('time_to')} as settlement_period_to",
        ]
        con.execute(
            f"""
            insert into raw_bmrs.boalf by name
            select * replace ({", ".join(periods)})
            from (
                select * replace ({", ".join(replaced)})
                from raw_bmrs.boalf
                where time_from >= ? and time_from < ?
            )
            where time_from >= ?
            """,
            [template[0], template[1], history_start],
        )
    return con.execute("select count(*) from raw_bmrs.boalf").fetchone()[0] - before
