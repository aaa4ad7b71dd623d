"""Issue 18 §3-4 on real recorded data: settlement-day range loads, the FUELHH generation mix and
system sell prices recomputed in plain Python from the recorded CSV exports, the completeness
verdicts, and the mart column types on a built warehouse.

FUELHH and system prices are served from JSON derived from the real CSV exports
(tests/python/recorded_csv.py); every figure below is recomputed from the CSV itself."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date

import pytest

from loaders.common.timeutil import periods_in_day

from .conftest import RECORDED, make_cli, recorded_records
from .recorded_csv import FUELHH_CSV, SYSTEM_PRICES_CSV

pytestmark = pytest.mark.slow


def load(cli, dataset: str, start: str, end: str) -> None:
    result = cli.run("load", "bmrs", "--dataset", dataset, "--from", start, "--to", end)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory, replay):
    cli = make_cli(tmp_path_factory.mktemp("completeness"), replay)
    load(cli, "FUELHH", "2025-02-06", "2025-02-07")
    load(cli, "SYSTEM_PRICES", "2025-02-05", "2025-02-07")
    load(cli, "FUELINST", "2024-02-12", "2024-02-13")
    load(cli, "ATL", "2024-05-01", "2024-05-02")
    load(cli, "BOALF", "2024-05-01", "2024-05-03")
    load(cli, "FORECAST_GENERATION_WIND_PEAK", "2024-05-01", "2024-05-08")
    result = cli.run("build")
    assert result.returncode == 0, result.stdout[-5000:]
    return cli


def csv_rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_date_range_asks_for_whole_settlement_days_by_settlement_date(built, replay):
    asked = [r for r in replay.state.requests if "/datasets/FUELHH" in r]
    assert any("settlementDateFrom=2025-02-06&settlementDateTo=2025-02-06" in r for r in asked)
    assert not any("publishDateTime" in r for r in asked)
    # the load log records the settlement day's UTC span (a winter day: midnight to midnight)
    window = built.query(
        "select window_start::varchar, window_end::varchar, status, rows from ops.load_log "
        "where dataset = 'FUELHH'"
    )
    assert window == [("2025-02-06 00:00:00+00", "2025-02-07 00:00:00+00", "ok", 200)]


def test_generation_mix_per_period_totals_match_the_recorded_csv(built):
    totals: dict[int, int] = defaultdict(int)
    for row in csv_rows(FUELHH_CSV):
        totals[int(row["SettlementPeriod"])] += int(row["Generation"])
    mart = dict(
        built.query(
            "select settlement_period, sum(generation_mw) from marts.fct_generation_mix_by_period "
            "where settlement_date = '2025-02-06' group by 1"
        )
    )
    assert mart == {p: float(t) for p, t in totals.items()} and len(mart) == 10


def test_interconnector_flows_are_the_int_fuel_types_of_the_csv(built):
    flows = {
        (int(r["SettlementPeriod"]), r["FuelType"]): int(r["Generation"]) * 0.5
        for r in csv_rows(FUELHH_CSV)
        if r["FuelType"].startswith("INT")
    }
    mart = {
        (p, i): mwh
        for p, i, mwh in built.query(
            "select settlement_period, interconnector, flow_mwh "
            "from marts.fct_interconnector_flows_by_period"
        )
    }
    assert mart == flows


def test_system_sell_price_per_period_matches_the_recorded_csv(built):
    expected = {
        (r["SettlementDate"], int(r["SettlementPeriod"])): float(r["SystemSellPrice"])
        for r in csv_rows(SYSTEM_PRICES_CSV)
    }
    mart = {
        (d, p): ssp
        for d, p, ssp in built.query(
            "select settlement_date::varchar, settlement_period, system_sell_price_gbp_per_mwh "
            "from marts.fct_imbalance_by_period"
        )
    }
    assert len(expected) == 47 and mart == expected


def test_completeness_verdicts_match_the_recorded_days(built):
    """Recomputed from the recorded files: periods (or five-minute start times) present against
    the day's periods from its local midnights."""
    fuelinst = recorded_records("bmrs/FUELINST/fuelinst_stream_2024-02-12T1745Z.json")
    prices = defaultdict(set)
    for r in csv_rows(SYSTEM_PRICES_CSV):
        prices[r["SettlementDate"]].add(int(r["SettlementPeriod"]))
    fuelhh_periods = {int(r["SettlementPeriod"]) for r in csv_rows(FUELHH_CSV)}
    expected = {
        ("FUELHH", "2025-02-06"): ("per_period", 48, len(fuelhh_periods), "incomplete"),
        ("FUELINST", "2024-02-12"): (
            "per_5_minutes",
            periods_in_day(date(2024, 2, 12)) * 6,
            len({r["startTime"] for r in fuelinst}),
            "incomplete",
        ),
        **{
            ("SYSTEM_PRICES", d): ("per_period", 48, len(p), "incomplete")
            for d, p in prices.items()
        },
        **{
            ("FORECAST_GENERATION_WIND_PEAK", r["settlementDate"]): ("per_day", 1, 1, "complete")
            for r in recorded_records(
                "bmrs/forecast_generation_wind_peak/wind_peak_2024-05-01_2024-05-07.json"
            )
        },
        **{
            ("BOALF", d): ("events", None, len(p), "loaded")
            for d, p in _boalf_periods_by_day().items()
        },
    }
    rows = built.query(
        "select dataset, settlement_date::varchar, expected_cardinality, expected_slots, "
        "present_slots, completeness_status from marts.fct_dataset_completeness_daily "
        "where dataset <> 'ATL'"
    )
    assert {(d, day): tuple(rest) for d, day, *rest in rows} == expected


def test_atl_recorded_by_publish_time_spans_two_settlement_days(built):
    """ATL has no settlement-date filter, so its recording (one UTC day by publish time) holds
    parts of two settlement days: the mart counts exactly the periods the file holds per day."""
    by_day = defaultdict(set)
    for r in recorded_records("bmrs/ATL/atl_2024-05-01.json"):
        by_day[r["settlementDate"]].add(r["settlementPeriod"])
    rows = built.query(
        "select settlement_date::varchar, present_periods, completeness_status "
        "from marts.fct_dataset_completeness_daily where dataset = 'ATL'"
    )
    assert {d: (n, s) for d, n, s in rows} == {
        d: (len(p), "complete" if len(p) == 48 else "incomplete") for d, p in by_day.items()
    }


def test_no_mart_column_is_float_real_or_hugeint_and_each_name_has_one_type(built):
    columns = built.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'marts'"
    )
    assert len(columns) > 250
    assert [c for c in columns if c[2] in ("FLOAT", "REAL", "HUGEINT", "INTEGER")] == []
    types = defaultdict(set)
    for _, name, kind in columns:
        types[name].add(kind)
    assert {n: t for n, t in types.items() if len(t) > 1} == {}


def test_mart_columns_carry_their_descriptions_as_comments(built):
    missing = built.query(
        "select table_name, column_name from duckdb_columns() "
        "where schema_name = 'marts' and (comment is null or comment = '')"
    )
    assert missing == []


def _boalf_periods_by_day() -> dict[str, set[int]]:
    days = defaultdict(set)
    for r in recorded_records("bmrs/BOALF/boalf_stream_2024-05-01.json"):
        days[r["settlementDate"]].add(r["settlementPeriodFrom"])
    return days


def test_recorded_known_gap_seeds_are_the_shipped_lists():
    """The seeds are the upstream lists unchanged: a header and one row per listed day."""
    root = RECORDED.parents[2] / "seeds"
    for name in ("fuelhh_known_gaps.csv", "system_price_known_gaps.csv"):
        rows = csv_rows(root / name)
        assert rows and all(r["note"] == "elexon-non-publication" for r in rows)
        assert all(int(r["expected"]) - int(r["actual"]) == int(r["shortfall"]) for r in rows)
