"""The balancing carbon estimate on the recorded real BOALF day (2024-05-01/02) and the BM unit
registry, recomputed in plain Python from the raw recordings, the Power Station Dictionary files
and the factor seed; plus Elexon's OpenAPI example of an acceptance volume (BOAV) — the SPEC'S
EXAMPLE, not a recording — for the change-based figures."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise

import pytest

from loaders.common.timeutil import to_settlement_period
from loaders.testing.replay import RecordSet, ReplayServer

from .conftest import (
    RECORDED,
    ROOT,
    Cli,
    build_models,
    load_bmrs,
    load_recorded_boalf,
    make_cli,
    recorded_records,
)
from .test_constraint_marts import BOALF, CATALOGUE, SPEC_DAY, half_hour_cuts, instant, level_at
from .test_power_stations import dictionary_rows, plant_of_elexon_id, plant_of_national_grid_id

pytestmark = pytest.mark.slow
REGISTRY = RECORDED / "reference" / "bmu_registration" / "bmu_registration_data.csv"
BOAV_BID = "BALANCING_SETTLEMENT_ACCEPTANCE_VOLUMES_ALL_BID"


def instructed_energy_by_acceptance_day() -> dict[tuple[str, int, str], float]:
    """Energy under each unit's superseding instructed profile (at every instant the
    highest-numbered acceptance covering it decides), per (unit, acceptance, settlement day)."""
    by_unit: dict[str, list[dict]] = defaultdict(list)
    for r in recorded_records(BOALF):
        by_unit[r["nationalGridBmUnit"]].append(r)
    energy: dict[tuple[str, int, str], float] = defaultdict(float)
    for unit, records in by_unit.items():
        cuts: set[datetime] = set()
        for r in records:
            start, end = instant(r["timeFrom"]), instant(r["timeTo"])
            cuts |= {start, end, *half_hour_cuts(start, end)}
        for lo, hi in pairwise(sorted(cuts)):
            covering = [
                r for r in records if instant(r["timeFrom"]) <= lo and instant(r["timeTo"]) >= hi
            ]
            if not covering:
                continue
            latest = max(covering, key=lambda r: r["acceptanceNumber"])
            day = to_settlement_period(lo)[0].isoformat()
            hours = (hi - lo).total_seconds() / 3600
            energy[(unit, latest["acceptanceNumber"], day)] += (
                (level_at(latest, lo) + level_at(latest, hi)) / 2 * hours
            )
    return energy


def unit_factors() -> dict[str, tuple[float | None, str]]:
    """Per registry unit: its plant's latest-year intensity, else its fuel's seed factor (the
    registry's fuel, else the fuel most of its plant's units have in fuel_types.csv)."""
    with (ROOT / "seeds" / "carbon_intensity_factors.csv").open(newline="") as fh:
        fuel_factor = {r["fuel_type"]: float(r["factor_gco2_per_kwh"]) for r in csv.DictReader(fh)}
    latest: dict[int, tuple[int, float]] = {}
    for r in dictionary_rows("plant_carbon_intensity.csv"):
        plant, year = int(r["dictionary_id"]), int(r["year"])
        if plant not in latest or year > latest[plant][0]:
            latest[plant] = (year, float(r["carbon_intensity_gco2_per_kwh"]))
    unit_fuel = {r["ngc_bmu_id"]: r["fuel_type"].upper() for r in dictionary_rows("fuel_types.csv")}
    plant_units: dict[int, list[str]] = defaultdict(list)
    for unit, plant in plant_of_national_grid_id().items():
        plant_units[plant].append(unit)
    result: dict[str, tuple[float | None, str]] = {}
    with REGISTRY.open(newline="") as fh:
        for row in csv.DictReader(fh):
            unit = row["nationalGridBmUnit"]
            plant = plant_of_national_grid_id().get(unit) or plant_of_elexon_id().get(
                row["elexonBmUnit"]
            )
            if plant in latest:
                result[unit] = (latest[plant][1], f"plant {latest[plant][0]}")
                continue
            fuels = sorted(unit_fuel[u] for u in plant_units.get(plant, []) if u in unit_fuel)
            plant_fuel = min(fuels, key=lambda f: (-fuels.count(f), f)) if fuels else None
            fuel = row["fuelType"] or plant_fuel
            if fuel in fuel_factor:
                result[unit] = (fuel_factor[fuel], f"fuel {fuel}")
            else:
                result.setdefault(unit, (None, "none"))
    return result


@pytest.fixture(scope="module")
def balancing_carbon(tmp_path_factory) -> Iterator[Cli]:
    with ReplayServer() as server:
        endpoint = CATALOGUE.get(BOAV_BID)
        server.state.add(
            "/bmrs" + endpoint.path.replace("{settlementDate}", SPEC_DAY),
            RecordSet(records=list(endpoint.example), shape=endpoint.shape),
        )
        cli = make_cli(tmp_path_factory.mktemp("balancing_carbon"), server)
        load_recorded_boalf(cli)
        load_bmrs(cli, BOAV_BID, start=SPEC_DAY, end="2023-03-02")
        build_models(cli, "+fct_balancing_carbon_daily_by_region")
        yield cli


def test_instructed_output_co2_per_acceptance_and_day_matches_a_recomputation(balancing_carbon):
    factors = unit_factors()
    expected = {}
    for (unit, number, day), mwh in instructed_energy_by_acceptance_day().items():
        factor, source = factors.get(unit, (None, "none"))
        expected[(unit, number, day)] = (
            source,
            None if factor is None else mwh * factor / 1000,
        )
    rows = balancing_carbon.query(
        "select national_grid_bm_unit, acceptance_number, settlement_date::varchar, "
        "emission_factor_source, instructed_output_co2_tonnes, energy_basis, "
        "co2_added_by_offers_tonnes, co2_avoided_by_bids_tonnes, net_co2_tonnes "
        "from marts.fct_balancing_carbon_daily where settlement_date >= '2024-01-01'"
    )
    actual = {(u, n, d): (src, co2) for u, n, d, src, co2, *_ in rows}
    assert set(actual) == set(expected)
    for key, (source, co2) in expected.items():
        assert actual[key][0] == source, key
        assert actual[key][1] == (None if co2 is None else pytest.approx(co2, abs=1e-9)), key
    # BOALF gives levels, not changes: no added/avoided/net from it
    assert all(
        b == "instructed_level" and a is None and v is None and n is None for *_, b, a, v, n in rows
    )
    # Drax's unit 3 carries its plant's own (latest, 2020) intensity
    assert {src for (u, _, _), (src, _) in actual.items() if u == "DRAXX-3"} == {"plant 2020"}
    assert sum(co2 for (u, _, _), (_, co2) in actual.items() if u == "DRAXX-3") > 0


def test_region_and_reason_rollup_adds_up(balancing_carbon):
    by_acceptance = balancing_carbon.query(
        "select settlement_date, gsp_group_id, reason, count(*), sum(instructed_output_co2_tonnes) "
        "from marts.fct_balancing_carbon_daily group by 1, 2, 3 order by 1, 2, 3"
    )
    rollup = balancing_carbon.query(
        "select settlement_date, gsp_group_id, reason, acceptances, instructed_output_co2_tonnes "
        "from marts.fct_balancing_carbon_daily_by_region order by 1, 2, 3"
    )
    assert rollup == by_acceptance
    reasons = {reason for _, _, reason, _, _ in rollup}
    assert reasons == {"so_flagged", "energy"}


def test_acceptance_volumes_give_co2_avoided_by_bids(balancing_carbon):
    (example,) = CATALOGUE.get(BOAV_BID).example
    factor, source = unit_factors()[example["nationalGridBmUnit"]]
    row = balancing_carbon.query(
        "select energy_basis, bid_volume_mwh, co2_avoided_by_bids_tonnes, net_co2_tonnes, "
        "emission_factor_source from marts.fct_balancing_carbon_daily "
        f"where settlement_date = '{SPEC_DAY}'"
    )
    assert row == [
        (
            "acceptance_volume",
            pytest.approx(example["totalVolumeAccepted"]),
            pytest.approx(-example["totalVolumeAccepted"] * factor / 1000),
            pytest.approx(example["totalVolumeAccepted"] * factor / 1000),
            source,
        )
    ]
