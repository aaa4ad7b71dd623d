"""Shared fixtures: a replay server of the recorded real responses, and a CLI runner whose
settings point at it with a warehouse of the test's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loaders.testing.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "tests" / "data" / "recorded"
GRIDWAREHOUSE = Path(sys.executable).with_name("gridwarehouse")
# the settlement days of the recorded BOALF stream (bmrs/BOALF/boalf_stream_2024-05-01.json)
BOALF_FROM, BOALF_TO = "2024-05-01", "2024-05-03"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds (generous:
    the machines that run the suite are often loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def incremental_marts_in_sql() -> list[str]:
    """The marts whose SQL configures them incremental by day, read at collection time so each is
    a parametrized case: a new incremental mart is compared without editing a test."""
    return sorted(
        path.stem
        for path in (ROOT / "models" / "marts").rglob("*.sql")
        if "**incremental_by_day(" in path.read_text()
    )


def recorded_records(relative: str) -> list[dict[str, Any]]:
    """The records in a recorded response file ({"data": [...]} or a bare array)."""
    body = json.loads((RECORDED / relative).read_text())
    return body["data"] if isinstance(body, dict) else body


@dataclass
class Cli:
    """Runs `gridwarehouse` in a subprocess with the test's settings."""

    env: dict[str, str]
    data_dir: Path

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "gridwarehouse.duckdb"

    def run(self, *args: str, check: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(GRIDWAREHOUSE), *args],
            env={**self.env, **env},
            cwd=self.data_dir.parent,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if not self.duckdb_path.exists():
            return []
        con = duckdb.connect(str(self.duckdb_path), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def count(self, table: str) -> int:
        """Rows in a table; 0 when the table (or the warehouse) does not exist."""
        schema, name = table.split(".")
        exists = self.query(
            "select 1 from information_schema.tables where table_schema = "
            f"'{schema}' and table_name = '{name}'"
        )
        return self.query(f"select count(*) from {table}")[0][0] if exists else 0


@pytest.fixture(scope="session")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


def make_cli(tmp_path: Path, replay: ReplayServer) -> Cli:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRIDWAREHOUSE_", "IRIS_", "ISONE_"))
        and not k.endswith(("_API_TOKEN", "_API_KEYS"))
    }
    env.update(
        {
            "GRIDWAREHOUSE_DATA_DIR": str(data_dir),
            "GRIDWAREHOUSE_DUCKDB_PATH": str(data_dir / "gridwarehouse.duckdb"),
            "GRIDWAREHOUSE_BMRS_BASE_URL": replay.base_url("bmrs"),
            "GRIDWAREHOUSE_BMRS_REQUESTS_PER_S": "0",
            "GRIDWAREHOUSE_NESO_BASE_URL": replay.base_url("neso") + "/api/3/action",
            "GRIDWAREHOUSE_NESO_REQUESTS_PER_S": "0",
            "GRIDWAREHOUSE_DNO_REQUESTS_PER_S": "0",
            "GRIDWAREHOUSE_ISONE_BASE_URL": replay.base_url("isone") + "/api/v1.1",
            "GRIDWAREHOUSE_ISONE_WWW_BASE_URL": replay.base_url("isone") + "/www",
            "GRIDWAREHOUSE_ISONE_REQUESTS_PER_S": "0",
            # the replay server asks for no credentials; the loader needs some to call
            "ISONE_USERNAME": "replay-user",
            "ISONE_PASSWORD": "replay-password",
            **{
                f"GRIDWAREHOUSE_DNO_{dno}_BASE_URL": f"{replay.base_url('dno')}/{dno.lower()}"
                for dno in ("UKPN", "SPEN", "NPG", "ENWL", "NGED", "SSEN")
            },
            "GRIDWAREHOUSE_HTTP_BACKOFF_BASE_S": "0.01",
            "GRIDWAREHOUSE_HTTP_BACKOFF_MAX_S": "0.05",
            "GRIDWAREHOUSE_HTTP_MAX_RETRIES": "2",
            "GRIDWAREHOUSE_HTTP_TIMEOUT_S": "5",
            "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
            "DBT_LOG_PATH": str(tmp_path / "dbt_logs"),
        }
    )
    return Cli(env=env, data_dir=data_dir)


@pytest.fixture
def cli(tmp_path: Path, replay: ReplayServer) -> Cli:
    return make_cli(tmp_path, replay)


def load_bmrs(cli: Cli, *datasets: str, start: str, end: str) -> None:
    """Load BMRS datasets over [start, end) from the replay server; a failed load fails the test."""
    names = [arg for dataset in datasets for arg in ("--dataset", dataset)]
    cli.run("load", "bmrs", *names, "--from", start, "--to", end, check=True)


def load_recorded_boalf(cli: Cli, *also: str) -> None:
    """Load the recorded BOALF stream with the BMUNITS registry that places its units (and any
    further BMRS datasets over the same settlement days)."""
    load_bmrs(cli, "BOALF", "BMUNITS", *also, start=BOALF_FROM, end=BOALF_TO)


def build_models(cli: Cli, *selectors: str) -> subprocess.CompletedProcess[str]:
    """`gridwarehouse build` of the selected models with their parents (none: every model),
    failing the test with dbt's output unless every model and test passed."""
    # cautious: a test that also reads a model outside the selection would fail on its absence
    args = ["--select", *selectors, "--indirect-selection", "cautious"] if selectors else []
    result = cli.run("build", *args)
    assert result.returncode == 0, result.stdout[-5000:]
    return result
