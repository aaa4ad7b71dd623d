"""Each source as a dlt source in a user's own pipeline (docs/dlt-sources.md, issue 20).

The code blocks marked `example:` in docs/dlt-sources.md run as written (so the docs cannot
drift) against the project's replay server of recorded real responses, into a fresh DuckDB file
of their own: the rows equal the recorded records' distinct natural keys; a second run adds no
rows and, for the sources with windows, sends no request; a cut body fails the run with nothing
of it loaded. The BMRS example also runs into the BigQuery emulator (`make test-bigquery`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
import orjson
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from loaders.testing.replay import Fault, ReplayServer, settings_env

from .conftest import RECORDED, ROOT
from .test_bigquery_parity import PROJECT, bigquery_rows, emulator  # noqa: F401 (a fixture)

DOC = ROOT / "docs" / "dlt-sources.md"
SECRET = "s20dKEY987secret"
FUELHH = RECORDED / "bmrs" / "FUELHH" / "fuelhh_2025-02-06_sp2-11_derived_from_csv.json"
FUELHH_PATH = "/bmrs/datasets/FUELHH/stream"
BOALF = RECORDED / "bmrs" / "BOALF" / "boalf_stream_2024-05-01.json"
BOALF_SPLIT = "2024-05-01T23:30:00Z"
ISONE_DAY2_PATH = "/isone/api/v1.1/hourlysysload/day/20240310"
NESO_CSV = RECORDED / "neso" / "historic_demand" / "historic_demand_year_2023.csv"
NESO_DOWNLOAD = (
    "/neso/dataset/historic-demand-data/resource/00000000-synthetic-resource-demanddata-2023"
    "/download/demanddata_2023.csv"
)
UKPN_CSV = (
    RECORDED
    / "dno"
    / "ukpn_powerflow"
    / "powerflow_raw_Brighton_Local_33kV_2024-01-01_to_2024-04-01.csv"
)
UKPN_EXPORT = (
    "/dno/ukpn/api/explore/v2.1/catalog/datasets/ukpn-33kv-circuit-operational-data-half-hourly"
    "/exports/json"
)


def doc_example(source: str) -> str:
    """The code block after `<!-- example: <source> -->` in docs/dlt-sources.md."""
    found = re.search(
        rf"<!-- example: {source} -->\s*```python\n(.*?)```", DOC.read_text(), re.DOTALL
    )
    assert found, f"docs/dlt-sources.md has no example for {source}"
    return found.group(1)


def test_the_readme_shows_the_tested_bmrs_example() -> None:
    """The README's dlt example is the one these tests run from docs/dlt-sources.md."""
    readme = (DOC.parents[1] / "README.md").read_text()
    found = re.search(r"<!-- example: bmrs -->\s*```python\n(.*?)```", readme, re.DOTALL)
    assert found and found.group(1) == doc_example("bmrs")


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:  # its own: the faults injected here stay here
        yield replay


@pytest.fixture
def user_dir(tmp_path: Path, server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's working folder: settings point the sources at the replay server, dlt keeps its
    pipelines here, and the examples' DuckDB files land here."""
    import os

    for name in list(os.environ):
        if name.startswith(("GRIDWAREHOUSE_", "ISONE_", "DESTINATION__")) or name.endswith(
            ("_API_TOKEN", "_API_KEYS")
        ):
            monkeypatch.delenv(name)
    env = {
        **settings_env(server),
        "GRIDWAREHOUSE_DATA_DIR": str(tmp_path / "data"),
        "GRIDWAREHOUSE_HTTP_MAX_RETRIES": "0",  # one request per window: one fault each
        "GRIDWAREHOUSE_HTTP_BACKOFF_BASE_S": "0.01",
        "GRIDWAREHOUSE_HTTP_TIMEOUT_S": "5",
        "ISONE_USERNAME": "replay-user",  # the replay server asks for none; the loader needs some
        "ISONE_PASSWORD": "replay-password",
        "BMRS_API_KEYS": SECRET,
        "DLT_DATA_DIR": str(tmp_path / "dlt"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }
    for source in ("BMRS", "NESO", "DNO", "ISONE"):
        env[f"GRIDWAREHOUSE_{source}_REQUESTS_PER_S"] = "0"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_example(source: str, **names: Any) -> Any:
    """Run the docs' example for `source`; returns the pipeline it made."""
    namespace: dict[str, Any] = dict(names)
    exec(compile(doc_example(source), f"docs/dlt-sources.md ({source})", "exec"), namespace)
    return namespace["pipeline"]


def query(folder: Path, source: str, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(folder / f"{source}.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def table_rows(folder: Path, source: str, table: str) -> int:
    """Rows in raw_<source>.<table> of the example's DuckDB file; 0 when there is no table."""
    if not (folder / f"{source}.duckdb").exists():
        return 0
    exists = query(
        folder,
        source,
        "select 1 from information_schema.tables where table_schema = "
        f"'raw_{source}' and table_name = '{table}'",
    )
    return (
        query(folder, source, f"select count(*) from raw_{source}.{table}")[0][0] if exists else 0
    )


def requests_during(server: ReplayServer, action: Any) -> list[str]:
    before = len(server.state.requests)
    action()
    return server.state.requests[before:]


def cut(body: bytes, n: int, separator: bytes = b"},") -> bytes:
    """A real body cut just after its n-th record (a synthetic fault made from real bytes)."""
    at = -1
    for _ in range(n):
        at = body.index(separator, at + 1)
    return body[: at + len(separator)]


def served(server: ReplayServer, path: str, query_text: str = "") -> bytes:
    return server.state.respond(path, query_text)[2]


def isone_records(kind: str, day: str, root: tuple[str, str]) -> list[dict[str, Any]]:
    body = json.loads((RECORDED / "isone" / kind / f"{kind}_{day}.json").read_text())
    return body[root[0]][root[1]]


def isone_records_at(
    kind: str, day: str, location: str, root: tuple[str, str]
) -> list[dict[str, Any]]:
    [path] = (RECORDED / "isone" / kind).glob(f"*{day}*{location}*.json")
    body = json.loads(path.read_text())
    return body[root[0]][root[1]]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- BMRS ------------------------------------------------------------------------------------


def fuelhh_keys() -> set[tuple[date, int, str]]:
    records = orjson.loads(FUELHH.read_bytes())
    records = records["data"] if isinstance(records, dict) else records
    return {
        (date.fromisoformat(r["settlementDate"]), int(r["settlementPeriod"]), r["fuelType"])
        for r in records
        if r["settlementDate"] == "2025-02-06"
    }


def test_bmrs_example_loads_every_recorded_key_and_a_second_run_asks_for_nothing(user_dir, server):
    pipeline = run_example("bmrs")
    keys = fuelhh_keys()
    rows = query(
        user_dir,
        "bmrs",
        "select settlement_date, settlement_period, fuel_type from raw_bmrs.fuelhh",
    )
    assert len(rows) == len(keys) == 200
    assert set(rows) == keys

    again = requests_during(server, lambda: run_example("bmrs"))
    assert again == []  # the settlement day is loaded: no request, not even for it
    assert table_rows(user_dir, "bmrs", "fuelhh") == 200

    table = pipeline.default_schema.tables["fuelhh"]
    assert table["write_disposition"] == "merge"
    key = [name for name, column in table["columns"].items() if column.get("primary_key")]
    assert key == ["settlement_date", "settlement_period", "fuel_type"]
    state = pipeline.state["sources"]["bmrs"]["resources"]["fuelhh"]
    assert state["incremental"]["settlement_date"]["last_value"] == date(2025, 2, 6)


def test_bmrs_later_end_asks_only_for_the_new_settlement_day(user_dir, server):
    from loaders.sources.bmrs import bmrs_source

    run_example("bmrs")
    pipeline = run_example("bmrs")
    asked = requests_during(
        server,
        lambda: pipeline.run(
            bmrs_source(datasets=["FUELHH"], start="2025-02-06", end="2025-02-08")
        ),
    )
    day = f"{FUELHH_PATH}?settlementDateFrom=2025-02-07&settlementDateTo=2025-02-07"
    assert asked == [f"{day}&APIKey={SECRET}"]  # the key goes to the API, in no message
    assert table_rows(user_dir, "bmrs", "fuelhh") == 200  # nothing recorded for the 7th


def test_bmrs_publish_time_windows_resume_from_the_last_window_end(user_dir, server):
    """BOALF is asked for by `timeFrom` windows: its cursor; a later end asks only the rest."""
    from loaders.sources.bmrs import bmrs_source

    pipeline = run_example("bmrs")
    recorded = orjson.loads(BOALF.read_bytes())
    keys = {(r["nationalGridBmUnit"], r["acceptanceNumber"], r["timeFrom"]) for r in recorded}
    first = pipeline.run(bmrs_source(datasets=["BOALF"], start="2024-05-01", end=BOALF_SPLIT))
    assert not first.has_failed_jobs
    # the API's `to` is inclusive, as the replay server's: the split instant comes in both runs
    before = {k for k in keys if k[2] <= BOALF_SPLIT}
    assert table_rows(user_dir, "bmrs", "boalf") == len(before) > 0

    def rest() -> Any:
        return pipeline.run(bmrs_source(datasets=["BOALF"], start="2024-05-01", end="2024-05-02"))

    asked = requests_during(server, rest)
    assert [a.split("&APIKey=")[0] for a in asked] == [
        "/bmrs/datasets/BOALF/stream?from=2024-05-01T23%3A30%3A00Z&to=2024-05-02T00%3A00%3A00Z"
    ]
    assert table_rows(user_dir, "bmrs", "boalf") == len(keys) == 1000
    state = pipeline.state["sources"]["bmrs"]["resources"]["boalf"]["incremental"]["time_from"]
    assert state["last_value"] == datetime.fromisoformat(max(k[2] for k in keys))


def test_bmrs_rows_behind_the_cursor_fail_the_run_instead_of_being_dropped(user_dir, server):
    """A body for the next window holding rows of the window already loaded (the real BOALF
    body served again: a synthetic fault) would be filtered out by dlt's cursor, and the
    window would load short; the run fails instead."""
    from loaders.sources.bmrs import bmrs_source

    pipeline = run_example("bmrs")
    pipeline.run(bmrs_source(datasets=["BOALF"], start="2024-05-01", end="2024-05-02"))
    server.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=200, body=BOALF.read_bytes())])
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline.run(bmrs_source(datasets=["BOALF"], start="2024-05-01", end="2024-05-03"))
    assert "dlt's cursor would drop it" in str(failed.value)
    assert table_rows(user_dir, "bmrs", "boalf") == 1000


def test_bmrs_start_before_what_was_loaded_is_refused_not_skipped(user_dir):
    from loaders.sources.bmrs import bmrs_source

    pipeline = run_example("bmrs")
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline.run(bmrs_source(datasets=["FUELHH"], start="2025-02-05", end="2025-02-07"))
    assert "this pipeline has loaded from 2025-02-06T00:00Z on" in str(failed.value)


def test_bmrs_snapshot_dataset_replaces_and_keys_with_nulls_merge_on_natural_key(user_dir):
    from loaders.sources.bmrs import bmrs_source

    pipeline = run_example("bmrs")
    for _ in range(2):
        pipeline.run(bmrs_source(datasets=["BMUNITS"]))
    table = pipeline.default_schema.tables["bmunits"]
    assert table["write_disposition"] == "replace"
    assert [n for n, c in table["columns"].items() if c.get("primary_key")] == ["_natural_key"]
    registry = json.loads((RECORDED / "routes.json").read_text())["routes"]
    [route] = [r for r in registry if r["recorded_request"] == "/reference/bmunits/all"]
    with (RECORDED / route["file"]).open(newline="") as fh:
        units = list(csv.DictReader(fh))
    assert table_rows(user_dir, "bmrs", "bmunits") == len(units) == 2783


def test_bmrs_cut_body_fails_the_run_and_loads_nothing(user_dir, server):
    whole = served(server, FUELHH_PATH, "settlementDateFrom=2025-02-06&settlementDateTo=2025-02-06")
    server.state.inject(FUELHH_PATH, [Fault(status=200, body=cut(whole, 100))])
    with pytest.raises(PipelineStepFailed) as failed:
        run_example("bmrs")
    message = str(failed.value)
    assert "the body was cut off" in message
    assert SECRET not in message
    assert table_rows(user_dir, "bmrs", "fuelhh") == 0
    stored = [f for f in (user_dir / "dlt").rglob("*") if f.is_file()]  # state, trace, packages
    assert stored and not [f for f in stored if SECRET.encode() in f.read_bytes()]

    run_example("bmrs")  # the failed day was not marked loaded: asked again, and whole
    assert table_rows(user_dir, "bmrs", "fuelhh") == 200


# -- NESO ------------------------------------------------------------------------------------


def neso_keys() -> set[tuple[str, str]]:
    with NESO_CSV.open(newline="", encoding="utf-8-sig") as fh:
        return {(r["settlement_date"], r["settlement_period"]) for r in csv.DictReader(fh)}


def test_neso_example_loads_every_recorded_key_and_downloads_an_unchanged_file_once(
    user_dir, server
):
    asked = requests_during(server, lambda: run_example("neso"))
    assert NESO_DOWNLOAD in asked
    assert table_rows(user_dir, "neso", "historic_demand") == len(neso_keys()) == 17520
    distinct = (
        "select count(distinct (settlement_date, settlement_period)) from raw_neso.historic_demand"
    )
    assert query(user_dir, "neso", distinct)[0][0] == 17520

    again = requests_during(server, lambda: run_example("neso"))
    assert NESO_DOWNLOAD not in again  # the package is listed; the file has not changed
    assert table_rows(user_dir, "neso", "historic_demand") == 17520


def test_neso_cut_file_fails_the_run_and_loads_nothing(user_dir, server):
    whole = served(server, NESO_DOWNLOAD)
    server.state.inject(NESO_DOWNLOAD, [Fault(status=200, body=whole[: len(whole) // 2])])
    with pytest.raises(PipelineStepFailed) as failed:
        run_example("neso")
    assert "the file was cut off" in str(failed.value)
    assert table_rows(user_dir, "neso", "historic_demand") == 0
    run_example("neso")  # no version was recorded for the cut file: downloaded again
    assert table_rows(user_dir, "neso", "historic_demand") == 17520


# -- DNO -------------------------------------------------------------------------------------


def ukpn_keys() -> set[tuple[str, str]]:
    with UKPN_CSV.open(newline="", encoding="utf-8-sig") as fh:
        return {(r["timestamp"], r["tx_id"]) for r in csv.DictReader(fh)}


def test_dno_example_loads_every_recorded_key_and_a_new_snapshot_replaces_it(user_dir, server):
    pipeline = run_example("dno")
    assert table_rows(user_dir, "dno", "powerflow") == len(ukpn_keys()) == 8820
    assert query(user_dir, "dno", "select distinct dno from raw_dno.powerflow") == [("UKPN",)]

    asked = requests_during(server, lambda: run_example("dno"))
    assert asked == [UKPN_EXPORT]  # a snapshot is taken again each run ...
    assert table_rows(user_dir, "dno", "powerflow") == 8820  # ... and replaces UKPN's rows
    table = pipeline.default_schema.tables["powerflow"]
    assert [n for n, c in table["columns"].items() if c.get("merge_key")] == ["dno"]


def test_dno_cut_export_fails_the_run_and_keeps_the_previous_snapshot(user_dir, server):
    run_example("dno")
    whole = served(server, UKPN_EXPORT)
    server.state.inject(UKPN_EXPORT, [Fault(status=200, body=cut(whole, 100))])
    with pytest.raises(PipelineStepFailed) as failed:
        run_example("dno")
    assert "the body was cut off" in str(failed.value)
    assert table_rows(user_dir, "dno", "powerflow") == 8820  # not replaced by 100 rows


# -- ISO-NE ----------------------------------------------------------------------------------


def isone_keys() -> tuple[set[tuple[datetime, str]], set[tuple[datetime, str]]]:
    days = ("20240309", "20240310")
    load = {
        (instant(r["BeginDate"]), r["Location"]["@LocId"])
        for day in days
        for r in isone_records("hourlysysload", day, ("HourlySystemLoads", "HourlySystemLoad"))
    }
    mix = {
        (instant(r["BeginDate"]), r["FuelCategory"])
        for day in days
        for r in isone_records("genfuelmix", day, ("GenFuelMixes", "GenFuelMix"))
    }
    return load, mix


def test_isone_example_loads_every_recorded_key_and_a_second_run_asks_for_nothing(user_dir, server):
    pipeline = run_example("isone")
    load_keys, mix_keys = isone_keys()
    load = query(user_dir, "isone", "select begin_date, loc_id from raw_isone.hourly_system_load")
    assert len(load) == len(load_keys) == 47  # 9 March, and 10 March: 23 hours (spring forward)
    assert set(load) == load_keys
    mix = query(user_dir, "isone", "select begin_date, fuel_category from raw_isone.fuel_mix")
    assert len(mix) == len(mix_keys) and set(mix) == mix_keys

    again = requests_during(server, lambda: run_example("isone"))
    assert again == []
    assert table_rows(user_dir, "isone", "hourly_system_load") == 47
    state = pipeline.state["sources"]["isone"]["resources"]["hourly_system_load"]
    assert "begin_date" in state["incremental"]


def test_isone_location_added_later_loads_its_days_from_start(user_dir, server):
    """Each location keeps its own cursor: one added later is not behind another's."""
    from loaders.sources.isone import isone_source

    pipeline = run_example("isone")
    days = {"start": "2024-03-09", "end": "2024-03-11"}
    pipeline.run(isone_source(datasets=["da_hourly_demand"], locations=["4001"], **days))
    asked = requests_during(
        server,
        lambda: pipeline.run(
            isone_source(datasets=["da_hourly_demand"], locations=["4001", "4002"], **days)
        ),
    )
    assert sorted(asked) == [
        "/isone/api/v1.1/dayaheadhourlydemand/day/20240309/location/4002",
        "/isone/api/v1.1/dayaheadhourlydemand/day/20240310/location/4002",
    ]
    root = ("HourlyDaDemands", "HourlyDaDemand")
    keys = {
        (instant(r["BeginDate"]), r["Location"]["@LocId"])
        for day in ("20240309", "20240310")
        for location in ("4001", "4002")
        for r in isone_records_at("dayaheadhourlydemand", day, location, root)
    }
    rows = query(user_dir, "isone", "select begin_date, loc_id from raw_isone.da_hourly_demand")
    assert len(rows) == len(keys) and set(rows) == keys


def test_isone_cut_second_day_fails_the_run_and_loads_neither_day(user_dir, server):
    whole = served(server, ISONE_DAY2_PATH)
    server.state.inject(ISONE_DAY2_PATH, [Fault(status=200, body=cut(whole, 5))] * 2)
    with pytest.raises(PipelineStepFailed):
        run_example("isone")
    assert table_rows(user_dir, "isone", "hourly_system_load") == 0  # not even 9 March
    failed = dlt.attach(pipeline_name="isone")
    assert not failed.has_pending_data  # 9 March's rows are not left to load on the next run
    assert "covered" not in failed.state.get("sources", {}).get("isone", {}).get(
        "resources", {}
    ).get("hourly_system_load", {})
    server.state.faults.pop(ISONE_DAY2_PATH, None)


# -- BigQuery --------------------------------------------------------------------------------


@pytest.mark.bigquery
def test_bmrs_example_loads_into_bigquery(user_dir, server, emulator, monkeypatch):  # noqa: F811
    from dlt.common.configuration.specs import GcpServiceAccountCredentials
    from dlt.common.configuration.specs.gcp_credentials import GcpDefaultCredentials
    from google.auth.credentials import AnonymousCredentials

    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", emulator)
    monkeypatch.setenv("DATA_WRITER__DISABLE_COMPRESSION", "true")  # the emulator reads jsonl
    credentials = GcpServiceAccountCredentials()
    credentials.project_id = PROJECT
    GcpDefaultCredentials.parse_native_representation(credentials, AnonymousCredentials())
    destination = dlt.destinations.bigquery(credentials=credentials, location="US")
    # the docs' own code, with the destination its BigQuery paragraph names
    code = doc_example("bmrs").replace('destination="duckdb"', "destination=destination")
    for _ in range(2):
        namespace = {"destination": destination}
        exec(compile(code, "docs/dlt-sources.md (bmrs, BigQuery)", "exec"), namespace)
    rows = bigquery_rows(
        emulator,
        f"select settlement_date, settlement_period, fuel_type from `{PROJECT}.raw_bmrs.fuelhh`",
    )
    assert len(rows) == 200
    assert set(rows) == fuelhh_keys()
