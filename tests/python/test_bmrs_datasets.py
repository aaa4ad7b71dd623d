"""Every BMRS dataset loads; each window shape on recorded real data; revisions, drift, faults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loaders.common.timeutil import to_settlement_period
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.testing.replay import Fault, RecordSet, ReplayServer

from .conftest import make_cli, recorded_records
from .spec_records import body_records, records_for

CATALOGUE = load_catalogue()


@pytest.fixture
def private_replay():
    with ReplayServer() as server:
        yield server


# -- every dataset --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def every_dataset(tmp_path_factory):
    """A warehouse with one window of every catalogue dataset, loaded with `--all`."""
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    day, period = to_settlement_period(moment)
    with ReplayServer(routes_file=None) as server:
        sources = {}
        for endpoint in CATALOGUE:
            records, origin = records_for(endpoint)
            sources[endpoint.name] = (len(records), origin)
            path = endpoint.path.replace("{settlementDate}", day.isoformat())
            path = path.replace("{settlementPeriod}", str(period))
            server.state.add(
                f"/bmrs{path}",
                RecordSet(records=body_records(endpoint, records), shape=endpoint.shape),
            )
        cli = make_cli(tmp_path_factory.mktemp("every"), server)
        result = cli.run(
            "load", "bmrs", "--all", "--from", "2024-05-01T00:00", "--to", "2024-05-01T00:30"
        )
        yield cli, result, sources


@pytest.mark.slow
def test_every_dataset_in_the_spec_is_listed_and_loads(every_dataset):
    cli, result, sources = every_dataset
    assert result.returncode == 0, result.stdout[-3000:]
    listed = {
        r[0] for r in cli.query("select distinct dataset from ops.load_log where status = 'ok'")
    }
    assert listed == set(CATALOGUE.names()) == set(sources)
    for endpoint in CATALOGUE:
        assert cli.count(f"raw_bmrs.{endpoint.table}") == sources[endpoint.name][0], endpoint.name
    assert sum(origin == "spec example" for _, origin in sources.values()) > 100


@pytest.mark.slow
def test_every_generated_staging_model_builds_on_its_loaded_raw_table(every_dataset):
    cli, _, _ = every_dataset
    result = cli.run("build")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "ERROR=0" in result.stdout


# -- window shapes on recorded real data ------------------------------------------------------


def test_date_window_shape_on_recorded_demand_outturn(cli):
    result = cli.run(
        "load",
        "bmrs",
        "--dataset",
        "DEMAND_OUTTURN_DAILY",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-08",
    )
    assert result.returncode == 0, result.stderr
    assert cli.count("raw_bmrs.demand_outturn_daily") == 7
    assert cli.query("select rows from ops.load_log") == [(7,)]  # one request for the 7 days


def test_period_window_shape_on_recorded_disbsad(cli):
    # settlement period 40 of 2024-05-01 (BST) is 18:30-19:00 UTC
    result = cli.run(
        "load",
        "bmrs",
        "--dataset",
        "BALANCING_NONBM_DISBSAD_DETAILS",
        "--from",
        "2024-05-01T18:00",
        "--to",
        "2024-05-01T19:30",
    )
    assert result.returncode == 0, result.stderr
    assert cli.count("raw_bmrs.balancing_nonbm_disbsad_details") == 2
    assert cli.query("select rows, status from ops.load_log order by window_start") == [
        (0, "empty"),
        (2, "ok"),
        (0, "empty"),
    ]


def test_datetime_window_on_publish_time_with_recorded_atl(cli):
    result = cli.run(
        "load", "bmrs", "--dataset", "ATL", "--from", "2024-05-01", "--to", "2024-05-03"
    )
    assert result.returncode == 0
    assert cli.count("raw_bmrs.atl") == len(recorded_records("bmrs/ATL/atl_2024-05-01.json")) == 48


# -- revisions and drift ------------------------------------------------------------------------


def test_a_revised_record_updates_in_place(tmp_path, private_replay):
    cli = make_cli(tmp_path, private_replay)
    route = private_replay.state.routes["/bmrs/datasets/BOALF/stream"]
    original = [dict(r) for r in route.records]
    assert (
        cli.run(
            "load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-02"
        ).returncode
        == 0
    )
    key = (
        original[0]["nationalGridBmUnit"],
        original[0]["acceptanceNumber"],
        original[0]["timeFrom"],
    )
    route.records[0] = dict(original[0], levelTo=original[0]["levelTo"] + 7, amendmentFlag="AMD")
    route.exact.clear()
    assert (
        cli.run(
            "load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-02"
        ).returncode
        == 0
    )
    assert cli.count("raw_bmrs.boalf") == 1000
    where = f"national_grid_bm_unit = '{key[0]}' and acceptance_number = {key[1]} and time_from = '{key[2]}'"
    assert cli.query(f"select level_to, amendment_flag from raw_bmrs.boalf where {where}") == [
        (original[0]["levelTo"] + 7, "AMD")
    ]


def test_a_new_field_is_recorded_and_loading_continues(tmp_path, private_replay):
    cli = make_cli(tmp_path, private_replay)
    route = private_replay.state.routes["/bmrs/datasets/MILS/stream"]
    route.records[:] = [dict(r, newFlag=True) for r in route.records]
    result = cli.run(
        "load", "bmrs", "--dataset", "MILS", "--from", "2024-05-01", "--to", "2024-05-02"
    )
    assert result.returncode == 0
    assert cli.count("raw_bmrs.mils") == 1000
    assert cli.query("select field, change from ops.schema_changes") == [("newFlag", "added")]
    assert "added field newFlag" in cli.query("select notes from ops.load_log")[0][0]
    assert cli.query("select distinct new_flag from raw_bmrs.mils") == [("true",)]


def test_a_type_change_fails_the_window_and_is_never_coerced_to_null(tmp_path, private_replay):
    cli = make_cli(tmp_path, private_replay)
    route = private_replay.state.routes["/bmrs/datasets/MILS/stream"]
    route.records[5] = dict(route.records[5], levelFrom="n/a")
    result = cli.run(
        "load", "bmrs", "--dataset", "MILS", "--from", "2024-05-01", "--to", "2024-05-02"
    )
    assert result.returncode == 1
    assert "field 'levelFrom' expected an integer but got 'n/a'" in result.stdout
    assert cli.count("raw_bmrs.mils") == 0
    assert cli.query("select field, change from ops.schema_changes") == [
        ("levelFrom", "type_change")
    ]
    assert cli.query("select status from ops.load_log") == [("failed",)]


def test_duplicate_keys_in_one_response_keep_the_latest_published(tmp_path, private_replay):
    cli = make_cli(tmp_path, private_replay)
    route = private_replay.state.routes["/bmrs/datasets/MILS/stream"]
    first = route.records[0]
    older = dict(first, levelFrom=-999, notificationTime="2024-01-01T00:00:00Z")
    route.records.append(older)  # the same key again, published earlier: must lose
    assert (
        cli.run(
            "load", "bmrs", "--dataset", "MILS", "--from", "2024-05-01", "--to", "2024-05-02"
        ).returncode
        == 0
    )
    assert cli.count("raw_bmrs.mils") == 1000
    assert cli.query(
        "select level_from from raw_bmrs.mils where _natural_key = "
        f'\'["{first["nationalGridBmUnit"]}",{first["notificationSequence"]},"{first["timeFrom"]}"]\''
    ) == [(first["levelFrom"],)]


# -- faults against a local server ---------------------------------------------------------------

LOAD = ("load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-02")


def test_429_with_retry_after_is_waited_out_and_recorded(cli, replay):
    replay.state.inject(
        "/bmrs/datasets/BOALF/stream", [Fault(status=429, headers={"Retry-After": "1"})]
    )
    result = cli.run(*LOAD)
    assert result.returncode == 0 and cli.count("raw_bmrs.boalf") == 1000
    assert cli.query("select status, attempts from ops.load_log") == [("ok", 2)]


def test_500_then_success_is_retried(cli, replay):
    replay.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=500)])
    assert cli.run(*LOAD).returncode == 0
    assert cli.query("select status, attempts, rows from ops.load_log") == [("ok", 2, 1000)]


def test_a_timeout_is_retried(cli, replay):
    replay.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=200, delay_s=6)])
    assert cli.run(*LOAD).returncode == 0
    assert cli.query("select status, attempts from ops.load_log") == [("ok", 2)]


def test_persistent_500_is_a_recorded_failure_while_other_datasets_load(cli, replay):
    replay.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=500)] * 3)
    result = cli.run(
        "load",
        "bmrs",
        "--dataset",
        "BOALF",
        "--dataset",
        "MILS",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-02",
    )
    assert result.returncode == 1
    assert "HTTP 500 from" in result.stdout and "BOALF" in result.stdout
    assert cli.count("raw_bmrs.boalf") == 0 and cli.count("raw_bmrs.mils") == 1000
    assert cli.query(
        "select dataset, status, attempts, error like 'HTTP 500 from http://127.0.0.1%' "
        "from ops.load_log order by 1"
    ) == [("BOALF", "failed", 3, True), ("MILS", "ok", 1, None)]


def test_an_empty_page_is_a_recorded_failure_not_an_empty_window(cli, replay):
    replay.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=200, body=b"")] * 3)
    result = cli.run(*LOAD)
    assert result.returncode == 1
    assert cli.query("select status, rows from ops.load_log") == [("failed", 0)]
    assert (
        "truncated or malformed JSON (0 bytes" in cli.query("select error from ops.load_log")[0][0]
    )


def test_an_empty_list_is_an_empty_window(cli, replay):
    replay.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=200, body=b"[]")])
    assert cli.run(*LOAD).returncode == 0
    assert cli.query("select status, rows from ops.load_log") == [("empty", 0)]
