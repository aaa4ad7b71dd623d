"""ISO New England through the replay server: recorded real days (including the spring clock
change), current endpoints, faults, fallbacks, the circuit breaker and the shared limiter.

Recorded real responses: tests/data/recorded/isone (see its README.md). SYNTHETIC files, named
so, in tests/data/synthetic/isone: the autumn clock-change day (derived from the recorded
2024-11-02, since no fall-back day was recorded), an XML re-serialisation of a recorded day, a
locations list missing one node, and made-up examples in the documented shape for endpoints with
no recording (LMP, regulation prices, five-minute load, pricing nodes, generator roster).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from loaders.common.limits import CircuitBreaker, Limit, SharedRateLimiter, wait_for_slot
from loaders.errors import BadResponseError
from loaders.sources.isone import normalize
from loaders.sources.isone.config import load_config
from loaders.testing.replay import Fault, RecordSet, ReplayServer

from .conftest import RECORDED, make_cli

ISONE = RECORDED / "isone"
SYNTHETIC = RECORDED.parent / "synthetic" / "isone"
WS = "/isone/api/v1.1"
WWW = "/isone/www"


def recorded(relative: str, root: tuple[str, ...]) -> list[dict]:
    """The records of a recorded ISO-NE response under its root keys."""
    return normalize.find_records(json.loads((ISONE / relative).read_text()), root, relative)


def serve(replay: ReplayServer, path: str, file: Path, content_type: str = "application/json"):
    """Answer GET `path` (no query) with a file's bytes."""
    replay.state.add(
        path,
        RecordSet(
            records=[], exact={"": file.read_bytes()}, exact_only=True, content_type=content_type
        ),
    )


@pytest.fixture
def private_replay():
    with ReplayServer() as server:
        yield server


def log_rows(cli, columns: str = "dataset, status, rows") -> list[tuple]:
    return cli.query(f"select {columns} from ops.load_log order by dataset, window_start")


def day_args(dataset: str, day: str, *extra: str) -> tuple[str, ...]:
    """`load isone` of one dataset for one market day."""
    after = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    return ("load", "isone", "--dataset", dataset, "--from", day, "--to", after, *extra)


def load_ok(cli, *args: str, **env: str):
    """Run the CLI and require success, showing its output when it fails."""
    result = cli.run(*args, **env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


# -- recorded days --------------------------------------------------------------------------

RECORDED_DAYS = [("2024-03-09", "2024-03-11"), ("2024-11-02", "2024-11-03")]
DAY_FILES = {
    "hourly_system_load": (
        "hourlysysload/hourlysysload_{d}.json",
        ("HourlySystemLoads", "HourlySystemLoad"),
    ),
    "fuel_mix": ("genfuelmix/genfuelmix_{d}.json", ("GenFuelMixes", "GenFuelMix")),
    "hourly_load_forecast": (
        "hourlyloadforecast/hourlyloadforecast_{d}.json",
        ("HourlyLoadForecasts", "HourlyLoadForecast"),
    ),
    "reliability_region_load_forecast": (
        "reliabilityregionloadforecast/reliabilityregionloadforecast_{d}.json",
        ("ReliabilityRegionLoadForecasts", "ReliabilityRegionLoadForecast"),
    ),
    "da_hourly_demand": (
        "dayaheadhourlydemand/dayaheadhourlydemand_{d}_loc{loc}.json",
        ("HourlyDaDemands", "HourlyDaDemand"),
    ),
    "rt_hourly_demand": (
        "realtimehourlydemand/realtimehourlydemand_{d}_loc{loc}.json",
        ("HourlyRtDemands", "HourlyRtDemand"),
    ),
}


def expected_rows(dataset: str) -> int:
    pattern, root = DAY_FILES[dataset]
    days = ("20240309", "20240310", "20241102")
    locations = ("4001", "4002") if "{loc}" in pattern else ("",)
    return sum(len(recorded(pattern.format(d=d, loc=loc), root)) for d in days for loc in locations)


def load_recorded_days(cli) -> None:
    datasets = [arg for name in DAY_FILES for arg in ("--dataset", name)]
    locations = ["--location", "4001", "--location", "4002"]
    for start, end in RECORDED_DAYS:
        result = cli.run("load", "isone", *datasets, *locations, "--from", start, "--to", end)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_recorded_days_load_with_the_recorded_row_counts(cli):
    load_recorded_days(cli)
    for dataset in DAY_FILES:
        assert cli.count(f"raw_isone.{dataset}") == expected_rows(dataset), dataset
    assert cli.query("select distinct status from ops.load_log") == [("ok",)]
    assert cli.count("raw_isone.fuel_mix") == 2098 + 2394 + 1621


def test_spring_forward_day_has_23_strictly_hourly_utc_instants(cli):
    load_ok(cli, *day_args("hourly_system_load", "2024-03-10"))
    rows = cli.query(
        "select begin_date, begin_date_local, begin_date_offset from raw_isone.hourly_system_load "
        "order by begin_date"
    )
    assert len(rows) == 23
    assert all(b[0] - a[0] == timedelta(hours=1) for a, b in pairwise(rows))
    assert [r[1][11:13] for r in rows[:3]] == ["00", "01", "03"]  # 02:00 does not exist
    assert [r[2] for r in rows[:3]] == ["-05:00", "-05:00", "-04:00"]
    assert rows[0][0] == datetime(2024, 3, 10, 5, tzinfo=UTC)
    # the window is the market day: local midnight to local midnight, 23 hours
    assert cli.query("select window_start, window_end from ops.load_log") == [
        (datetime(2024, 3, 10, 5, tzinfo=UTC), datetime(2024, 3, 11, 4, tzinfo=UTC))
    ]


def test_fall_back_day_synthetic_has_25_distinct_utc_hours(cli, replay):
    # SYNTHETIC: no 2024-11-03 was recorded; this is the recorded 2024-11-02 re-dated (README)
    serve(
        replay,
        f"{WS}/hourlysysload/day/20241103",
        SYNTHETIC / "synthetic_hourlysysload_20241103_fall_back_from_20241102.json",
    )
    load_ok(cli, *day_args("hourly_system_load", "2024-11-03"))
    rows = cli.query(
        "select begin_date, begin_date_local, begin_date_offset from raw_isone.hourly_system_load "
        "order by begin_date"
    )
    assert len(rows) == len({r[0] for r in rows}) == 25
    assert all(b[0] - a[0] == timedelta(hours=1) for a, b in pairwise(rows))
    ones = [(local, offset) for _, local, offset in rows if local[11:13] == "01"]
    assert ones == [("2024-11-03T01:00:00", "-04:00"), ("2024-11-03T01:00:00", "-05:00")]
    assert cli.query("select window_start, window_end from ops.load_log") == [
        (datetime(2024, 11, 3, 4, tzinfo=UTC), datetime(2024, 11, 4, 5, tzinfo=UTC))
    ]


def test_current_endpoints_answer_one_object_and_land_one_row(cli):
    result = cli.run("load", "isone", "--dataset", "hourly_system_load_current")
    assert result.returncode == 0, result.stderr
    assert cli.query("select begin_date, load, loc_id from raw_isone.hourly_system_load") == [
        (datetime(2024, 11, 25, 20, tzinfo=UTC), 13657.274, "32")
    ]
    # this body has no plural wrapper at all: {"HourlyDaDemand": {...}}
    result = cli.run("load", "isone", "--dataset", "da_hourly_demand_current", "--location", "32")
    assert result.returncode == 0, result.stderr
    assert cli.query("select location, load from raw_isone.da_hourly_demand") == [
        ("NEPOOL AREA", 14160.0)
    ]
    assert cli.query("select count(*) from ops.load_log where window_start is null") == [(2,)]
    # polled on its cadence: asked again only when due, or with --force
    again = cli.run("load", "isone", "--dataset", "hourly_system_load_current")
    assert "nothing to load" in again.stdout
    forced = cli.run("load", "isone", "--dataset", "hourly_system_load_current", "--force")
    assert forced.returncode == 0 and cli.count("raw_isone.hourly_system_load") == 1


def test_reloading_a_range_changes_nothing(cli):
    args = day_args("fuel_mix", "2024-03-10")
    load_ok(cli, *args)
    before = cli.query("select _natural_key, _record_hash from raw_isone.fuel_mix order by 1")
    load_ok(cli, *args)
    after = cli.query("select _natural_key, _record_hash from raw_isone.fuel_mix order by 1")
    assert before == after and len(after) == 2394


def test_external_flows_and_seven_day_forecasts_from_the_website(cli):
    locations = ("--location", "CA-NB", "--location", "CA-QC")
    load_ok(cli, *day_args("external_flows", "2025-03-26", *locations))
    assert dict(cli.query("select loc_id, count(*) from raw_isone.external_flows group by 1")) == {
        "4010": 221,
        "4012": 211,
        "4013": 211,
    }
    for kind in ("solar", "wind"):
        load_ok(cli, *day_args(f"seven_day_{kind}_forecast", "2025-02-25"))
    # 8 days x 24 hours, less the blank cells (Day 1 before publication, Day 8 past the horizon)
    assert cli.count("raw_isone.seven_day_solar_forecast") == 8 * 24 - 10 - 14
    first = cli.query(
        "select begin_date, begin_date_local, creation_date, mw from raw_isone.seven_day_solar_forecast "
        "order by begin_date limit 1"
    )
    assert first == [
        (
            datetime(2025, 2, 25, 15, tzinfo=UTC),  # hour ending 11 of 02/25, EST
            "2025-02-25T10:00:00",
            datetime(2025, 2, 25, 15, 2, 35, tzinfo=UTC),
            661.0,
        )
    ]


# -- drift ----------------------------------------------------------------------------------


def test_a_new_and_a_missing_field_are_recorded_and_loading_continues(tmp_path, private_replay):
    cli = make_cli(tmp_path, private_replay)
    route = private_replay.state.routes[f"{WS}/hourlysysload/day/20240309"]
    body = json.loads(route.exact[""])
    for record in body["HourlySystemLoads"]["HourlySystemLoad"]:
        record["PeakFlag"] = "N"
        del record["ArdDemand"]
    route.exact[""] = json.dumps(body).encode()
    result = load_ok(cli, *day_args("hourly_system_load", "2024-03-09"))
    assert cli.count("raw_isone.hourly_system_load") == 24
    assert set(cli.query("select field, change from ops.schema_changes")) == {
        ("PeakFlag", "added"),
        ("ArdDemand", "missing"),
    }
    assert "field PeakFlag added" in result.stderr
    assert cli.query("select distinct peak_flag from raw_isone.hourly_system_load") == [("N",)]


# -- faults, through the replay Fault harness ------------------------------------------------

DAY = day_args("hourly_system_load", "2024-03-09")
DAY_PATH = f"{WS}/hourlysysload/day/20240309"


def test_429_with_retry_after_is_waited_out(cli, replay):
    replay.state.inject(DAY_PATH, [Fault(status=429, headers={"Retry-After": "1"})])
    assert cli.run(*DAY).returncode == 0
    assert log_rows(cli, "status, attempts, rows") == [("ok", 2, 24)]


def test_5xx_that_outlasts_the_retries_is_a_failed_window(cli, replay):
    replay.state.inject(DAY_PATH, [Fault(status=503)] * 3)
    result = cli.run(*DAY)
    assert result.returncode == 1
    assert log_rows(cli, "status, attempts, rows") == [("failed", 3, 0)]
    assert "HTTP 503 from http://127.0.0.1" in cli.query("select error from ops.load_log")[0][0]
    assert cli.count("raw_isone.hourly_system_load") == 0


def test_an_empty_body_is_a_failed_window(cli, replay):
    # the JSON answers are empty; asked again as XML, the server sends JSON: both fail
    replay.state.inject(DAY_PATH, [Fault(status=200, body=b"", accept="json")] * 3)
    result = cli.run(*DAY)
    assert result.returncode != 0
    ((status, error),) = cli.query("select status, error from ops.load_log")
    assert status == "failed"
    assert "truncated or malformed JSON (0 bytes" in error and "asked again as XML" in error


def test_an_ended_day_with_no_records_is_an_alert_and_is_asked_again(cli, replay):
    replay.state.inject(DAY_PATH, [Fault(status=200, body=b'{"HourlySystemLoads": ""}')])
    result = cli.run(*DAY)
    assert result.returncode == 1
    ((status, rows, error),) = cli.query("select status, rows, error from ops.load_log")
    assert (status, rows) == ("failed", 0)
    assert "no records for market day 2024-03-09, which has ended" in error
    # not marked done: the next run asks again and loads it
    assert cli.run(*DAY).returncode == 0
    assert cli.count("raw_isone.hourly_system_load") == 24


def test_an_html_page_falls_back_to_xml_and_is_recorded(cli, replay):
    html = Fault(
        status=200, body=b"<html><body>Maintenance</body></html>", content_type="text/html"
    )
    xml = (SYNTHETIC / "synthetic_hourlysysload_20240310_as_xml_from_recorded.xml").read_bytes()
    path = f"{WS}/hourlysysload/day/20240310"
    replay.state.inject(
        path,
        [Fault(**{**html.__dict__, "accept": "json"})] * 3
        + [Fault(status=200, body=xml, content_type="application/xml", accept="xml")],
    )
    load_ok(cli, *day_args("hourly_system_load", "2024-03-10"))
    ((status, rows, notes),) = cli.query("select status, rows, notes from ops.load_log")
    assert (status, rows) == ("fallback", 23)
    assert notes.startswith("fallback: XML (Accept: application/xml) after JSON failed")
    loads = [
        r["Load"]
        for r in recorded(
            "hourlysysload/hourlysysload_20240310.json", DAY_FILES["hourly_system_load"][1]
        )
    ]
    assert [
        v for (v,) in cli.query("select load from raw_isone.hourly_system_load order by begin_date")
    ] == loads


def test_a_failing_endpoint_falls_back_to_the_website_and_says_so(cli):
    # five-minute load for 2025-03-17 is recorded only from the website's wsclient endpoint
    load_ok(cli, *day_args("five_minute_system_load", "2025-03-17"))
    ((status, rows, notes),) = cli.query("select status, rows, notes from ops.load_log")
    assert (status, rows) == ("fallback", 131)
    assert "fallback: endpoint www:/ws/wsclient systemload" in notes and "HTTP 404" in notes
    # the website's names mapped onto the service's: native load = load - asset-related demand
    assert cli.query(
        "select max(abs(load_mw - ard_demand - native_load)) < 1e-6 "
        "from raw_isone.five_minute_system_load"
    ) == [(True,)]


def test_without_credentials_web_services_need_a_token_and_the_website_still_loads(cli, replay):
    before = len(replay.state.requests)
    no_credentials = {"ISONE_USERNAME": "", "ISONE_PASSWORD": ""}
    result = cli.run(*DAY, **no_credentials)
    assert result.returncode == 1
    assert "set ISONE_USERNAME and ISONE_PASSWORD (or ISONE_API_KEY)" in result.stdout
    assert log_rows(cli, "status") == [("needs_token",)]
    assert len(replay.state.requests) == before  # nothing was asked
    load_ok(cli, *day_args("five_minute_system_load", "2025-03-17"), **no_credentials)
    assert (
        "no ISO-NE web services credentials"
        in cli.query("select notes from ops.load_log where status = 'fallback'")[0][0]
    )


def test_the_circuit_breaker_skips_a_failing_endpoint_with_its_reason_across_runs(
    tmp_path, private_replay
):
    cli = make_cli(tmp_path, private_replay)
    days = [f"2024-02-0{n}" for n in range(1, 6)]
    for day in days:
        private_replay.state.inject(
            f"{WS}/hourlysysload/day/{day.replace('-', '')}", [Fault(503)] * 3
        )
    args = (
        "load",
        "isone",
        "--dataset",
        "hourly_system_load",
        "--from",
        days[0],
        "--to",
        "2024-02-06",
    )
    result = cli.run(*args)
    assert result.returncode == 1
    assert [s for (s,) in cli.query("select status from ops.load_log order by window_start")] == [
        "failed",
        "failed",
        "failed",
        "skipped",
        "skipped",
    ]
    reason = cli.query("select error from ops.load_log where status = 'skipped' limit 1")[0][0]
    assert "circuit breaker open for webservices:/hourlysysload/day/{day}" in reason
    assert "after 3 consecutive failures; last: HTTP 503" in reason
    assert "circuit breaker opened" in result.stderr
    asked = [r for r in private_replay.state.requests if "/hourlysysload/day/" in r]
    assert len(asked) == 9  # 3 windows x 3 attempts; the last two were not asked
    # the next run (a cron job) respects the open breaker: nothing is asked at all
    again = cli.run(*args)
    assert again.returncode == 0 and "skipped" in again.stdout
    assert len([r for r in private_replay.state.requests if "/hourlysysload/day/" in r]) == 9
    state = json.loads((cli.data_dir / "isone" / "breakers.json").read_text())
    assert state["webservices:/hourlysysload/day/{day}"]["failures"] == 3


# -- commands -------------------------------------------------------------------------------


def test_datasets_list_json_says_what_can_be_backfilled(cli):
    result = cli.run("datasets", "list", "isone", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(load_config().datasets)
    assert rows["hourly_system_load"]["backfillable"] is True
    assert rows["hourly_system_load"]["cadence"] == "hourly"
    assert rows["hourly_system_load_current"]["backfillable"] is False
    assert rows["hourly_system_load_current"]["table"] == "raw_isone.hourly_system_load"
    assert rows["locations"]["current_only"] is True
    assert rows["five_minute_system_load"]["fallbacks"] == ["xml", "www:/ws/wsclient systemload"]
    assert rows["fuel_mix"]["cadence"] == "5min" and rows["da_hourly_lmp"]["cadence"] == "daily"


def test_backfill_resumes_and_refuses_current_only_datasets(cli):
    refused = cli.run(
        "backfill", "isone", "--dataset", "locations", "--from", "2024-03-09", "--to", "2024-03-11"
    )
    assert refused.returncode == 2 and "current-only" in refused.stderr
    args = (
        "backfill",
        "isone",
        "--dataset",
        "hourly_system_load",
        "--from",
        "2024-03-09",
        "--to",
        "2024-03-11",
    )
    first = cli.run(*args)
    assert first.returncode == 0 and "2 to load" in first.stdout
    again = cli.run(*args)
    assert "the whole range is already loaded" in again.stdout
    assert cli.count("raw_isone.hourly_system_load") == 47


def test_unknown_dataset_and_location_are_bad_input(cli):
    unknown = cli.run("load", "isone", "--dataset", "hourly_system_lod")
    assert unknown.returncode == 2 and "did you mean hourly_system_load" in unknown.stderr
    location = cli.run("load", "isone", "--dataset", "da_hourly_demand", "--location", "9999")
    assert location.returncode == 2 and "unknown location 9999" in location.stderr


# -- scheduled like every source: status, staleness, alerts ----------------------------------

ONLY_ISONE = {
    "GRIDWAREHOUSE_RUN_SOURCES": "isone",
    "GRIDWAREHOUSE_RUN_ISONE_DATASETS": "hourly_system_load,da_hourly_demand",
}


def test_a_stale_iso_ne_dataset_shows_its_cadence_exits_3_and_opens_an_alert(cli):
    """ISO-NE's datasets are scheduled like BMRS's: `status` lists them with their cadence,
    a recorded day long past is stale (exit 3), per-location rows count as their dataset,
    and the alert check opens one incident per stale dataset."""
    from loaders.operations.alerts import incidents
    from loaders.operations.status import collect
    from loaders.settings import load_settings

    load_ok(cli, *day_args("hourly_system_load", "2024-03-09"))
    load_ok(cli, *day_args("da_hourly_demand", "2024-03-09", "--location", "4001"))
    result = cli.run("status", "--json", **ONLY_ISONE)
    report = json.loads(result.stdout)
    isone = {d["dataset"]: d for d in report["datasets"] if d["source"] == "isone"}
    assert result.returncode == 3, result.stderr
    assert set(isone) == {"hourly_system_load", "da_hourly_demand/4001"}
    load = isone["hourly_system_load"]
    assert (load["state"], load["scheduled"], load["cadence"]) == ("stale", True, "hourly")
    assert load["threshold_s"] == 3 * 3600  # ISO-NE's default threshold
    assert load["last_window_end"].startswith("2024-03-10T05:00:00")  # the market day's end
    located = isone["da_hourly_demand/4001"]
    assert (located["state"], located["scheduled"]) == ("stale", True)
    assert located["cadence"] == load_config().datasets["da_hourly_demand"].cadence
    assert sorted(report["unhealthy"]) == [
        "isone.da_hourly_demand/4001",
        "isone.hourly_system_load",
    ]

    text = cli.run("status", **ONLY_ISONE)
    lines = text.stdout.splitlines()
    assert text.returncode == 3 and "ISO New England [isone]" in lines
    row = next(line.split() for line in lines if line.split()[:1] == ["hourly_system_load"])
    assert "hourly" in row and row[-1] == "stale"

    settings = load_settings(env={**cli.env, **ONLY_ISONE}, cwd=cli.data_dir.parent)
    opened = incidents(collect(settings), settings)
    assert "dataset:isone.hourly_system_load" in opened
    assert "isone hourly_system_load is stale" in opened["dataset:isone.hourly_system_load"].summary

    healthy = cli.run("status", "--json", GRIDWAREHOUSE_STALE_AFTER="isone=10000d", **ONLY_ISONE)
    assert healthy.returncode == 0 and json.loads(healthy.stdout)["healthy"]


def test_run_isone_datasets_naming_an_unknown_dataset_is_bad_input(cli):
    result = cli.run("status", GRIDWAREHOUSE_RUN_ISONE_DATASETS="hourly_system_lod")
    assert result.returncode == 2
    assert "GRIDWAREHOUSE_RUN_ISONE_DATASETS names unknown datasets: hourly_system_lod" in (
        result.stderr
    )


def test_check_endpoints_probes_iso_ne(cli, replay):
    report = json.loads(cli.run("check-endpoints", "--json").stdout)
    isone = {e["endpoint"]: e for e in report["endpoints"] if e["source"] == "isone"}
    assert isone["web services"]["verdict"] == "ok"  # the recorded /locations
    assert "seven_day_solar_forecast" in isone and "generator_roster" in isone
    assert all("replay-password" not in json.dumps(e) for e in isone.values())


# -- documented shapes with no recording (SYNTHETIC examples) --------------------------------


def test_documented_lmp_and_ancillary_shapes_load(tmp_path, private_replay):
    serve_synthetic_examples(private_replay)
    cli = make_cli(tmp_path, private_replay)
    day = ("--from", "2024-03-10", "--to", "2024-03-11")
    for dataset in ("da_hourly_lmp", "rt_five_minute_lmp"):
        result = cli.run("load", "isone", "--dataset", dataset, "--location", "4000", *day)
        assert result.returncode == 0, result.stdout + result.stderr
    for dataset in ("five_minute_rcp", "five_minute_system_load"):
        assert cli.run("load", "isone", "--dataset", dataset, *day).returncode == 0
    for dataset in ("pricing_nodes", "generator_roster"):
        assert cli.run("load", "isone", "--dataset", dataset).returncode == 0
    assert cli.query(
        "select loc_id, loc_type, location, count(*), min(lmp_total) from raw_isone.da_hourly_lmp group by all"
    ) == [("4000", "HUB", ".H.INTERNAL_HUB", 3, 27.0)]
    assert cli.count("raw_isone.rt_five_minute_lmp") == 36
    assert cli.count("raw_isone.five_minute_rcp") == 3
    assert cli.query(
        "select status from ops.load_log where dataset = 'five_minute_system_load'"
    ) == [("ok",)]
    assert cli.query(
        "select asset_id, scc_summer_mw from raw_isone.generator_roster order by 1 limit 1"
    ) == [(90001, 400.5)]
    assert cli.query("select count(*) from ops.schema_changes") == [(0,)]


def serve_synthetic_examples(replay: ReplayServer) -> None:
    """SYNTHETIC responses in the documented shapes, for the endpoints with no recording."""
    for path, name in [
        (
            "/hourlylmp/da/final/day/20240310/location/4000",
            "synthetic_hourlylmp_da_final_20240310_loc4000.json",
        ),
        (
            "/fiveminutelmp/prelim/day/20240310/location/4000",
            "synthetic_fiveminutelmp_prelim_20240310_loc4000.json",
        ),
        ("/fiveminutercp/final/day/20240310", "synthetic_fiveminutercp_final_20240310.json"),
        ("/fiveminutesystemload/day/20240310", "synthetic_fiveminutesystemload_20240310.json"),
        ("/locations/all", "synthetic_locations_all.json"),
    ]:
        serve(replay, f"{WS}{path}", SYNTHETIC / name)
    serve(
        replay,
        f"{WWW}/transform/csv/genroster",
        SYNTHETIC / "synthetic_generator_roster.csv",
        "text/csv",
    )


# -- units: shapes, clock changes, limiter and breaker arithmetic ----------------------------


def test_find_records_takes_lists_single_objects_and_empty_wrappers():
    root = ("HourlySystemLoads", "HourlySystemLoad")
    one = {"BeginDate": "2024-11-25T15:00:00.000-05:00"}
    assert normalize.find_records({"HourlySystemLoads": {"HourlySystemLoad": one}}, root, "u") == [
        one
    ]
    assert normalize.find_records({"HourlySystemLoad": one}, root, "u") == [one]
    assert normalize.find_records({"HourlySystemLoads": ""}, root, "u") == []
    with pytest.raises(BadResponseError, match="without HourlySystemLoads/HourlySystemLoad"):
        normalize.find_records({"error": "x"}, root, "u")


def test_locations_are_flattened_and_times_split_into_utc_local_and_offset():
    record = {
        "BeginDate": "2024-11-03T01:00:00.000-05:00",
        "Location": {"@LocId": "4000", "@LocType": "HUB", "$": ".H.INTERNAL_HUB"},
    }
    fields = load_config().get("da_hourly_lmp").fields
    assert normalize.normalise([record], fields, {}) == [
        {
            "BeginDate": "2024-11-03T06:00:00Z",
            "BeginDateLocal": "2024-11-03T01:00:00",
            "BeginDateOffset": "-05:00",
            "Location": ".H.INTERNAL_HUB",
            "LocId": "4000",
            "LocType": "HUB",
        }
    ]


@pytest.mark.parametrize(
    "day, label, utc",
    [
        (date(2024, 3, 10), "01", datetime(2024, 3, 10, 5, tzinfo=UTC)),
        (date(2024, 3, 10), "03", datetime(2024, 3, 10, 6, tzinfo=UTC)),  # 02:00 does not exist
        (date(2024, 3, 10), "04", datetime(2024, 3, 10, 7, tzinfo=UTC)),
        (date(2024, 11, 3), "02", datetime(2024, 11, 3, 5, tzinfo=UTC)),  # 01:00 EDT
        (date(2024, 11, 3), "02X", datetime(2024, 11, 3, 6, tzinfo=UTC)),  # 01:00 EST
        (date(2024, 11, 3), "03", datetime(2024, 11, 3, 7, tzinfo=UTC)),
        (date(2024, 11, 3), "24", datetime(2024, 11, 4, 4, tzinfo=UTC)),
    ],
)
def test_hour_ending_labels_map_to_utc_hours_on_clock_change_days(day, label, utc):
    assert normalize.hour_ending_start(day, label) == utc


def test_xml_is_read_into_the_json_shape():
    body = (SYNTHETIC / "synthetic_hourlysysload_20240310_as_xml_from_recorded.xml").read_bytes()
    endpoint = load_config().get("hourly_system_load").endpoint
    records = normalize.xml_records(body, endpoint, "u")
    first = recorded(
        "hourlysysload/hourlysysload_20240310.json", DAY_FILES["hourly_system_load"][1]
    )[0]
    assert len(records) == 23
    assert records[0]["Location"] == first["Location"]
    assert float(records[0]["Load"]) == first["Load"]
    with pytest.raises(BadResponseError, match="DOCTYPE"):
        normalize.xml_records(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', endpoint, "u")


def test_limiter_arithmetic_allows_60_a_minute_and_1000_an_hour():
    limits = [Limit(60, 60.0), Limit(1000, 3600.0)]
    assert wait_for_slot([0.0] * 59, 0.0, limits) == 0
    assert wait_for_slot([0.0] * 60, 10.0, limits) == pytest.approx(50.0)
    # 1000 requests spread over the last hour, one every 3.6 s: the next waits for the oldest
    stamps = [i * 3.6 for i in range(1000)]
    now = stamps[-1] + 1
    assert wait_for_slot(stamps, now, limits) == pytest.approx(stamps[0] + 3600 - now)


def test_the_limiter_is_shared_through_its_file_by_every_user(tmp_path):
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    path = tmp_path / "limiter.json"
    one = SharedRateLimiter(
        path, [Limit(60, 60.0), Limit(1000, 3600.0)], clock=lambda: now[0], sleep=sleep
    )
    other = SharedRateLimiter(
        path, [Limit(60, 60.0), Limit(1000, 3600.0)], clock=lambda: now[0], sleep=sleep
    )
    for _ in range(30):
        one.acquire()
        other.acquire()
    assert slept == []
    other.acquire()  # the 61st request in the minute, from either user, waits for a slot
    assert slept == [pytest.approx(60.0)]
    assert len(json.loads(path.read_text())["sent"]) == 61


def test_the_breaker_opens_after_n_failures_cools_down_and_closes_on_success(tmp_path):
    now = [0.0]
    breaker = CircuitBreaker(tmp_path / "b.json", threshold=3, cooldown_s=600, clock=lambda: now[0])
    assert breaker.record_failure("e", "HTTP 500") is False
    assert breaker.record_failure("e", "HTTP 500") is False
    assert breaker.open_until("e") is None
    assert breaker.record_failure("e", "HTTP 503") is True
    assert breaker.open_until("e") == 600 and breaker.state("e").reason == "HTTP 503"
    now[0] = 601
    assert breaker.open_until("e") is None  # cooled down: one call may try
    assert breaker.record_failure("e", "HTTP 500") is True  # and a failure opens it again
    now[0] = 1300
    breaker.record_success("e")
    assert breaker.state("e").failures == 0 and breaker.open_until("e") is None


# -- dbt: staging, marts, snapshots ---------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Recorded days and the SYNTHETIC price examples loaded, then `gridwarehouse build`."""
    with ReplayServer() as server:
        serve_synthetic_examples(server)
        cli = make_cli(tmp_path_factory.mktemp("isone_dbt"), server)
        load_recorded_days(cli)
        day = ("--from", "2024-03-10", "--to", "2024-03-11")
        for args in (
            (
                "--dataset",
                "da_hourly_lmp",
                "--dataset",
                "rt_five_minute_lmp",
                "--location",
                "4000",
                *day,
            ),
            ("--dataset", "five_minute_rcp", "--dataset", "five_minute_system_load", *day),
            (
                "--dataset",
                "locations",
                "--dataset",
                "pricing_nodes",
                "--dataset",
                "generator_roster",
            ),
        ):
            result = cli.run("load", "isone", *args)
            assert result.returncode == 0, result.stdout[-2000:]
        result = cli.run("build")
        yield cli, result


@pytest.mark.slow
def test_dbt_build_passes_with_iso_ne_data_loaded(built):
    _, result = built
    assert result.returncode == 0 and "ERROR=0" in result.stdout, result.stdout[-4000:]


def python_hourly_generation() -> dict[datetime, float]:
    """Mean over each UTC hour of the all-fuel total at each instant, from the recorded files."""
    totals: dict[datetime, float] = {}
    for day in ("20240309", "20240310", "20241102"):
        for r in recorded(f"genfuelmix/genfuelmix_{day}.json", DAY_FILES["fuel_mix"][1]):
            instant = datetime.fromisoformat(r["BeginDate"]).astimezone(UTC)
            totals[instant] = totals.get(instant, 0.0) + r["GenMw"]
    hours: dict[datetime, list[float]] = {}
    for instant, total in totals.items():
        hours.setdefault(instant.replace(minute=0, second=0, microsecond=0), []).append(total)
    return {hour: sum(values) / len(values) for hour, values in hours.items()}


@pytest.mark.slow
def test_load_vs_generation_mart_covers_the_recorded_days_and_matches_python(built):
    cli, _ = built
    rows = cli.query(
        "select hour_start_utc, market_date, load_mw, generation_mw "
        "from marts.fct_isone_load_vs_generation_hourly"
    )
    days = {}
    for _, market_date, load, _generation in rows:
        if load is not None:
            days[market_date] = days.get(market_date, 0) + 1
    assert days == {date(2024, 3, 9): 24, date(2024, 3, 10): 23, date(2024, 11, 2): 24}
    expected = python_hourly_generation()
    actual = {hour.replace(tzinfo=UTC): generation for hour, _, _, generation in rows}
    assert set(actual) == set(expected)
    assert all(abs(actual[h] - expected[h]) < 1e-6 for h in expected)


@pytest.mark.slow
def test_lmp_mart_spread_is_the_hourly_mean_of_real_time_minus_day_ahead(built):
    cli, _ = built
    # SYNTHETIC prices (documented shape, invented values): recompute the spread in Python
    da = json.loads((SYNTHETIC / "synthetic_hourlylmp_da_final_20240310_loc4000.json").read_text())
    rt = json.loads(
        (SYNTHETIC / "synthetic_fiveminutelmp_prelim_20240310_loc4000.json").read_text()
    )
    prices: dict[datetime, list[float]] = {}
    for r in rt["FiveMinLmps"]["FiveMinLmp"]:
        hour = datetime.fromisoformat(r["BeginDate"]).astimezone(UTC).replace(minute=0)
        prices.setdefault(hour, []).append(r["LmpTotal"])
    expected = {
        datetime.fromisoformat(r["BeginDate"]).astimezone(UTC): sum(
            prices[datetime.fromisoformat(r["BeginDate"]).astimezone(UTC)]
        )
        / 12
        - r["LmpTotal"]
        for r in da["HourlyLmps"]["HourlyLmp"]
    }
    rows = cli.query(
        "select hour_start_utc, location_type, rt_intervals, rt_minus_da_spread "
        "from marts.fct_isone_lmp_hourly where location_id = 4000"
    )
    assert {(t, n) for _, t, n, _ in rows} == {("HUB", 12)}
    assert {h.replace(tzinfo=UTC): round(s, 9) for h, _, _, s in rows} == {
        h: round(s, 9) for h, s in expected.items()
    }


@pytest.mark.slow
def test_the_locations_snapshot_keeps_a_node_that_disappears(tmp_path, private_replay):
    cli = make_cli(tmp_path, private_replay)
    select = ("--select", "stg_isone__locations", "isone_locations_snapshot")
    assert cli.run("load", "isone", "--dataset", "locations").returncode == 0
    first = cli.run("build", *select)
    assert first.returncode == 0, first.stdout[-3000:]
    # SYNTHETIC: the recorded list without node 4017, served as the next day's list
    route = private_replay.state.routes[f"{WS}/locations"]
    route.exact[""] = (
        SYNTHETIC / "synthetic_locations_without_4017_from_recorded.json"
    ).read_bytes()
    assert cli.run("load", "isone", "--dataset", "locations", "--force").returncode == 0
    second = cli.run("build", *select)
    assert second.returncode == 0, second.stdout[-3000:]
    history = cli.query(
        "select location_id, location_name, dbt_valid_to is not null "
        "from snapshots.isone_locations_snapshot order by location_id"
    )
    assert len(history) == 19
    assert (4017, ".I.NRTHPORT138 5", True) in history
    assert sum(closed for _, _, closed in history) == 1  # only the vanished node is closed
    current = cli.query("select count(*) from staging.stg_isone__locations where is_in_latest_load")
    assert current == [(18,)]
