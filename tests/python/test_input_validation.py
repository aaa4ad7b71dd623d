"""Bad input found before any request (issue 17, items 9, 13 and the IRIS_CONNECTION_STRING part
of 11): a range beyond what a dataset can have, a malformed setting, a malformed connection
string. Each is one line on stderr naming what is wrong, exit 2, and nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loaders.commands import latest_ends, refuse_future_range
from loaders.errors import UsageError
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.sources.isone.config import load_config
from loaders.sources.isone.plan import latest_range_ends

from .conftest import Cli

CATALOGUE = load_catalogue()


def assert_refused(cli: Cli, result, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("gridwarehouse:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not cli.duckdb_path.exists(), "nothing was written"


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


# -- item 9: ranges beyond now (plus a forecast's horizon) --------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("load", "bmrs", "--dataset", "BOALF", "--from", "2100-01-01", "--to", "2100-01-02"),
        ("load", "bmrs", "--dataset", "BOALF", "--from", "9999-12-30", "--to", "9999-12-31"),
        ("load", "bmrs", "--dataset", "BOALF", "--from", day(-1), "--to", day(2)),
        ("backfill", "bmrs", "--dataset", "BOALF", "--from", "2100-01-01", "--to", "2100-02-01"),
        ("load", "isone", "--dataset", "hourly_system_load", "--from", "2100-01-01",
         "--to", "2100-01-02"),
        ("backfill", "isone", "--dataset", "hourly_system_load", "--from", day(-2),
         "--to", day(3)),
    ],
    ids=["load 2100", "load 9999", "load to the day after tomorrow", "backfill 2100",
         "isone load 2100", "isone backfill past today"],
)  # fmt: skip
def test_a_range_beyond_now_is_bad_input(cli, args):
    result = cli.run(*args)
    assert_refused(cli, result, "after now", "the latest possible end is", "nothing was loaded")


@pytest.mark.parametrize("start", ["2100-01-01", "9999-12-31"])
def test_a_start_beyond_now_without_an_end_is_bad_input(cli, start):
    result = cli.run("load", "bmrs", "--dataset", "BOALF", "--from", start)
    assert_refused(cli, result, f"--from {start} is not before --to now")


def test_an_end_past_the_last_representable_instant_is_bad_input(cli):
    result = cli.run(
        "load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01",
        "--to", "9999-12-31T23:00-05:00",
    )  # fmt: skip
    assert_refused(cli, result, "--to '9999-12-31T23:00-05:00' is out of range")


def test_a_refused_future_range_leaves_incremental_loads_working(cli):
    assert cli.run("load", "bmrs", "--dataset", "BOALF", "--from", "2100-01-01").returncode == 2
    # the bug was an `empty` window in 2100 after which every incremental load had nothing to do
    result = cli.run("load", "bmrs", "--dataset", "BOALF")
    assert "nothing to load" not in result.stdout
    assert cli.query("select count(*) from ops.load_log where window_end > now()") == [(0,)]


def test_forecasts_may_reach_as_far_ahead_as_they_are_published():
    now = datetime.now(UTC)
    ends = latest_ends([CATALOGUE.get(n) for n in ("BOALF", "FORECAST_DEMAND_DAY_AHEAD_PEAK")])
    assert ends["BOALF"] <= datetime.now(UTC)
    assert ends["FORECAST_DEMAND_DAY_AHEAD_PEAK"] >= now + timedelta(days=2)
    refuse_future_range(
        now + timedelta(days=1), {"FORECAST": ends["FORECAST_DEMAND_DAY_AHEAD_PEAK"]}
    )
    with pytest.raises(UsageError, match="BOALF"):
        refuse_future_range(now + timedelta(hours=1), ends)
    # a forecast filtered by when it was published has nothing from the future either
    assert CATALOGUE.get("NDFD").horizon == timedelta(0)
    assert CATALOGUE.get("FORECAST_DEMAND_TOTAL_WEEK_AHEAD").horizon == timedelta(days=14)


def test_isone_day_ahead_datasets_may_ask_for_tomorrow_and_others_for_today():
    config = load_config()
    now = datetime.now(UTC)
    ends = latest_range_ends(list(config.datasets.values()), now)
    assert ends["da_hourly_lmp"] - ends["hourly_system_load"] == timedelta(days=1)
    assert ends["hourly_system_load"] > now


# -- item 13: every malformed setting is bad input, naming the variable ----------------------


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"GRIDWAREHOUSE_BMRS_WINDOWS": "FREQ=banana"}, "GRIDWAREHOUSE_BMRS_WINDOWS[FREQ]"),
        ({"GRIDWAREHOUSE_BMRS_WINDOWS": "FREQ=30d"}, "more than the API allows for FREQ (1d)"),
        ({"GRIDWAREHOUSE_BMRS_WINDOWS": "BMUNITS=1h"}, "its window size cannot be changed"),
        ({"GRIDWAREHOUSE_BMRS_WINDOWS": "NOPE=1h"}, "GRIDWAREHOUSE_BMRS_WINDOWS names unknown"),
        ({"GRIDWAREHOUSE_HTTP_TIMEOUT_S": "nan"}, "GRIDWAREHOUSE_HTTP_TIMEOUT_S"),
        ({"GRIDWAREHOUSE_BMRS_CONCURRENCY": "0"}, "GRIDWAREHOUSE_BMRS_CONCURRENCY='0' must be"),
        ({"GRIDWAREHOUSE_BMRS_BASE_URL": "http://"}, "GRIDWAREHOUSE_BMRS_BASE_URL"),
    ],
    ids=["banana", "beyond the API limit", "snapshot", "unknown dataset", "nan", "zero", "no host"],
)
def test_a_malformed_setting_stops_a_load_before_anything_is_written(cli, env, fragment):
    result = cli.run(
        "load", "bmrs", "--dataset", "FREQ", "--from", "2024-05-01", "--to", "2024-05-02", **env
    )
    assert_refused(cli, result, fragment)


# -- item 11 (part): IRIS_CONNECTION_STRING ----------------------------------------------------


@pytest.mark.parametrize(
    "connection, fragment",
    [
        ("not a connection string", "blank or malformed"),
        ("Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k", "must have both"),
        ("Endpoint=localhost;SharedAccessKeyName=k;SharedAccessKey=sEcr3tVaLue",
         "Invalid Endpoint"),
        ("Endpoint=sb://h:port;SharedAccessKeyName=k;SharedAccessKey=sEcr3tVaLue",
         "port is not a number"),
    ],
    ids=["garbage", "no key", "no scheme", "bad port"],
)  # fmt: skip
@pytest.mark.parametrize("command", [("iris", "run", "--drain"), ("check-endpoints",)])
def test_a_malformed_iris_connection_string_is_one_line_and_exit_2(
    cli, connection, fragment, command
):
    result = cli.run(*command, IRIS_CONNECTION_STRING=connection, IRIS_QUEUE_NAME="q")
    assert_refused(cli, result, "IRIS_CONNECTION_STRING is malformed", fragment)
    assert "sEcr3tVaLue" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "variable, value, fragment",
    [
        ("GRIDWAREHOUSE_RUN_BMRS_DATASETS", "BOALF,NOPE", "unknown datasets: NOPE"),
        ("GRIDWAREHOUSE_RUN_DNO_DATASETS", "headroom,bananas", "unknown kinds: bananas"),
    ],
)
@pytest.mark.parametrize("command", [("run", "--no-build"), ("status",)])
def test_a_scheduled_dataset_that_does_not_exist_is_bad_input(
    cli, variable, value, fragment, command
):
    result = cli.run(*command, **{variable: value, "GRIDWAREHOUSE_RUN_SOURCES": "bmrs,dno"})
    assert_refused(cli, result, variable, fragment)
