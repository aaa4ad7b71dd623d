"""The constraint marts on the recorded real BOALF stream (2024-05-01/02) and on Elexon's own
OpenAPI example responses for acceptance volumes (BOAV) and indicative cashflows (EBOCF): the
SPEC'S EXAMPLES, not recordings (no real BOAV/EBOCF response has been recorded). Every figure is
recomputed from the raw bytes in plain Python and compared with the marts."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from loaders.common.timeutil import to_settlement_period
from loaders.sources.bmrs.catalogue import SPEC_PATH, load_catalogue
from loaders.testing.replay import RecordSet, ReplayServer

from .conftest import (
    Cli,
    build_models,
    load_bmrs,
    load_recorded_boalf,
    make_cli,
    recorded_records,
)

pytestmark = pytest.mark.slow
BOALF = "bmrs/BOALF/boalf_stream_2024-05-01.json"
CATALOGUE = load_catalogue()
SPEC_DAY = "2023-03-01"  # the settlement date of the spec's examples
# the spec's example of each endpoint, served on one side only so it is not counted twice
SPEC_EXAMPLES = {
    "BALANCING_SETTLEMENT_ACCEPTANCE_VOLUMES_ALL_BID": True,
    "BALANCING_SETTLEMENT_ACCEPTANCE_VOLUMES_ALL_OFFER": False,
    "BALANCING_SETTLEMENT_INDICATIVE_CASHFLOWS_ALL_BID": False,
    "BALANCING_SETTLEMENT_INDICATIVE_CASHFLOWS_ALL_OFFER": True,
}


def spec_example(name: str) -> list[dict[str, Any]]:
    """The example response body's records that Elexon's OpenAPI document gives an endpoint."""
    return list(CATALOGUE.get(name).example)


# -- plain-Python recomputation over the recorded BOALF bytes --------------------------------


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def level_at(record: dict, when: datetime) -> float:
    """A segment's accepted level (MW) at an instant: linear between its ends."""
    start, end = instant(record["timeFrom"]), instant(record["timeTo"])
    share = (when - start) / (end - start)
    return record["levelFrom"] + (record["levelTo"] - record["levelFrom"]) * share


def half_hour_cuts(start: datetime, end: datetime) -> Iterator[datetime]:
    """The half-hour boundaries strictly inside (start, end)."""
    cut = start.replace(minute=start.minute // 30 * 30, second=0) + timedelta(minutes=30)
    while cut < end:
        yield cut
        cut += timedelta(minutes=30)


def acceptances_by_day() -> dict[str, dict[tuple[str, int], bool]]:
    """Per settlement day, each (unit, acceptance number) whose instruction covers part of that
    day, with its system-operator flag."""
    days: dict[str, dict[tuple[str, int], bool]] = defaultdict(dict)
    for r in recorded_records(BOALF):
        start, end = instant(r["timeFrom"]), instant(r["timeTo"])
        for moment in [start, *half_hour_cuts(start, end)]:
            day = to_settlement_period(moment)[0].isoformat()
            days[day][(r["nationalGridBmUnit"], r["acceptanceNumber"])] = r["soFlag"]
    return days


def instructed_energy_by_unit_period() -> dict[tuple[str, str, int], float]:
    """Energy under each unit's instructed level where, at every instant, the highest-numbered
    acceptance covering it decides the level (later acceptances replace earlier ones)."""
    by_unit: dict[str, list[dict]] = defaultdict(list)
    for r in recorded_records(BOALF):
        by_unit[r["nationalGridBmUnit"]].append(r)
    energy: dict[tuple[str, str, int], float] = defaultdict(float)
    for unit, records in by_unit.items():
        cuts: set[datetime] = set()
        for r in records:
            start, end = instant(r["timeFrom"]), instant(r["timeTo"])
            cuts |= {start, end, *half_hour_cuts(start, end)}
        ordered = sorted(cuts)
        for lo, hi in pairwise(ordered):
            covering = [
                r for r in records if instant(r["timeFrom"]) <= lo and instant(r["timeTo"]) >= hi
            ]
            if not covering:
                continue
            latest = max(covering, key=lambda r: r["acceptanceNumber"])
            day, period = to_settlement_period(lo)
            hours = (hi - lo).total_seconds() / 3600
            energy[(unit, day.isoformat(), period)] += (
                (level_at(latest, lo) + level_at(latest, hi)) / 2 * hours
            )
    return energy


def summed_acceptance_levels() -> float:
    """Energy under every segment's own level profile, added up (overlaps counted each time)."""
    return sum(
        (r["levelFrom"] + r["levelTo"])
        / 2
        * (instant(r["timeTo"]) - instant(r["timeFrom"])).total_seconds()
        / 3600
        for r in recorded_records(BOALF)
    )


# -- the warehouse ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def constraint_marts(tmp_path_factory) -> Iterator[Cli]:
    with ReplayServer() as server:
        for name, served in SPEC_EXAMPLES.items():
            endpoint = CATALOGUE.get(name)
            server.state.add(
                "/bmrs" + endpoint.path.replace("{settlementDate}", SPEC_DAY),
                RecordSet(records=spec_example(name) if served else [], shape=endpoint.shape),
            )
        cli = make_cli(tmp_path_factory.mktemp("constraint"), server)
        load_recorded_boalf(cli)
        load_bmrs(cli, *SPEC_EXAMPLES, start=SPEC_DAY, end="2023-03-02")
        build_models(cli, "+fct_top_constrained_units", "+fct_top_constrained_regions")
        yield cli


def test_each_acceptance_counts_once_per_day(constraint_marts):
    expected = {
        day: (len(accepted), sum(accepted.values()))
        for day, accepted in acceptances_by_day().items()
    }
    actual = {
        day: (count, so_flagged)
        for day, count, so_flagged in constraint_marts.query(
            "select settlement_date::varchar, sum(acceptance_count), sum(so_flagged_acceptance_count) "
            "from marts.fct_constraint_actions_daily where settlement_date >= '2024-01-01' group by 1"
        )
    }
    assert actual == expected
    # the figures: 328 (20 flagged) when counted once per period touched
    assert actual["2024-05-02"] == (271, 12)


def test_each_acceptance_counts_once_per_unit(constraint_marts):
    expected: dict[str, set[int]] = defaultdict(set)
    for accepted in acceptances_by_day().values():
        for (unit, number), so_flagged in accepted.items():
            if so_flagged:
                expected[unit].add(number)
    actual = dict(
        constraint_marts.query(
            "select national_grid_bm_unit, so_flagged_acceptance_count from marts.fct_top_constrained_units"
        )
    )
    assert actual == {unit: len(numbers) for unit, numbers in expected.items()}
    assert actual["DRAXX-3"] == 4


def test_instructed_energy_per_unit_period_lets_later_acceptances_replace_earlier(
    constraint_marts,
):
    expected = instructed_energy_by_unit_period()
    actual = {
        (unit, day, period): mwh
        for unit, day, period, mwh in constraint_marts.query(
            "select national_grid_bm_unit, settlement_date::varchar, settlement_period, "
            "instructed_energy_mwh from marts.fct_acceptances_by_unit_period "
            "where instructed_energy_mwh is not null"
        )
    }
    assert set(actual) == set(expected)
    assert all(abs(actual[k] - expected[k]) < 1e-6 for k in expected)
    # the figures: 2,097.7 MWh with overlaps added up, 1,264.0 under the superseding profile
    assert round(sum(expected.values()), 1) == 1264.0
    assert round(summed_acceptance_levels(), 1) == 2097.7
    summed = constraint_marts.query(
        "select sum(accepted_level_mwh), sum(instructed_energy_mwh) from marts.fct_acceptances_by_unit_period"
    )
    assert summed[0][0] == pytest.approx(summed_acceptance_levels(), abs=1e-6)
    assert summed[0][1] == pytest.approx(sum(expected.values()), abs=1e-6)


def test_overlapping_acceptances_show_as_overlapped_minutes(constraint_marts):
    # DRAXX-3's acceptances 184427-184430 are stacked: the instructed energy is below the sum
    rows = constraint_marts.query(
        "select sum(overlapped_minutes), sum(accepted_level_mwh) - sum(instructed_energy_mwh) "
        "from marts.fct_acceptances_by_unit_period where national_grid_bm_unit = 'DRAXX-3'"
    )
    assert rows[0][0] > 0 and rows[0][1] > 1


def test_boalf_alone_says_its_energy_is_the_instructed_level(constraint_marts):
    rows = constraint_marts.query(
        "select distinct energy_basis, so_flagged_volume_mwh is null, indicative_cashflow_gbp is null "
        "from marts.fct_constraint_actions_daily where settlement_date >= '2024-01-01'"
    )
    assert rows == [("instructed_level", True, True)]
    assert constraint_marts.query(
        "select distinct energy_basis from marts.fct_top_constrained_units"
    ) == [("instructed_level",)]


def test_spec_example_acceptance_volume_is_the_period_volume(constraint_marts):
    (example,) = spec_example("BALANCING_SETTLEMENT_ACCEPTANCE_VOLUMES_ALL_BID")
    row = constraint_marts.query(
        "select accepted_volume_mwh, bid_volume_mwh, offer_volume_mwh, acceptance_count, "
        "so_flagged_volume_mwh from marts.fct_acceptances_by_unit_period "
        f"where national_grid_bm_unit = '{example['nationalGridBmUnit']}' "
        f"and settlement_date = '{example['settlementDate']}' "
        f"and settlement_period = {example['settlementPeriod']}"
    )
    # no BOALF row says whether acceptance 76110 was system-flagged: its flagged volume is unknown
    assert row == [(example["totalVolumeAccepted"], example["totalVolumeAccepted"], 0.0, 1, None)]
    assert example["totalVolumeAccepted"] == -75.725
    daily = constraint_marts.query(
        "select accepted_volume_mwh, instructed_energy_mwh from marts.fct_constraint_actions_daily "
        f"where national_grid_bm_unit = '{example['nationalGridBmUnit']}'"
    )
    assert daily == [(pytest.approx(-75.725), None)]


def test_spec_example_cashflow_is_the_cost(constraint_marts):
    (example,) = spec_example("BALANCING_SETTLEMENT_INDICATIVE_CASHFLOWS_ALL_OFFER")
    period = constraint_marts.query(
        "select indicative_cashflow_gbp from marts.fct_acceptances_by_unit_period "
        f"where national_grid_bm_unit = '{example['nationalGridBmUnit']}' "
        f"and settlement_date = '{example['settlementDate']}' "
        f"and settlement_period = {example['settlementPeriod']}"
    )
    assert period == [(pytest.approx(example["totalCashflow"]),)]
    daily = constraint_marts.query(
        "select indicative_cashflow_gbp, estimated_cost_gbp, cost_basis "
        "from marts.fct_constraint_actions_daily "
        f"where national_grid_bm_unit = '{example['nationalGridBmUnit']}'"
    )
    assert daily == [
        (
            pytest.approx(28080.002),
            pytest.approx(example["totalCashflow"]),
            "indicative_cashflow",
        )
    ]


def test_spec_examples_are_what_the_spec_says():
    # the records served above are the spec's own example, read from the spec the project ships
    spec = json.loads(SPEC_PATH.read_text())
    path = "/balancing/settlement/acceptance/volumes/all/{bidOffer}/{settlementDate}"
    body = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert body["data"] == spec_example("BALANCING_SETTLEMENT_ACCEPTANCE_VOLUMES_ALL_BID")
