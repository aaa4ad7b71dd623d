"""Plants and places on real data: the Power Station Dictionary seeds, the BM unit <-> plant
bridge and each plant's nearest GSP, recomputed in plain Python from the recorded upstream files
(tests/data/recorded/reference/power_station_dictionary, gsp_points, bmu_registration) and
compared with the marts built from the recorded registry (the dbt-built checks are marked slow)."""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path

import pytest

from loaders.reference import power_station_seed

from .conftest import RECORDED, Cli, build_models, make_cli

DICTIONARY = RECORDED / "reference" / "power_station_dictionary"
GSP_POINTS = RECORDED / "reference" / "gsp_points" / "sheffield_solar_gsp_points.csv"
REGISTRY = RECORDED / "reference" / "bmu_registration" / "bmu_registration_data.csv"
EARTH_RADIUS_KM = 6371.0088

# The named units and the plant each belongs to in the dictionary's ids.csv.
NAMED_UNITS = {
    **{f"DRAXX-{n}": 10004 for n in range(1, 7)},
    **{f"PEMB-{n}1": 10047 for n in range(1, 6)},
    "RATS-1": 10011,
    **{f"DINO-{n}": 10144 for n in range(1, 7)},
    "DIDCB6": 10001,
    "COTPS-1": 10003,
}


def dictionary_rows(name: str) -> list[dict[str, str]]:
    with (DICTIONARY / name).open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@cache
def plant_of_national_grid_id() -> dict[str, int]:
    """The plant each National Grid BM unit id is listed under in ids.csv."""
    return {
        unit.strip(): int(row["dictionary_id"])
        for row in dictionary_rows("ids.csv")
        for unit in row["ngc_bmu_id"].split(",")
        if unit.strip()
    }


@cache
def plant_of_elexon_id() -> dict[str, int]:
    """The plant each Elexon (settlement) BM unit id is listed under in ids.csv."""
    return {
        unit.strip(): int(row["dictionary_id"])
        for row in dictionary_rows("ids.csv")
        for unit in row["sett_bmu_id"].split(",")
        if unit.strip()
    }


@cache
def plant_gsp_groups() -> dict[int, str]:
    """Each located plant's nearest GSP's group."""
    return {
        int(row["dictionary_id"]): nearest_gsp(float(row["latitude"]), float(row["longitude"]))[1]
        for row in dictionary_rows("plant-locations.csv")
    }


def python_gsp_group(
    unit: dict[str, str], plant_groups: dict[int, str]
) -> tuple[str | None, str | None]:
    """A registry unit's GSP group and its source: the registry's, else its plant's nearest GSP's
    (National Grid id first, then Elexon id), else the letter a 2__/C__/V__ id encodes."""
    if unit["gspGroupId"]:
        return unit["gspGroupId"], "registry"
    plant = plant_of_national_grid_id().get(unit["nationalGridBmUnit"]) or plant_of_elexon_id().get(
        unit["elexonBmUnit"]
    )
    if plant in plant_groups:
        return plant_groups[plant], "location"
    elexon = unit["elexonBmUnit"]
    if elexon[:3] in ("2__", "C__", "V__") and elexon[3:4] in "ABCDEFGHJKLMNP" and elexon[3:4]:
        return "_" + elexon[3], "id letter"
    return None, None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest_gsp(lat: float, lon: float) -> tuple[int, str, float]:
    """The nearest GSP (id, group, km) among the recorded GSP points (ties: lower id)."""
    best: tuple[float, int, str] | None = None
    with GSP_POINTS.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["gsp_id"]:
                continue
            km = haversine_km(lat, lon, float(row["gsp_lat"]), float(row["gsp_lon"]))
            candidate = (km, int(row["gsp_id"]), row["pes_name"])
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    assert best is not None
    return best[1], best[2], best[0]


def plant_location(plant_id: int) -> tuple[float, float]:
    for row in dictionary_rows("plant-locations.csv"):
        if int(row["dictionary_id"]) == plant_id:
            return float(row["latitude"]), float(row["longitude"])
    raise KeyError(plant_id)


@pytest.fixture(scope="module")
def plants(tmp_path_factory, replay) -> Cli:
    cli = make_cli(tmp_path_factory.mktemp("plants"), replay)
    cli.run("load", "bmrs", "--dataset", "BMUNITS", check=True)
    build_models(
        cli,
        "+dim_power_station",
        "+bridge_bm_unit_power_station",
        "+dim_bm_unit",
        "assert_large_bm_units_have_a_power_station",
    )
    return cli


def test_committed_seeds_are_what_the_builder_makes_from_the_upstream_files():
    for name, content in power_station_seed.build().items():
        assert (power_station_seed.SEEDS / name).read_text() == content, name


def test_seed_keeps_every_plant_and_every_unit_id_of_the_dictionary():
    ids = dictionary_rows("ids.csv")
    built = power_station_seed.build_plants()
    assert len(built) == len(ids) == 277
    bridge = power_station_seed.build_bridge()
    national_grid = [r for r in bridge if r["bm_unit_id_kind"] == "national_grid"]
    assert len(national_grid) == len(plant_of_national_grid_id())


@pytest.mark.slow
def test_bridge_maps_the_named_units_to_their_plants(plants):
    expected = plant_of_national_grid_id()
    # the hand list agrees with the dictionary itself
    assert {unit: expected[unit] for unit in NAMED_UNITS} == NAMED_UNITS
    assert len(NAMED_UNITS) >= 20
    rows = plants.query(
        "select national_grid_bm_unit, elexon_bm_unit, power_station_id, in_registry "
        "from marts.bridge_bm_unit_power_station where bm_unit_id_kind = 'national_grid'"
    )
    actual = {unit: (elexon, plant, in_registry) for unit, elexon, plant, in_registry in rows}
    for unit, plant in NAMED_UNITS.items():
        assert actual[unit][1] == plant, unit
    # units still in the registry are paired with their Elexon id; Drax is T_DRAXX-n
    assert actual["DRAXX-4"] == ("T_DRAXX-4", 10004, True)
    assert actual["DINO-1"] == ("T_DINO-1", 10144, True)


@pytest.mark.slow
def test_dim_bm_unit_carries_the_plant_and_says_unknown_otherwise(plants):
    by_id = plant_of_national_grid_id()
    rows = plants.query(
        "select national_grid_bm_unit, power_station_id, power_station_match, power_station_latitude "
        "from marts.dim_bm_unit"
    )
    with REGISTRY.open(newline="") as fh:
        registry_ids = {r["nationalGridBmUnit"] for r in csv.DictReader(fh)}
    for unit, plant, match, _lat in rows:
        if unit in by_id:
            assert plant == by_id[unit] and match in ("national_grid_id", "both_ids"), unit
    matched_by_ng = {unit for unit, *_ in rows if unit in by_id}
    assert matched_by_ng == registry_ids & set(by_id)
    draxx = {unit: (plant, match, lat) for unit, plant, match, lat in rows}["DRAXX-1"]
    assert draxx == (10004, "both_ids", pytest.approx(plant_location(10004)[0]))
    unknown = [unit for unit, plant, match, _ in rows if plant is None]
    assert unknown and all(match == "unknown" for unit, plant, match, _ in rows if plant is None)


# Worked by hand (haversine over the recorded GSP points, mean Earth radius 6371.0088 km):
# plant -> (nearest GSP, its GSP group, km to 2 dp, the group's DNO licence area)
NEAREST_BY_HAND = {
    10004: ("DRAX_1", "_M", 0.39, "NPGY"),  # Drax: Yorkshire, Northern Powergrid
    10047: ("PEMB_1", "_K", 0.57, "SWALES"),  # Pembroke: South Wales, NGED
    10011: ("RATS_1", "_B", 2.49, "EMID"),  # Ratcliffe on Soar: East Midlands, NGED
    10144: ("TRAW_1", "_D", 17.14, "SPM"),  # Dinorwig: no GSP point at Pentir, so Trawsfynydd's
    10001: ("COWL_1", "_H", 11.13, "SEPD"),  # Didcot: Cowley's; Southern, SSEN
}


@pytest.mark.slow
@pytest.mark.parametrize("plant_id", sorted(NEAREST_BY_HAND))
def test_nearest_gsp_matches_a_hand_computation(plants, plant_id):
    lat, lon = plant_location(plant_id)
    gsp_id, group, km = nearest_gsp(lat, lon)
    name, hand_group, hand_km, hand_dno = NEAREST_BY_HAND[plant_id]
    assert (group, round(km, 2)) == (hand_group, hand_km)
    row = plants.query(
        "select nearest_gsp_id, nearest_gsp_name, gsp_group_id, nearest_gsp_distance_km, "
        f"dno_licence_area from marts.dim_power_station where power_station_id = {plant_id}"
    )[0]
    assert row[:3] == (gsp_id, name, group)
    assert row[3] == pytest.approx(km, abs=1e-6)
    assert row[4] == hand_dno


@pytest.mark.slow
def test_transmission_units_take_their_plants_gsp_group_with_the_source_said(plants):
    rows = plants.query(
        "select gsp_group_id, gsp_group_source from marts.dim_bm_unit "
        "where national_grid_bm_unit = 'PEMB-11'"
    )
    _, group, _ = nearest_gsp(*plant_location(10047))
    assert rows == [(group, "location")]
    located = {int(r["dictionary_id"]) for r in dictionary_rows("plant-locations.csv")}
    by_id = plant_of_national_grid_id()
    with REGISTRY.open(newline="") as fh:
        expected = {
            r["nationalGridBmUnit"]
            for r in csv.DictReader(fh)
            if not r["gspGroupId"] and by_id.get(r["nationalGridBmUnit"]) in located
        }
    by_location = plants.query(
        "select national_grid_bm_unit from marts.dim_bm_unit where gsp_group_source = 'location'"
    )
    # every unit placed by location is one the registry gave no group (Elexon-id-only matches
    # may add a few more than the National Grid ids alone)
    assert expected <= {unit for (unit,) in by_location}
    assert len(expected) > 100
    sources = {
        s for (s,) in plants.query("select distinct gsp_group_source from marts.dim_bm_unit")
    }
    # the full registry gives every supplier unit its group, so 'id letter' does not occur here
    assert sources <= {"registry", "location", "id letter", None}


@pytest.mark.slow
def test_every_units_gsp_group_and_its_source_match_a_recomputation(plants):
    from .test_marts import registry

    groups = plant_gsp_groups()
    expected = {unit: python_gsp_group(row, groups) for unit, row in registry().items()}
    actual = {
        unit: (group, source)
        for unit, group, source in plants.query(
            "select national_grid_bm_unit, gsp_group_id, gsp_group_source from marts.dim_bm_unit"
        )
    }
    assert actual == expected


@pytest.mark.slow
def test_large_units_without_a_plant_are_flagged(plants):
    # recomputed from the recorded registry: units of >= 50 MW (generation or demand) that the
    # dictionary lists under neither id, interconnectors aside
    by_ng, by_elexon = plant_of_national_grid_id(), plant_of_elexon_id()
    expected: set[str] = set()
    with REGISTRY.open(newline="") as fh:
        for r in csv.DictReader(fh):
            capacity = max(
                float(r["generationCapacity"] or 0), abs(float(r["demandCapacity"] or 0))
            )
            unit = r["nationalGridBmUnit"]
            if (
                capacity >= 50
                and unit not in by_ng
                and r["elexonBmUnit"] not in by_elexon
                and r["bmUnitType"] != "I"
                and not r["fuelType"].startswith("INT")
            ):
                expected.add(unit)
    assert len(expected) > 100  # the dictionary stops around 2021: many newer large units
    results = json.loads((Path(plants.env["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    (check,) = [
        r
        for r in results["results"]
        if "assert_large_bm_units_have_a_power_station" in r["unique_id"]
    ]
    # a warning, not a failed build, and it counts exactly those units
    assert (check["status"], check["failures"]) == ("warn", len(expected))
