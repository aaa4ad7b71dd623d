"""The dbt benchmark's fast 90-day history (bench/synthetic_data.py `synthetic_copy_shift_boalf`)
must be data the marts can trust: SYNTHETIC copies of the recorded real BOALF records, typed by
the loader's own conversion, copied back across the October clock change in a real DuckDB file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pytest

from bench.synthetic_data import synthetic_boalf, synthetic_copy_shift_boalf
from loaders.common.jsonrows import convert
from loaders.common.timeutil import to_settlement_period
from loaders.sources.bmrs.catalogue import load_catalogue

# Two GMT days copied 7 and 14 days back: the second copy lands on 2026-10-25 (50 periods) and
# the BST days before it, where the same UTC instant has a different settlement period.
TEMPLATE_DAY = date(2026, 11, 2)
TEMPLATE = (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC))
HISTORY_START = datetime(2026, 10, 19, tzinfo=UTC)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """raw_bmrs.boalf as the loader types it, holding 7 synthetic days (2 copies a day)."""
    endpoint = load_catalogue().get("BOALF")
    records = synthetic_boalf(TEMPLATE_DAY, days=7, copies_per_day=2)
    typed = convert(  # noqa: F841  (read by name in the SQL below)
        orjson.dumps(records),
        endpoint.fields,
        endpoint.keys,
        published_field=endpoint.published_field,
        source="api",
        loaded_at=datetime(2026, 12, 1, tzinfo=UTC),
    ).table
    path = tmp_path_factory.mktemp("copy_shift") / "synthetic_history.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw_bmrs")
    con.execute("create table raw_bmrs.boalf as select * from typed")
    con.close()
    return path


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select time_from, time_to, settlement_date, settlement_period_from, "
        "settlement_period_to from raw_bmrs.boalf"
    ).fetchall()


def test_copy_shift_fills_the_history_with_unique_keys(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute("set TimeZone = 'UTC'")
    in_template = con.execute(
        "select count(*) from raw_bmrs.boalf where time_from >= ? and time_from < ?", TEMPLATE
    ).fetchone()[0]
    inserted = synthetic_copy_shift_boalf(con, TEMPLATE, HISTORY_START)
    days = con.execute(
        "select count(distinct cast(time_from as date)), min(time_from) from raw_bmrs.boalf"
    ).fetchone()
    duplicates = con.execute(
        "select count(*) - count(distinct (national_grid_bm_unit, acceptance_number, time_from)), "
        "count(*) - count(distinct _record_hash), count(*) - count(distinct _natural_key) "
        "from raw_bmrs.boalf"
    ).fetchone()
    # an acceptance's segments share its number and time: no two acceptances may share a number
    shared = con.execute(
        "select count(*) from (select national_grid_bm_unit, acceptance_number "
        "from raw_bmrs.boalf group by all having count(distinct acceptance_time) > 1)"
    ).fetchone()[0]
    rows = _rows(con)
    con.close()

    assert in_template > 10_000
    assert inserted == 2 * in_template  # two whole copies of the 7 template days
    assert HISTORY_START <= days[1] < HISTORY_START + timedelta(days=1) and days[0] >= 21
    assert duplicates == (0, 0, 0)
    assert shared == 0
    # every row, copied across the clock change or not, has the settlement date and periods the
    # loader's own time code gives its times (BST before 2026-10-25 01:00 UTC, GMT after)
    wrong = [
        r
        for r in rows
        if (r[2], r[3]) != to_settlement_period(r[0]) or r[4] != to_settlement_period(r[1])[1]
    ]
    assert not wrong, wrong[:3]
    clock_change = [r for r in rows if r[2] == date(2026, 10, 25)]
    assert max(r[3] for r in clock_change) == 50  # the long day's 50 periods
    assert any(r[0] < datetime(2026, 10, 25, tzinfo=UTC) - timedelta(hours=1) for r in rows)
