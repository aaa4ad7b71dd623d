"""The regional and battery marts on the recorded real BOALF stream (2024-05-01/02): each
acceptance counts once per day (not once per period it touches) and energy is the superseding
instructed level (a later acceptance replaces an earlier one), as in the constraint marts. Every
figure is recomputed from the raw bytes in plain Python (test_constraint_marts' recomputation)
and compared with the marts."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable

import pytest

from .conftest import ROOT, Cli, build_models, load_recorded_boalf, make_cli
from .test_battery_classification import python_is_battery, registry_units
from .test_constraint_marts import acceptances_by_day, instructed_energy_by_unit_period
from .test_power_stations import plant_gsp_groups, python_gsp_group

pytestmark = pytest.mark.slow
GSP_GROUPS = ROOT / "seeds" / "gsp_groups.csv"


@pytest.fixture(scope="module")
def marts(tmp_path_factory, replay) -> Cli:
    cli = make_cli(tmp_path_factory.mktemp("regional"), replay)
    load_recorded_boalf(cli)
    build_models(cli, "+fct_dno_balancing_correlation", "+fct_battery_daily_activity")
    return cli


# -- plain-Python placing of units -----------------------------------------------------------


def unit_groups() -> Callable[[str], str]:
    """A unit's GSP group: the registry's, else its power station's nearest GSP's, else the id
    letter; 'transmission' for none (and for units the registry does not list)."""
    units, plants = registry_units(), plant_gsp_groups()

    def group(unit: str) -> str:
        placed = python_gsp_group(units[unit], plants)[0] if unit in units else None
        return placed or "transmission"

    return group


def dno_of_group() -> dict[str, str]:
    with GSP_GROUPS.open(newline="") as fh:
        return {row["gsp_group_id"]: row["dno_group"] for row in csv.DictReader(fh)}


def acceptances_by_group_day(
    key: Callable[[str], str | None],
) -> dict[tuple[str, str], tuple[int, int]]:
    """Per (key of the unit, settlement day): distinct acceptances and system-flagged ones."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for day, accepted in acceptances_by_day().items():
        for (unit, _), so_flagged in accepted.items():
            if (where := key(unit)) is not None:
                counts[(where, day)][0] += 1
                counts[(where, day)][1] += so_flagged
    return {k: (n, flagged) for k, (n, flagged) in counts.items()}


def instructed_energy_by_group_day(
    key: Callable[[str], str | None],
) -> dict[tuple[str, str], float]:
    energy: dict[tuple[str, str], float] = defaultdict(float)
    for (unit, day, _), mwh in instructed_energy_by_unit_period().items():
        if (where := key(unit)) is not None:
            energy[(where, day)] += mwh
    return energy


def assert_close(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    assert all(actual[k] == pytest.approx(expected[k], abs=1e-6) for k in expected)


# -- regional --------------------------------------------------------------------------------


def test_regional_daily_counts_each_acceptance_once_per_day(marts):
    expected = acceptances_by_group_day(unit_groups())
    actual = {
        (group, day): (count, so_flagged)
        for group, day, count, so_flagged in marts.query(
            "select gsp_group_id, settlement_date::varchar, acceptance_count, "
            "so_flagged_acceptance_count from marts.fct_regional_daily"
        )
    }
    assert actual == expected
    # the whole day adds up to the constraint mart's figure: 271 (12 flagged), not the 328 (20)
    # of adding up per-period counts
    assert marts.query(
        "select sum(acceptance_count), sum(so_flagged_acceptance_count) "
        "from marts.fct_regional_daily where settlement_date = '2024-05-02'"
    ) == [(271, 12)]


def test_regional_energy_is_the_superseding_instructed_level(marts):
    group = unit_groups()
    per_period: dict[tuple[str, str, int], float] = defaultdict(float)
    for (unit, day, period), mwh in instructed_energy_by_unit_period().items():
        per_period[(group(unit), day, period)] += mwh
    assert_close(
        {
            (g, d, p): mwh
            for g, d, p, mwh in marts.query(
                "select gsp_group_id, settlement_date::varchar, settlement_period, instructed_energy_mwh "
                "from marts.fct_regional_balancing_by_period"
            )
        },
        per_period,
    )
    assert_close(
        {
            (g, d): mwh
            for g, d, mwh in marts.query(
                "select gsp_group_id, settlement_date::varchar, instructed_energy_mwh "
                "from marts.fct_regional_daily"
            )
        },
        instructed_energy_by_group_day(group),
    )
    # the figures: 1,264.0 MWh under the superseding profile, 2,097.7 with overlaps added
    totals = marts.query(
        "select sum(instructed_energy_mwh), sum(accepted_level_mwh) "
        "from marts.fct_regional_balancing_by_period"
    )
    assert [tuple(round(x, 1) for x in row) for row in totals] == [(1264.0, 2097.7)]


def test_dno_daily_counts_each_acceptance_once_and_uses_the_instructed_level(marts):
    group, dnos = unit_groups(), dno_of_group()

    def dno(unit: str) -> str | None:
        return dnos.get(group(unit)) or None

    counts = acceptances_by_group_day(dno)
    energy = instructed_energy_by_group_day(dno)
    rows = marts.query(
        "select dno_group, activity_date::varchar, acceptance_count, so_flagged_acceptance_count, "
        "instructed_energy_mwh from marts.fct_dno_balancing_daily"
    )
    assert {(d, day): (n, f) for d, day, n, f, _ in rows} == counts
    assert_close({(d, day): mwh for d, day, _, _, mwh in rows}, energy)
    totals: dict[str, float] = defaultdict(float)
    for (d, _), mwh in energy.items():
        totals[d] += mwh
    assert_close(
        dict(
            marts.query(
                "select dno_group, instructed_energy_mwh from marts.fct_dno_balancing_correlation"
            )
        ),
        totals,
    )


# -- batteries -------------------------------------------------------------------------------


def battery_days() -> dict[tuple[str, str], tuple[int, float, float]]:
    """Per battery and settlement day: distinct acceptances, and the instructed energy of its
    exporting periods and of its importing periods (each period's net figure decides its side)."""
    batteries = {unit for unit, row in registry_units().items() if python_is_battery(unit, row)}
    days: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for day, accepted in acceptances_by_day().items():
        for unit, _ in accepted:
            if unit in batteries:
                days[(unit, day)][0] += 1
    for (unit, day, _), mwh in instructed_energy_by_unit_period().items():
        if unit in batteries:
            days[(unit, day)][1 if mwh > 0 else 2] += mwh
    return {k: (int(n), exported, imported) for k, (n, exported, imported) in days.items()}


def test_battery_exports_and_imports_are_the_superseding_instructed_level(marts):
    expected = battery_days()
    rows = marts.query(
        "select national_grid_bm_unit, settlement_date::varchar, acceptance_count, exported_mwh, "
        "imported_mwh from marts.fct_battery_daily_activity"
    )
    assert {(u, d): n for u, d, n, _, _ in rows} == {k: v[0] for k, v in expected.items()}
    assert_close({(u, d): e for u, d, _, e, _ in rows}, {k: v[1] for k, v in expected.items()})
    assert_close({(u, d): i for u, d, _, _, i in rows}, {k: v[2] for k, v in expected.items()})
    # adding up each acceptance's own profile gave 12.8 MWh exported and -198.0 imported here
    assert round(sum(v[1] for v in expected.values()), 1) == 4.4
    assert round(sum(v[2] for v in expected.values()), 1) == -181.2
    # LITRB-1's stacked acceptances on 2024-05-01: -10.13 MWh counted per acceptance
    assert expected[("LITRB-1", "2024-05-01")][2] == pytest.approx(-7.0583, abs=1e-4)
