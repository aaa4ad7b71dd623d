"""The battery classification (int_bm_units_classified, audit_battery_classification) on the
recorded real BM unit registry: every verdict is recomputed in plain Python from the registry CSV
with the rules written out independently, and the units the rules used to get wrong are pinned."""

from __future__ import annotations

import csv
import re

import pytest

from .conftest import RECORDED, Cli, build_models, make_cli

pytestmark = pytest.mark.slow
REGISTRY = RECORDED / "reference/bmu_registration/bmu_registration_data.csv"

# units the issue named: batteries registered with fuel OTHER that a two-way + "...B-n" rule
# limited to an empty fuel type missed, and Statkraft greener-grid parks (synchronous
# compensators / flywheels) that the bare keyword "storage" called batteries
NAMED_BATTERIES = {
    "RICHB-1",
    "RICHB-2",
    "BLHLB-1",
    "BLHLB-2",
    "BLHLB-3",
    "BLHLB-4",
    "PINFB-1",
    "PINFB-2",
    "PINFB-3",
    "PINFB-4",
    "COVNB-1",
}
NAMED_NOT_BATTERIES = {"KTHRS-1", "KTHRS-2", "LRDSC-1", "LRDSC-2"}

NOT_BATTERY_FUELS = ("WIND", "CCGT", "OCGT", "NUCLEAR", "COAL", "BIOMASS", "NPSHYD", "PS", "INT")
NOT_BATTERY_NAMES = (
    "flywheel",
    "synch comp",
    "synchronous",
    "compensator",
    "greener grid",
    "pumped storage",
)


def registry_units() -> dict[str, dict[str, str]]:
    """One registry row per National Grid unit (the first listed with an Elexon id)."""
    units: dict[str, dict[str, str]] = {}
    with REGISTRY.open() as fh:
        for row in csv.DictReader(fh):
            unit = row["nationalGridBmUnit"]
            if unit and (unit not in units or not units[unit]["elexonBmUnit"]):
                units[unit] = row
    return units


def python_is_battery(unit: str, row: dict[str, str]) -> bool:
    """The battery rules, written out independently of the SQL."""
    fuel, name = row["fuelType"].upper(), row["bmUnitName"].lower()
    export_mw = float(row["generationCapacity"] or 0)
    import_mw = abs(float(row["demandCapacity"] or 0))
    if fuel.startswith(NOT_BATTERY_FUELS) or any(p in name for p in NOT_BATTERY_NAMES):
        return False
    if "battery" in name or "bess" in name:
        return True
    symmetric = min(export_mw, import_mw) > 0 and min(export_mw, import_mw) >= 0.5 * max(
        export_mw, import_mw
    )
    storage_style = re.search(r"B-\d{1,2}$", unit) is not None or "storage" in name
    return fuel in ("", "OTHER") and symmetric and storage_style


def python_batteries() -> set[str]:
    return {u for u, row in registry_units().items() if python_is_battery(u, row)}


@pytest.fixture(scope="module")
def classified(tmp_path_factory, replay) -> Cli:
    cli = make_cli(tmp_path_factory.mktemp("batteries"), replay)
    cli.run("load", "bmrs", "--dataset", "BMUNITS", check=True)
    build_models(cli, "+audit_battery_classification", "+dim_bm_unit")
    return cli


def test_shipped_registry_is_the_full_registry():
    # the recording is the whole registry (2,783 rows), not an excerpt fitted to the rules
    with REGISTRY.open() as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == 2783
    assert len(registry_units()) > 2500


def test_python_rules_give_the_named_verdicts():
    batteries = python_batteries()
    assert batteries >= NAMED_BATTERIES
    assert not NAMED_NOT_BATTERIES & batteries


def test_named_units_get_their_verdict_and_evidence(classified):
    rows = {
        u: (is_battery, rule, evidence)
        for u, is_battery, rule, evidence in classified.query(
            "select national_grid_bm_unit, is_battery, battery_rule, battery_evidence "
            "from marts.audit_battery_classification"
        )
    }
    for unit in NAMED_BATTERIES:
        assert rows[unit][:2] == (True, "two_way_storage"), unit
        assert "fuel OTHER" in rows[unit][2] and f"id {unit}" in rows[unit][2], rows[unit]
    for unit in NAMED_NOT_BATTERIES:
        assert rows[unit][:2] == (False, "storage_name_not_two_way"), unit
        assert "Storage" in rows[unit][2] and "not a two-way store" in rows[unit][2], rows[unit]


def test_every_unit_verdict_matches_the_rules_recomputed_from_the_registry(classified):
    audited = dict(
        classified.query(
            "select national_grid_bm_unit, is_battery from marts.audit_battery_classification"
        )
    )
    assert set(audited) == set(registry_units())
    assert {u for u, is_battery in audited.items() if is_battery} == python_batteries()
    assert {
        u
        for (u,) in classified.query(
            "select national_grid_bm_unit from marts.dim_bm_unit where is_battery"
        )
    } == python_batteries()


def test_no_unit_lacks_a_rule_or_evidence(classified):
    assert classified.query(
        "select count(*) from marts.audit_battery_classification "
        "where battery_rule is null or battery_evidence is null"
    ) == [(0,)]


def test_technology_names_rule_a_unit_out(classified):
    # the registry's synchronous compensators (Grain, Killingholme) are one-way and named so
    rows = classified.query(
        "select national_grid_bm_unit, is_battery, battery_rule from marts.audit_battery_classification "
        "where national_grid_bm_unit in ('GRAISC-1', 'KILLSC-1')"
    )
    assert sorted(rows) == [
        ("GRAISC-1", False, "not_battery_technology"),
        ("KILLSC-1", False, "not_battery_technology"),
    ]
