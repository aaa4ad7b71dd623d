"""Run dbt against the configured warehouse with the project's own profile."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import yaml

from loaders.common.bigquery import require_bigquery_settings
from loaders.common.warehouse import build_lock, ops_snapshot_path
from loaders.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


def ensure_profiles(project_root: Path = PROJECT_ROOT) -> Path:
    """profiles.yml beside dbt_project.yml, copied from profiles.yml.example when missing."""
    profiles = project_root / "profiles.yml"
    if not profiles.exists():
        shutil.copyfile(project_root / "profiles.yml.example", profiles)
    return profiles


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for dbt: the resolved target and warehouse location, absolute paths."""
    env = dict(os.environ)
    env["GRIDWAREHOUSE_TARGET"] = settings.target
    env["GRIDWAREHOUSE_DUCKDB_PATH"] = str(settings.duckdb_path.resolve())
    if settings.bq_project:
        env["GRIDWAREHOUSE_BQ_PROJECT"] = settings.bq_project
    env["GRIDWAREHOUSE_BQ_LOCATION"] = settings.bq_location
    env["GRIDWAREHOUSE_BQ_DATASET_PREFIX"] = settings.bq_dataset_prefix
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DBT_LOG_PATH", str((settings.data_dir / "logs" / "dbt").resolve()))
    return env


def run_dbt(
    settings: Settings, args: Sequence[str], *, lock: bool = True, output: IO[str] | None = None
) -> int:
    """Run `dbt <args>` in the project, holding the warehouse lock as a build while dbt runs
    (readers of the load log use its snapshot meanwhile; loads wait for it).
    `output`: a file for dbt's whole console output (uncoloured) instead of the terminal."""
    if settings.target == "bigquery":
        require_bigquery_settings(settings)
    profiles_dir = Path(os.environ.get("GRIDWAREHOUSE_DBT_PROFILES_DIR") or PROJECT_ROOT)
    if profiles_dir == PROJECT_ROOT:
        ensure_profiles()
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt) if dbt.exists() else "dbt",
        *args,
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(profiles_dir.resolve()),
    ]
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    env = dbt_env(settings)
    if output is not None:
        env["DBT_USE_COLORS"] = "false"  # a log file, not a terminal: no ANSI codes in it
    streams = {"stdout": output, "stderr": subprocess.STDOUT} if output is not None else {}
    if lock:
        with build_held(settings, f"dbt {args[0] if args else ''}"):
            return _call(settings, command, env, streams)
    return _call(settings, command, env, streams)


@contextlib.contextmanager
def build_held(settings: Settings, purpose: str) -> Iterator[None]:
    """The warehouse lock of a build (DuckDB only), for a caller that reads the load log just
    before the build it starts with `run_dbt(..., lock=False)`: its snapshot is then current."""
    if settings.target != "duckdb":
        yield
        return
    with build_lock(settings, purpose):
        yield


def _call(settings: Settings, command: list[str], env: dict[str, str], streams: Any) -> int:
    """Run dbt; a build also recomputes from the earliest day loaded since the last build."""
    if "build" not in command[1:2]:
        return subprocess.call(command, env=env, cwd=PROJECT_ROOT, **streams)
    started = datetime.now(UTC)
    command = with_rebuild_from(command, rebuild_from(settings))
    code = subprocess.call(command, env=env, cwd=PROJECT_ROOT, **streams)
    if code == 0:
        marker = last_build_marker(settings)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(started.isoformat())
    return code


def last_build_marker(settings: Settings) -> Path:
    """When the last successful `dbt build` through gridwarehouse started (UTC)."""
    return settings.pipelines_dir / "dbt.last_build"


def rebuild_from(settings: Settings) -> str | None:
    """The earliest settlement day of the windows loaded since the last successful build
    started, as an ISO date (None without a previous build or nothing new). The incremental
    marts recompute from there when it is older than their lookback, so a backfill of old
    days reaches them without a --full-refresh (macros/incremental.sql, var rebuild_from)."""
    marker = last_build_marker(settings)
    if not marker.exists():
        return None
    since = datetime.fromisoformat(marker.read_text().strip())
    # the incremental marts are built from BMRS datasets (loaded from the API or IRIS); a NESO
    # or DNO file spans years and would only make every build after it a full one
    sql = (
        "select min(cast(window_start as date)) from {table} where source in ('bmrs', 'iris') "
        "and status in ('ok', 'fallback') and rows > 0 "
        f"and finished_at >= {{stamp}} '{since.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00:00'"
    )
    try:
        earliest = _first_value(settings, sql)
    except Exception as exc:  # no load log yet, or unreadable: the lookback alone decides
        log.warning("could not read the load log for the build's window: %s", exc)
        return None
    return None if earliest is None else str(earliest)[:10]


def _first_value(settings: Settings, sql: str) -> Any:
    if settings.target == "bigquery":
        from loaders.common.bigquery_ops import ops_table, query_rows  # google clients: heavy

        # BigQuery's TIMESTAMP literal (without `stamp` the format raised KeyError and the
        # build's window ignored every backfill on BigQuery)
        table = ops_table(settings, "load_log")
        rows = query_rows(settings, sql.format(table=table, stamp="timestamp"), as_tuples=True)
        return rows[0][0] if rows else None
    import duckdb  # not needed by commands that never build

    path = ops_snapshot_path(settings)  # written by the build lock, read while dbt waits
    if not path.exists():
        path = settings.duckdb_path
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql.format(table="ops.load_log", stamp="timestamptz")).fetchone()[0]
    finally:
        con.close()


def with_rebuild_from(command: list[str], day: str | None) -> list[str]:
    """`command` with `rebuild_from: day` added to its --vars (kept when the user set it)."""
    if day is None or "--full-refresh" in command:
        return command
    if "--vars" not in command:
        return [*command, "--vars", json.dumps({"rebuild_from": day})]
    at = command.index("--vars") + 1
    given = yaml.safe_load(command[at]) or {}
    merged = {"rebuild_from": day, **given}
    return [*command[:at], json.dumps(merged), *command[at + 1 :]]


def build(settings: Settings, extra: Sequence[str]) -> int:
    """`gridwarehouse build`: dbt build; exit 1 when a model or test fails."""
    started = datetime.now(UTC)
    code = run_dbt(settings, ["build", *extra])
    if code == 0 and not extra:  # a full build: `run` may build selectively from now on
        mark_built(settings)
        mark_full_tests(settings, started)  # and every data test checked every row
    return 0 if code == 0 else 1


# -- data tests scoped to a window (macros/test_window.sql) -------------------------------------


def full_tests_marker(settings: Settings) -> Path:
    """When the last successful build whose data tests checked every row started (UTC)."""
    return settings.pipelines_dir / "dbt.last_full_test"


def mark_full_tests(settings: Settings, started: datetime) -> None:
    marker = full_tests_marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(started.isoformat())


def full_tests_due(settings: Settings, now: datetime) -> bool:
    """Whether the last full test pass is older than GRIDWAREHOUSE_FULL_TEST_EVERY (or never ran:
    a missing or unreadable marker is due, so a doubt always tests everything)."""
    try:
        last = datetime.fromisoformat(full_tests_marker(settings).read_text().strip())
    except (OSError, ValueError):
        return True
    return now - last >= settings.full_test_every


def lookback_days(project_root: Path = PROJECT_ROOT) -> int:
    """The incremental marts' lookback (var incremental_lookback_days in dbt_project.yml)."""
    project = yaml.safe_load((project_root / "dbt_project.yml").read_text())
    return int(project["vars"]["incremental_lookback_days"])


def tests_window_start(settings: Settings) -> str | None:
    """The first settlement day a scoped test pass checks, as an ISO date: `lookback_days`
    before the earliest day loaded since the last build (rebuild_from). Every raw row loaded
    since is on or after it, and so is every mart row those rows can change (the incremental
    marts re-read the same lookback before new data), so the tests see what this build could
    change. None (test everything) when there is no earlier build or the load log cannot say."""
    earliest = rebuild_from(settings)
    if earliest is None:
        return None
    return (date.fromisoformat(earliest) - timedelta(days=lookback_days())).isoformat()


def project_fingerprint() -> str:
    """Names and sizes of the dbt project's files: a new or changed model changes it."""
    digest = hashlib.sha256()
    for folder in ("models", "macros", "seeds", "snapshots"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(PROJECT_ROOT)}:{path.stat().st_size}".encode())
    digest.update((PROJECT_ROOT / "dbt_project.yml").read_bytes())
    return digest.hexdigest()[:16]


def built_marker(settings: Settings) -> Path:
    """Holds the fingerprint of the project version this warehouse last had a full build of."""
    return settings.pipelines_dir / "dbt.built"


def mark_built(settings: Settings) -> None:
    marker = built_marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(project_fingerprint())
