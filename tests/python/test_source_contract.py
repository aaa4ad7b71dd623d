"""What every source of the registry must do, checked the same way for each (the base test a
new source passes before it is listed): its catalogue is sane, a range is planned as windows
that cover it exactly once, a recorded window loads through the real loader, loading it again
changes nothing, and a body cut in transit fails its window and lands nothing.

Each source's case is one of its recorded real responses (tests/data/recorded/) served by a
replay server of this module; the cut bodies are made from those real bytes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from loaders.settings import load_settings
from loaders.sources import registry
from loaders.sources.base import LoadRequest
from loaders.testing.replay import Fault, ReplayServer

from .conftest import Cli, make_cli


@dataclass(frozen=True)
class Case:
    """One source's recorded window: how to load it, where it lands, which request to cut."""

    source: str
    load: tuple[str, ...]  # after `gridwarehouse load <source>`
    table: str  # raw_<source>.<table>
    cut_path: str  # the replay path whose body is cut in transit
    cut_query: str = ""  # the recorded query of that path (to cut its real body)
    dataset: str = ""  # as the load log names it
    start: str | None = None
    end: str | None = None


CASES = {
    case.source: case
    for case in (
        Case(
            "bmrs",
            ("--dataset", "FUELHH", "--from", "2025-02-06", "--to", "2025-02-07"),
            "raw_bmrs.fuelhh",
            "/bmrs/datasets/FUELHH/stream",
            "settlementDateFrom=2025-02-06&settlementDateTo=2025-02-06",
            "FUELHH",
            "2025-02-06",
            "2025-02-07",
        ),
        Case(
            "neso",
            ("--dataset", "historic_demand"),
            "raw_neso.historic_demand",
            "/neso/dataset/historic-demand-data/resource/"
            "00000000-synthetic-resource-demanddata-2023/download/demanddata_2023.csv",
            dataset="historic_demand",
        ),
        Case(
            "dno",
            ("--dno", "UKPN", "--dataset", "powerflow"),
            "raw_dno.powerflow",
            "/dno/ukpn/api/explore/v2.1/catalog/datasets/"
            "ukpn-33kv-circuit-operational-data-half-hourly/exports/json",
            dataset="UKPN_powerflow",
        ),
        Case(
            "isone",
            ("--dataset", "hourly_system_load", "--from", "2024-03-10", "--to", "2024-03-11"),
            "raw_isone.hourly_system_load",
            "/isone/api/v1.1/hourlysysload/day/20240310",
            dataset="hourly_system_load",
            start="2024-03-10",
            end="2024-03-11",
        ),
    )
}
# columns that say when and by which load a row was written: a reload may change them
LOAD_COLUMNS = ("_dlt_load_id", "_dlt_id", "_loaded_at", "loaded_at")


def test_every_loadable_source_has_a_case_here() -> None:
    assert set(registry.loadable()) == set(CASES), "a new source needs its case in this suite"


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:  # its own: the faults injected here stay here
        yield server


@pytest.fixture
def scli(tmp_path: Path, replay: ReplayServer) -> Cli:
    return make_cli(tmp_path, replay)


# -- the catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_catalogue_is_sane(name: str) -> None:
    settings = load_settings(env={}, cwd=Path("/nonexistent"))
    source = registry.get(name)
    catalogue = source.catalogue(settings)
    names = [d.name for d in catalogue]
    assert catalogue and len(names) == len(set(names)), "named once each"
    for info in catalogue:
        # a whole-dataset snapshot that declares no key is keyed on every column it has
        # (loaders/common/jsonrows.py); a windowed dataset must name its key
        assert all(info.keys) and (info.keys or info.window == "whole dataset"), info
        assert info.cadence and info.window and info.table, info
    every = {n.lower() for n in names}
    assert {n.lower() for n in source.scheduled(settings, None)} <= every, "scheduled: listed"


# -- planning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.start])
def test_a_range_is_planned_as_windows_that_cover_it_exactly_once(name: str, tmp_path) -> None:
    case = CASES[name]
    env = {"GRIDWAREHOUSE_DATA_DIR": str(tmp_path), "ISONE_USERNAME": "u", "ISONE_PASSWORD": "p"}
    settings = load_settings(env=env, cwd=tmp_path)
    source = registry.get(name)
    dataset = case.load[case.load.index("--dataset") + 1]
    plan = source.plan_load(
        settings, LoadRequest(names=(dataset,), start="2024-01-01", end="2024-01-08")
    )
    assert not plan.initial_results, plan.initial_results  # nothing refused before fetching
    windows = sorted({(t.window.start, t.window.end) for t in plan.tasks})
    assert windows, plan
    # the range's first and last day (a source's day may start at its local midnight)
    assert windows[0][0].date() == date(2024, 1, 1) and windows[-1][1].date() == date(2024, 1, 8)
    assert windows[-1][1] - windows[0][0] == timedelta(days=7)
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert end == start, f"{name}: a gap or an overlap at {end} / {start}"


# -- loading ----------------------------------------------------------------------------------


def _content(cli: Cli, table: str) -> list[tuple]:
    columns = [
        c
        for (c,) in cli.query(
            "select column_name from information_schema.columns where table_schema || '.' || "
            f"table_name = '{table}' order by ordinal_position"
        )
        if c not in LOAD_COLUMNS
    ]
    assert columns, f"{table} exists"
    listed = ", ".join(f'"{c}"' for c in columns)
    return cli.query(f"select {listed} from {table} order by all")


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_recorded_window_loads_and_loading_it_again_changes_nothing(name: str, scli: Cli) -> None:
    case = CASES[name]
    first = scli.run("load", name, *case.load)
    assert first.returncode == 0, first.stderr
    statuses = scli.query(f"select distinct status from ops.load_log where source = '{name}'")
    assert statuses and {s for (s,) in statuses} <= {"ok", "empty"}, statuses
    rows = _content(scli, case.table)
    logged = scli.query(f"select sum(rows) from ops.load_log where source = '{name}'")[0][0]
    assert len(rows) > 0 and logged >= len(rows), (len(rows), logged)

    logged_before = scli.query("select count(*) from ops.load_log")[0][0]
    # NESO skips a file whose version it has: --force asks for it again
    again = scli.run("load", name, *case.load, *(("--force",) if name == "neso" else ()))
    assert again.returncode == 0, again.stderr
    assert scli.query("select count(*) from ops.load_log")[0][0] > logged_before, "fetched again"
    assert _content(scli, case.table) == rows, "a reload changes nothing"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_body_cut_in_transit_fails_its_window_and_lands_nothing(
    name: str, scli: Cli, replay: ReplayServer
) -> None:
    case = CASES[name]
    whole = replay.state.respond(case.cut_path, case.cut_query)[2]
    assert len(whole) > 200, "the recorded body is served"
    cut = Fault(status=200, body=whole[: len(whole) // 2], content_type="application/json")
    replay.state.inject(case.cut_path, [cut] * 3)  # the first try and both retries
    try:
        result = scli.run("load", name, *case.load)
    finally:
        replay.state.faults.pop(case.cut_path, None)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    failed = scli.query(
        f"select error from ops.load_log where source = '{name}' and status = 'failed'"
    )
    assert failed and all(error for (error,) in failed), "failed, with its reason"
    landed = scli.query(
        "select count(*) from information_schema.tables where table_schema || '.' || "
        f"table_name = '{case.table}'"
    )
    if landed and landed[0][0]:
        assert scli.query(f"select count(*) from {case.table}")[0][0] == 0, "nothing landed"
