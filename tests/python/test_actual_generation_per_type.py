"""Actual generation per production type (AGPT / B1620) on the recorded real response of
/generation/actual/per-type (1-3 Jan 2024): loaded through the real loader from the replay
server, unnested by dbt, and recomputed here in plain Python from the recording's bytes."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from .conftest import RECORDED, Cli, make_cli

pytestmark = pytest.mark.slow
AGPT = RECORDED / "bmrs" / "AGPT" / "agpt_2024-01-01_to_2024-01-03.json"
LONDON = ZoneInfo("Europe/London")
MART = "marts.fct_actual_generation_per_type_by_period"
Key = tuple[date, int, str]


def recorded_quantities() -> dict[Key, float]:
    """(settlement date, period, PSR type) -> MW, straight from the recorded JSON: the settlement
    date is the London day the period's start time falls in."""
    body = json.loads(AGPT.read_bytes())
    quantities: dict[Key, float] = {}
    for period in body["data"]:
        start = datetime.fromisoformat(period["startTime"].replace("Z", "+00:00"))
        day = start.astimezone(LONDON).date()
        for item in period["data"]:
            key = (day, period["settlementPeriod"], item["psrType"])
            assert key not in quantities, f"the recording repeats {key}"
            quantities[key] = float(item["quantity"])
    return quantities


def totals(quantities: dict[Key, float]) -> dict[tuple[date, int], float]:
    summed: dict[tuple[date, int], float] = defaultdict(float)
    for (day, period, _), mw in quantities.items():
        summed[(day, period)] += mw
    return dict(summed)


@pytest.fixture(scope="module")
def agpt(tmp_path_factory, replay) -> Cli:
    cli = make_cli(tmp_path_factory.mktemp("agpt"), replay)
    cli.run(
        "load",
        "bmrs",
        "--dataset",
        "GENERATION_ACTUAL_PER_TYPE",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-04",
        check=True,
    )
    result = cli.run("build", "--select", "+fct_actual_generation_per_type_by_period")
    assert result.returncode == 0, result.stdout[-5000:]
    return cli


def test_each_day_window_is_loaded_ok_with_its_periods(agpt):
    windows = agpt.query(
        "select window_start, status, rows from ops.load_log "
        "where dataset = 'GENERATION_ACTUAL_PER_TYPE' order by window_start"
    )
    assert [(start.date().isoformat(), status) for start, status, _ in windows] == [
        ("2024-01-01", "ok"),
        ("2024-01-02", "ok"),
        ("2024-01-03", "ok"),
    ]
    # the API filters start times inclusively: a window's end period comes in two windows and
    # is stored once, by its key (settlementPeriod, startTime)
    assert agpt.count("raw_bmrs.generation_actual_per_type") == 144


def test_every_period_and_psr_type_quantity_matches_the_recording(agpt):
    expected = recorded_quantities()
    rows = agpt.query(
        f"select settlement_date, settlement_period, psr_type, quantity_mw from {MART}"
    )
    actual = {(day, period, psr): mw for day, period, psr, mw in rows}
    assert len(rows) == len(actual) == len(expected) == 144 * 11
    assert actual.keys() == expected.keys()
    for key, mw in expected.items():
        assert actual[key] == pytest.approx(mw, abs=1e-9), key


def test_period_totals_match_the_recording(agpt):
    expected = totals(recorded_quantities())
    rows = agpt.query(
        f"select settlement_date, settlement_period, sum(quantity_mw), sum(quantity_mwh) "
        f"from {MART} group by 1, 2"
    )
    actual = {(day, period): (mw, mwh) for day, period, mw, mwh in rows}
    assert actual.keys() == expected.keys()
    for key, mw in expected.items():
        assert actual[key] == pytest.approx((mw, mw * 0.5), abs=1e-6), key


def test_each_recorded_day_has_48_periods(agpt):
    rows = agpt.query(
        f"select settlement_date, count(distinct settlement_period), min(settlement_period), "
        f"max(settlement_period), count(distinct psr_type) from {MART} group by 1 order by 1"
    )
    assert rows == [(date(2024, 1, day), 48, 1, 48, 11) for day in (1, 2, 3)]


def test_start_times_are_the_recorded_utc_instants(agpt):
    rows = agpt.query(
        f"select distinct settlement_date, settlement_period, start_time_utc from {MART}"
    )
    body = json.loads(AGPT.read_bytes())
    expected = {
        (date.fromisoformat(p["startTime"][:10]), p["settlementPeriod"], p["startTime"][:19])
        for p in body["data"]
    }
    assert {(day, period, start.isoformat()[:19]) for day, period, start in rows} == expected


def test_column_types(agpt):
    types = dict(
        agpt.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' "
            "and table_name = 'fct_actual_generation_per_type_by_period'"
        )
    )
    assert types["quantity_mw"] == types["quantity_mwh"] == "DOUBLE"
    assert types["settlement_date"] == "DATE"
    assert types["settlement_period"] == "BIGINT"
