"""The marts on recorded real data: `dbt build` passes, and one figure per mart family is
recomputed from the recorded files in plain Python and compared with the mart."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest

from .conftest import (
    RECORDED,
    build_models,
    load_bmrs,
    load_recorded_boalf,
    make_cli,
    recorded_records,
)
from .test_battery_classification import python_is_battery, registry_units
from .test_dbt_build import python_energy_by_unit_period
from .test_power_stations import plant_gsp_groups, python_gsp_group

pytestmark = pytest.mark.slow
REGISTRY = RECORDED / "reference/bmu_registration/bmu_registration_data.csv"


@pytest.fixture(scope="module")
def marts(tmp_path_factory, replay):
    cli = make_cli(tmp_path_factory.mktemp("marts"), replay)
    load_recorded_boalf(cli, "MILS")
    load_bmrs(
        cli, "BALANCING_NONBM_DISBSAD_DETAILS", start="2024-05-01T18:30", end="2024-05-01T19:00"
    )
    cli.run("load", "neso", "--dataset", "historic_demand", check=True)
    cli.run("load", "dno", "--dno", "UKPN", "--dataset", "powerflow", check=True)
    build_models(cli)
    return cli


def registry() -> dict[str, dict[str, str]]:
    """The registry, one row per National Grid unit (the first listed with an Elexon id)."""
    units: dict[str, dict[str, str]] = {}
    with REGISTRY.open() as fh:
        for row in csv.DictReader(fh):
            if row["nationalGridBmUnit"] and (
                row["nationalGridBmUnit"] not in units
                or not units[row["nationalGridBmUnit"]]["elexonBmUnit"]
            ):
                units.setdefault(row["nationalGridBmUnit"], row)
    return units


def test_every_mart_builds_and_tests_pass(marts):
    tables = {
        t
        for (t,) in marts.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert {
        "fct_regional_balancing_by_period",
        "fct_constraint_actions_daily",
        "fct_imbalance_by_period",
        "dim_bm_unit",
        "fct_battery_fleet_stats",
        "fct_unit_limits_by_period",
        "fct_dataset_completeness_daily",
        "fct_generation_mix_by_period",
    } <= tables


def test_regional_energy_per_gsp_group_matches_the_recorded_acceptances(marts):
    units = registry()
    plant_groups = plant_gsp_groups()
    expected: dict[str, float] = defaultdict(float)
    for (unit, _, _), mwh in python_energy_by_unit_period().items():
        # the registry's group, else the unit's power station's nearest GSP's, else the id letter
        group = python_gsp_group(units[unit], plant_groups)[0] if unit in units else None
        expected[group or "transmission"] += mwh
    actual = dict(
        marts.query(
            "select gsp_group_id, sum(accepted_level_mwh) from marts.fct_regional_balancing_by_period group by 1"
        )
    )
    assert set(actual) == set(expected)
    assert all(abs(actual[g] - expected[g]) < 1e-6 for g in expected)


def test_constraint_daily_energy_per_unit_matches_the_recorded_acceptances(marts):
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for (unit, day, _), mwh in python_energy_by_unit_period().items():
        expected[(unit, day)] += mwh
    actual = {
        (u, d): e
        for u, d, e in marts.query(
            "select national_grid_bm_unit, settlement_date::varchar, accepted_level_mwh from marts.fct_constraint_actions_daily"
        )
    }
    assert set(actual) == set(expected)
    assert all(abs(actual[k] - expected[k]) < 1e-6 for k in expected)


def test_dno_figures_are_null_not_zero_where_no_dno_data_was_loaded(marts):
    """Only UKPN power flows are loaded here: no DNO published flexibility or outages, so those
    figures are unknown (NULL) on every day the balancing side has, never 0."""
    days, flexibility, events, outages = marts.query(
        "select count(*), count(flexibility_mwh), count(flexibility_events), "
        "count(outages_started) from marts.fct_dno_balancing_daily"
    )[0]
    assert days > 0 and (flexibility, events, outages) == (0, 0, 0)
    assert marts.query(
        "select count(flexibility_mwh), count(outages_started), "
        "count(correlation_instructed_vs_flexibility) from marts.fct_dno_balancing_correlation"
    ) == [(0, 0, 0)]


def test_imbalance_disbsad_cost_matches_the_recorded_actions(marts):
    records = recorded_records("bmrs/DISBSAD/disbsad_details_2024-05-01_sp40.json")
    row = marts.query(
        "select disbsad_actions, disbsad_cost_gbp, disbsad_volume_mwh from marts.fct_imbalance_by_period "
        "where settlement_date = '2024-05-01' and settlement_period = 40"
    )
    assert row == [
        (
            len(records),
            pytest.approx(sum(r["cost"] for r in records)),
            pytest.approx(sum(r["volume"] for r in records)),
        )
    ]
    assert sum(r["cost"] for r in records) == pytest.approx(4976.33)


def python_batteries() -> dict[str, float]:
    """The battery rules re-implemented independently over the registry CSV (see
    test_battery_classification), with each battery's generation capacity."""
    return {
        unit: max(float(row["generationCapacity"] or 0), 0.0)
        for unit, row in registry_units().items()
        if python_is_battery(unit, row)
    }


def test_battery_fleet_matches_the_rules_applied_to_the_registry(marts):
    expected = python_batteries()
    assert marts.query(
        "select bmu_count, total_capacity_mw from marts.fct_battery_fleet_stats where breakdown = 'fleet'"
    ) == [(len(expected), pytest.approx(sum(expected.values())))]
    units = {
        u
        for (u,) in marts.query(
            "select national_grid_bm_unit from marts.dim_bm_unit where is_battery"
        )
    }
    assert units == set(expected)
    # evidence, not operator: a wind farm run by a battery operator is not a battery
    assert marts.query(
        "select count(*) from marts.dim_bm_unit where is_battery and fuel_type in ('WIND', 'CCGT')"
    ) == [(0,)]


def test_unit_import_limits_match_the_recorded_notifications(marts):
    latest: dict[str, dict] = {}
    for r in recorded_records("bmrs/MILS/mils_2024-05-01T10-11Z.json"):
        held = latest.get(r["nationalGridBmUnit"])
        rank = (r["notificationTime"], r["notificationSequence"])
        if (
            held is None
            or rank > (held["notificationTime"], held["notificationSequence"])
            or (
                rank == (held["notificationTime"], held["notificationSequence"])
                and r["timeFrom"] < held["timeFrom"]
            )
        ):
            latest[r["nationalGridBmUnit"]] = r
    actual = dict(
        marts.query(
            "select national_grid_bm_unit, max_import_limit_mw from marts.fct_unit_limits_by_period "
            "where settlement_date = '2024-05-01' and settlement_period = 25"
        )
    )
    assert actual == {u: r["levelFrom"] for u, r in latest.items()}


def test_completeness_counts_periods_against_the_clock(marts):
    rows = dict(
        (
            (d, (e, p, c))
            for d, e, p, c in marts.query(
                "select settlement_date::varchar, expected_periods, present_periods, is_complete "
                "from marts.fct_dataset_completeness_daily where dataset = 'NESO historic_demand' "
                "and settlement_date in ('2023-03-26', '2023-10-29', '2023-06-01')"
            )
        )
    )
    assert rows == {
        "2023-03-26": (46, 46, True),
        "2023-10-29": (50, 50, True),
        "2023-06-01": (48, 48, True),
    }
    boalf = defaultdict(set)
    for r in recorded_records("bmrs/BOALF/boalf_stream_2024-05-01.json"):
        boalf[r["settlementDate"]].add(r["settlementPeriodFrom"])
    actual = dict(
        marts.query(
            "select settlement_date::varchar, present_periods from marts.fct_dataset_completeness_daily "
            "where dataset = 'BOALF'"
        )
    )
    assert actual == {d: len(p) for d, p in boalf.items()}


# -- export ---------------------------------------------------------------------------------------


def test_export_json_keeps_the_seed_systems_shape(marts, tmp_path):
    out = tmp_path / "batteries.json"
    assert (
        marts.run("export", "vlp-batteries", "--format", "json", "--out", str(out)).returncode == 0
    )
    doc = json.loads(out.read_text())
    meta, stats, units = doc["metadata"], doc["summary_statistics"], doc["battery_units"]
    for key in (
        "title",
        "description",
        "generated",
        "data_source",
        "total_battery_bmus",
        "vlp_count",
        "direct_count",
        "vlp_percentage",
        "field_definitions",
    ):
        assert key in meta
    assert meta["total_battery_bmus"] == len(units) == len(python_batteries())
    assert meta["vlp_count"] + meta["direct_count"] == len(units)
    assert meta["vlp_count"] == sum(u["is_vlp"] for u in units)
    assert {
        "total_capacity_mw",
        "average_capacity_mw",
        "median_capacity_mw",
        "by_vlp_status",
        "top_vlp_operators",
    } <= set(stats)
    top = stats["top_vlp_operators"][0]
    assert set(top) == {"name", "bmu_count", "total_capacity_mw"}
    for field in (
        "nationalGridBmUnit",
        "elexonBmUnit",
        "leadPartyName",
        "fuelType",
        "bmUnitType",
        "bmUnitName",
        "generationCapacity",
        "demandCapacity",
        "gspGroupId",
        "is_vlp",
        "is_vlp_by_name",
        "is_aggregator_code",
        "multiple_assets",
    ):
        assert field in units[0]
    assert all(u["generationCapacity"] >= 0 and u["demandCapacity"] <= 0 for u in units)


def test_export_csv_variants_split_the_fleet(marts):
    counts = {}
    for variant in ("all", "vlp", "direct"):
        result = marts.run("export", "vlp-batteries", "--format", "csv", "--variant", variant)
        assert result.returncode == 0
        counts[variant] = len(list(csv.DictReader(result.stdout.splitlines())))
    assert counts["all"] == counts["vlp"] + counts["direct"] == len(python_batteries())


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "xml"], "invalid choice: 'xml'"),
        (["--format", "json", "--variant", "vlp"], "--variant applies to CSV"),
        (["--format", "csv", "--out", "/no/such/folder/x.csv"], "does not exist"),
        ([], "the following arguments are required: --format"),
    ],
)
def test_export_bad_arguments(marts, args, message):
    result = marts.run("export", "vlp-batteries", *args)
    assert result.returncode == 2 and message in result.stderr


def test_export_before_build_says_so(cli):
    result = cli.run("export", "vlp-batteries", "--format", "json")
    assert result.returncode == 1 and "gridwarehouse build" in result.stderr
