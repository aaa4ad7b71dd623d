"""Windows that are not done are fetched again (issue 17 follow-ups): a failed or skipped window
heals on the next incremental load, within GRIDWAREHOUSE_RETRY_LOOKBACK; a window that had not
ended when it was fetched (a forecast, today's whole day) is stored but never counts as done.

Incremental loads run relative to the real "now", so the served records are the recorded real
ones moved to the last days (bench/synthetic_data.py's generators, or `synthetic_` helpers
here): synthetic data, real shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.synthetic_data import synthetic_boalf
from loaders.common.checkpoint import nothing_due
from loaders.common.ops import OpsState
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.sources.bmrs.plan import incremental_tasks
from loaders.testing.replay import Fault, RecordSet, ReplayServer

from .conftest import RECORDED, Cli, make_cli

BOALF = "/bmrs/datasets/BOALF/stream"
WIND_PEAK = "/bmrs/forecast/generation/wind/peak"
WIND_PEAK_FILE = "bmrs/forecast_generation_wind_peak/wind_peak_2024-05-01_2024-05-07.json"
WIND_PEAK_DAY = date(2024, 5, 1)  # the recording's first settlement day
RUN_BOALF = {"GRIDWAREHOUSE_RUN_SOURCES": "bmrs", "GRIDWAREHOUSE_RUN_BMRS_DATASETS": "BOALF"}
RETRY_ENV = {
    "GRIDWAREHOUSE_BMRS_WINDOWS": "BOALF=6h",  # four windows a day, one record cluster each
    "GRIDWAREHOUSE_BMRS_CONCURRENCY": "1",  # windows in order: the injected faults hit the first
}


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(routes_file=None) as s:
        yield s


@pytest.fixture
def rcli(tmp_path, server) -> Cli:
    return make_cli(tmp_path, server)


def latest(cli: Cli, dataset: str) -> list[tuple[str, str, int, str | None]]:
    """Per window (oldest first): its latest status, rows and notes."""
    return [
        (start, status, rows, notes)
        for start, status, rows, notes in cli.query(
            "select strftime(window_start, '%Y-%m-%dT%H:%M'), status, rows, notes from ("
            " select *, row_number() over (partition by window_start, window_end"
            "  order by finished_at desc) as rn"
            f" from ops.load_log where dataset = '{dataset}') where rn = 1 order by window_start"
        )
    ]


def up_to_date(cli: Cli, *args: str, **env: str) -> bool:
    """An incremental run right after another has nothing to do (a second try in case a new
    5-minute step began between the two runs, as in test_load_bmrs)."""
    for _ in range(2):
        result = cli.run("load", "bmrs", *args, **env)
        assert result.returncode == 0, result.stdout + result.stderr
        if "up to date" in result.stdout:
            return True
    return False


# -- a failed window heals by itself ---------------------------------------------------------


def boalf_clusters(first_day: date, days: int) -> list[dict]:
    """Synthetic BOALF from the recorded day (22:45-23:59), copied every 6 hours: one cluster
    of 1000 records in each 6-hour window of `days` days from `first_day`."""
    records = synthetic_boalf(first_day - timedelta(days=1), days=days + 1, copies_per_day=4)
    lo = first_day.isoformat()
    hi = (first_day + timedelta(days=days)).isoformat()
    return [r for r in records if lo <= r["timeFrom"] < hi]


@pytest.mark.parametrize(
    "healing_command",
    [("load", "bmrs", "--dataset", "BOALF"), ("run", "--no-build")],
    ids=["load", "run"],
)
def test_a_failed_window_is_fetched_again_by_the_next_incremental_load_with_every_row(
    rcli: Cli, server: ReplayServer, healing_command: tuple[str, ...]
) -> None:
    first_day = datetime.now(UTC).date() - timedelta(days=2)
    records = boalf_clusters(first_day, days=2)
    server.state.add(
        BOALF, RecordSet(records, shape="array", from_param="from", to_param="to", time_field="timeFrom")
    )  # fmt: skip
    server.state.inject(BOALF, [Fault(status=503)] * 3)  # every attempt at the first window
    span = ("--from", first_day.isoformat(), "--to", (first_day + timedelta(days=2)).isoformat())
    first = rcli.run("load", "bmrs", "--dataset", "BOALF", *span, **RETRY_ENV)
    assert first.returncode == 1 and "Traceback" not in first.stderr
    windows = latest(rcli, "BOALF")
    assert [status for _, status, _, _ in windows] == ["failed"] + ["ok"] * 7
    assert rcli.count("raw_bmrs.boalf") == len(records) * 7 // 8  # a later window is loaded

    healing = rcli.run(*healing_command, **RETRY_ENV, **RUN_BOALF)
    assert healing.returncode == 0, healing.stdout + healing.stderr
    assert "up to date" not in healing.stdout  # the failed window made it "not a no-op"
    healed = {start: (status, rows) for start, status, rows, _ in latest(rcli, "BOALF")}
    assert healed[f"{first_day}T00:00"] == ("ok", len(records) // 8)
    assert {status for status, _ in healed.values()} <= {"ok", "empty"}
    assert rcli.count("raw_bmrs.boalf") == len(records)  # every row, nothing doubled
    distinct = rcli.query(
        "select count(distinct (national_grid_bm_unit, acceptance_number, time_from)) "
        "from raw_bmrs.boalf"
    )
    assert distinct == [(len(records),)]
    assert up_to_date(rcli, "--dataset", "BOALF", **RETRY_ENV)  # healed: the fast path is back


def test_a_failure_older_than_the_look_back_is_left_to_a_backfill(
    rcli: Cli, server: ReplayServer
) -> None:
    first_day = datetime.now(UTC).date() - timedelta(days=2)
    records = boalf_clusters(first_day, days=1)
    server.state.add(
        BOALF, RecordSet(records, shape="array", from_param="from", to_param="to", time_field="timeFrom")
    )  # fmt: skip
    server.state.inject(BOALF, [Fault(status=503)] * 3)
    span = ("--from", first_day.isoformat(), "--to", (first_day + timedelta(days=1)).isoformat())
    assert rcli.run("load", "bmrs", "--dataset", "BOALF", *span, **RETRY_ENV).returncode == 1
    env = {**RETRY_ENV, "GRIDWAREHOUSE_RETRY_LOOKBACK": "1d"}  # the failure ended 2 days ago
    rcli.run("load", "bmrs", "--dataset", "BOALF", **env)
    assert latest(rcli, "BOALF")[0][:2] == (f"{first_day}T00:00", "failed")
    assert up_to_date(rcli, "--dataset", "BOALF", **env)


@pytest.mark.parametrize("value", ["banana", "0d", "-1d"])
def test_a_malformed_retry_look_back_is_bad_input(rcli: Cli, value: str) -> None:
    result = rcli.run("load", "bmrs", "--dataset", "BOALF", GRIDWAREHOUSE_RETRY_LOOKBACK=value)
    assert result.returncode == 2 and "GRIDWAREHOUSE_RETRY_LOOKBACK" in result.stderr
    assert "Traceback" not in result.stderr


# -- a window that has not ended is never done -----------------------------------------------


def synthetic_wind_peak(first_day: date, bump: int = 0) -> list[dict]:
    """The recorded real wind peak forecasts (one per settlement day), moved to start on
    `first_day`, each `generation` raised by `bump` MW (a later revision of the forecast)."""
    body = json.loads((RECORDED / WIND_PEAK_FILE).read_text())
    shift = first_day - WIND_PEAK_DAY
    out = []
    for record in body["data"]:
        moved = dict(record, generation=record["generation"] + bump)
        moved["settlementDate"] = (date.fromisoformat(record["settlementDate"]) + shift).isoformat()
        for field in ("publishTime", "startTime"):
            stamp = datetime.fromisoformat(record[field].replace("Z", "+00:00")) + shift
            moved[field] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(moved)
    return out


def serve_wind_peak(server: ReplayServer, records: list[dict]) -> None:
    server.state.add(
        WIND_PEAK,
        RecordSet(records, shape="data", from_param="from", to_param="to", time_field="settlementDate"),
    )  # fmt: skip


def test_forecast_windows_not_yet_ended_are_stored_but_fetched_again_with_their_revisions(
    rcli: Cli, server: ReplayServer
) -> None:
    today = datetime.now(UTC).date()
    serve_wind_peak(server, synthetic_wind_peak(today))
    ahead = ("--from", today.isoformat(), "--to", (today + timedelta(days=3)).isoformat())
    first = rcli.run("load", "bmrs", "--dataset", "FORECAST_GENERATION_WIND_PEAK", *ahead)
    assert first.returncode == 0, first.stdout + first.stderr
    windows = latest(rcli, "FORECAST_GENERATION_WIND_PEAK")
    assert [(status, rows) for _, status, rows, _ in windows] == [("ok", 1)] * 3
    assert all(notes and notes.startswith("not final") for *_, notes in windows)

    revised = synthetic_wind_peak(today, bump=100)
    serve_wind_peak(server, revised)
    again = rcli.run("load", "bmrs", "--dataset", "FORECAST_GENERATION_WIND_PEAK")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "up to date" not in again.stdout  # the future windows did not freeze the dataset
    stored = rcli.query(
        "select settlement_date::varchar, generation from raw_bmrs.forecast_generation_wind_peak "
        "order by 1"
    )
    assert stored == [(r["settlementDate"], r["generation"]) for r in revised[:3]]


def test_today_is_not_done_until_it_has_ended_and_yesterday_is() -> None:
    """Planning alone: a whole-day window fetched today is fetched again on the next cycle; a
    done window is not; a failed one in the look-back is, one before it is not."""
    endpoint = load_catalogue().get("FORECAST_GENERATION_WIND_PEAK")
    now = datetime(2026, 12, 3, 10, 2, tzinfo=UTC)
    day = timedelta(days=1)
    today = datetime(2026, 12, 3, tzinfo=UTC)
    state = OpsState(
        done=[(today - 3 * day, today - 2 * day), (today - day, today)],
        retry=[(today - 20 * day, today - 19 * day), (today - 2 * day, today - day),
               (today, today + day), (today + 4 * day, today + 5 * day)],
    )  # fmt: skip
    tasks = incremental_tasks(
        [endpoint], {endpoint.name: state}, trailing=timedelta(hours=1),
        retry_lookback=timedelta(days=7), now=now,
    )  # fmt: skip
    starts = [(t.window.start - today) // day for t in tasks]
    assert starts == [-2, -1, 0, 4]  # the failed day, yesterday (trailing), today, a forecast


def test_the_no_op_cache_says_due_while_a_window_is_to_be_fetched_again(tmp_path) -> None:
    from loaders.common.checkpoint import write_cache

    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"")
    now = datetime(2026, 12, 3, 10, 2, tzinfo=UTC)
    info = {"FREQ": {"snapshot": False, "refresh_s": 300}}
    loaded = (now - timedelta(days=1), datetime(2026, 12, 3, 10, 0, tzinfo=UTC))

    def due(retry: list) -> bool:
        write_cache(tmp_path, warehouse, "bmrs", info, {"FREQ": OpsState([loaded], retry)})
        return not nothing_due(tmp_path, warehouse, "bmrs", ["FREQ"], now, lookback=timedelta(7))

    assert not due([])
    assert due([(now - timedelta(days=2), now - timedelta(days=1, hours=23))])
    assert not due([(now - timedelta(days=9), now - timedelta(days=8))])  # beyond the look-back


def test_the_load_log_says_which_windows_are_done_and_which_to_fetch_again() -> None:
    """read_done_windows on a real (in-memory) DuckDB load log: the latest row decides."""
    import duckdb

    from loaders.common.ops import LoadLogRow, ensure_ops_tables, read_done_windows, write_load_log

    now = datetime(2026, 12, 3, 10, 2, tzinfo=UTC)
    hour = timedelta(hours=1)

    def row(start_h: int, status: str, fetched: datetime, dataset: str = "FREQ") -> LoadLogRow:
        start = datetime(2026, 12, 3, tzinfo=UTC) + start_h * hour
        return LoadLogRow("bmrs", dataset, start, start + hour, 0, status, fetched, fetched)

    con = duckdb.connect()
    ensure_ops_tables(con)
    write_load_log(con, [
        row(0, "failed", now - 9 * hour), row(0, "ok", now - 8 * hour),  # healed: done
        row(1, "ok", now - 9 * hour), row(1, "failed", now - 8 * hour),  # broke again: retry
        row(2, "skipped", now - 8 * hour),  # retry
        row(-200, "failed", now),  # ended before the look-back: neither
        row(5, "ok", now - 8 * hour),  # fetched at 02:02, before it ended at 06:00: retry
        row(6, "forbidden", now),  # its own re-ask rules: neither
        row(7, "ok", now - hour + timedelta(minutes=1)),  # fetched after it ended: done
    ])  # fmt: skip
    state = read_done_windows(con, "bmrs", ["FREQ"], retry_since=now - timedelta(days=7))["FREQ"]
    hours = sorted((lo - datetime(2026, 12, 3, tzinfo=UTC)) // hour for lo, _ in state.retry)
    assert hours == [1, 2, 5]
    assert sorted((lo - datetime(2026, 12, 3, tzinfo=UTC)) // hour for lo, _ in state.done) == [
        0,
        7,
    ]
    assert read_done_windows(con, "bmrs", ["FREQ"])["FREQ"].retry == []  # no look-back asked
