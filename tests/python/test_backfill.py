"""`gridwarehouse backfill`: resumable, survives kill -9, and ends equal to an uninterrupted load.

The volume is SYNTHETIC (bench/synthetic_data.py): the recorded real BOALF records repeated
over ten days with shifted times, served by a replay server of its own.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from bench.synthetic_data import synthetic_boalf
from loaders.testing.replay import RecordSet, ReplayServer

from .conftest import GRIDWAREHOUSE, Cli, make_cli

pytestmark = pytest.mark.slow
RANGE = ("--from", "2024-06-01", "--to", "2024-06-12")
SETTINGS = {
    "GRIDWAREHOUSE_BMRS_WINDOWS": "BOALF=1h",  # 264 windows
    "GRIDWAREHOUSE_COMMIT_WINDOWS": "6",  # many commits: kills land between and inside them
    "GRIDWAREHOUSE_BMRS_CONCURRENCY": "2",
}


@pytest.fixture(scope="module")
def synthetic_replay():
    records = synthetic_boalf(date(2024, 6, 1), days=10, copies_per_day=4)
    with ReplayServer(routes_file=None) as server:
        server.state.add(
            "/bmrs/datasets/BOALF/stream",
            RecordSet(
                records=records,
                shape="array",
                from_param="from",
                to_param="to",
                time_field="timeFrom",
                delay_s=0.02,
            ),
        )
        yield server, len(records)


def backfill_args() -> list[str]:
    return [str(GRIDWAREHOUSE), "backfill", "bmrs", "--dataset", "BOALF", *RANGE]


def table_state(cli: Cli) -> tuple[int, set[tuple[str, str]]]:
    rows = cli.query("select _natural_key, _record_hash from raw_bmrs.boalf")
    return len(rows), set(rows)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, synthetic_replay):
    server, total = synthetic_replay
    cli = make_cli(tmp_path_factory.mktemp("reference"), server)
    result = cli.run(*backfill_args()[1:], **SETTINGS)
    assert result.returncode == 0, result.stdout + result.stderr
    count, rows = table_state(cli)
    assert count == total == len(rows)
    return rows


def kill_after(cli: Cli, seconds: float) -> int:
    """Start a backfill, SIGKILL it after `seconds`; returns its exit status."""
    proc = subprocess.Popen(
        backfill_args(),
        env={**cli.env, **SETTINGS},
        cwd=cli.data_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=30)


@pytest.mark.parametrize("round_", range(3))
def test_kill_9_during_backfill_then_resume_equals_an_uninterrupted_load(
    tmp_path: Path, synthetic_replay, reference, round_
):
    server, total = synthetic_replay
    cli = make_cli(tmp_path, server)
    rng = random.Random(round_)
    for _ in range(2):  # killed twice at different points, then left to finish
        assert kill_after(cli, rng.uniform(2.0, 7.0)) == -signal.SIGKILL
    result = cli.run(*backfill_args()[1:], **SETTINGS)
    assert result.returncode == 0, result.stdout + result.stderr
    count, rows = table_state(cli)
    assert count == total, "rows lost or doubled"
    assert rows == reference
    # every window is done exactly once in the end, and the resumed run skipped done windows
    done = cli.query(
        "select count(distinct (window_start, window_end)) from ops.load_log "
        "where status in ('ok', 'empty')"
    )
    assert done == [(264,)]


def test_a_finished_backfill_is_skipped_when_run_again(tmp_path: Path, synthetic_replay):
    server, _ = synthetic_replay
    cli = make_cli(tmp_path, server)
    short = ("--from", "2024-06-01", "--to", "2024-06-02")
    first = cli.run("backfill", "bmrs", "--dataset", "BOALF", *short, **SETTINGS)
    assert "24 windows in range, 0 already loaded, 24 to load" in first.stdout
    again = cli.run("backfill", "bmrs", "--dataset", "BOALF", *short, **SETTINGS)
    assert again.returncode == 0
    assert "24 already loaded, 0 to load" in again.stdout and "nothing to load" in again.stdout
    longer = cli.run(
        "backfill",
        "bmrs",
        "--dataset",
        "BOALF",
        "--from",
        "2024-06-01",
        "--to",
        "2024-06-03",
        **SETTINGS,
    )
    assert "48 windows in range, 24 already loaded, 24 to load" in longer.stdout


def test_backfill_reports_progress_per_window_when_not_on_a_terminal(
    tmp_path: Path, synthetic_replay
):
    server, _ = synthetic_replay
    cli = make_cli(tmp_path, server)
    result = cli.run(
        "backfill",
        "bmrs",
        "--dataset",
        "BOALF",
        "--from",
        "2024-06-01",
        "--to",
        "2024-06-01T03:00",
        **SETTINGS,
    )
    assert result.returncode == 0
    assert "[1/3] BOALF 2024-06-01T" in result.stderr and "[3/3]" in result.stderr
    assert "committed" in result.stderr


def test_progress_bar_on_a_terminal_shows_windows_rows_rate_and_eta():
    import io

    from loaders.common.engine import FetchResult, Task, Window
    from loaders.progress import Progress

    stream = io.StringIO()
    progress = Progress(stream, tty=True)
    progress.start(4)
    progress.window_done(FetchResult(task=Task("BOD", Window(None, None)), status="ok", rows=1200))
    shown = stream.getvalue()
    assert "1/4 windows" in shown and "1,200 rows" in shown and "rows/s" in shown and "ETA" in shown
