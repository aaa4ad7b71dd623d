"""The warehouse: one DuckDB file shared by many processes (or BigQuery), and its write lock.

DuckDB lets one process write at a time, and a writer blocks other processes' readers. So
writers take an advisory lock file in the data folder only for the commit of one batch, waiting
with backoff up to a timeout, and readers retry briefly while a commit is in progress.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders.errors import DiskSpaceError, WarehouseBusyError
from loaders.settings import Settings

log = logging.getLogger(__name__)


@contextlib.contextmanager
def write_lock(settings: Settings, purpose: str) -> Iterator[None]:
    """Hold the warehouse write lock; waits with backoff, then fails with who holds it."""
    what = f"the warehouse {settings.duckdb_path} is being written by another process"
    with file_lock(settings.lock_path, purpose, settings.lock_timeout_s, what):
        yield


@contextlib.contextmanager
def run_lock(settings: Settings, pipeline_name: str) -> Iterator[None]:
    """One run per dlt pipeline at a time (its working folder is not shared safely)."""
    path = settings.pipelines_dir / f"{pipeline_name}.run.lock"
    what = f"another `{pipeline_name}` load is running"
    with file_lock(path, f"{pipeline_name} run", settings.lock_timeout_s, what):
        yield


@contextlib.contextmanager
def file_lock(path: Path, purpose: str, timeout_s: float, what: str) -> Iterator[None]:
    """An exclusive advisory lock on `path`; waits with backoff, then names the holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"{what} ({_holder(path)}) and the lock stayed held for {timeout_s:.0f}s; "
                        "try again later or raise GRIDWAREHOUSE_LOCK_TIMEOUT_S"
                    ) from None
                time.sleep(delay + random.uniform(0, delay))
                delay = min(delay * 2, 2.0)
        try:
            _holder_path(path).write_text(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "purpose": purpose,
                        "since": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                )
            )
            yield
        finally:
            with contextlib.suppress(OSError):
                _holder_path(path).unlink()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder_path(lock: Path) -> Path:
    return lock.with_suffix(".holder")


def _holder(lock: Path) -> str:
    try:
        info = json.loads(_holder_path(lock).read_text())
        return f"pid {info['pid']}: {info['purpose']} since {info['since']}"
    except (OSError, ValueError, KeyError):
        return "holder unknown"


def connect_duckdb(settings: Settings, *, read_only: bool = False, attempts: int = 20) -> Any:
    """Open the DuckDB file. Readers retry while a writer commits; writers must hold the lock."""
    import duckdb

    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    if read_only and not settings.duckdb_path.exists():
        duckdb.connect(str(settings.duckdb_path)).close()  # an empty warehouse reads as empty
    delay = 0.05
    for attempt in range(attempts):
        try:
            return duckdb.connect(str(settings.duckdb_path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise WarehouseBusyError(
                    f"cannot open {settings.duckdb_path}: {exc}. Another process may be writing "
                    "to it; try again in a moment"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


def dlt_destination(settings: Settings) -> Any:
    """The dlt destination for the configured target."""
    import dlt

    if settings.target == "duckdb":
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        # DuckDB's buffer pool would otherwise keep growing with the table a load merges into
        credentials = DuckDbCredentials(
            str(settings.duckdb_path.resolve()),
            global_config={"memory_limit": settings.duckdb_memory_limit},
        )
        return dlt.destinations.duckdb(credentials=credentials)
    from loaders.common.bigquery import bigquery_destination

    return bigquery_destination(settings)


def dataset_name(settings: Settings, schema: str) -> str:
    """Warehouse schema (DuckDB) or dataset (BigQuery, with the optional prefix)."""
    if settings.target == "bigquery" and settings.bq_dataset_prefix:
        return f"{settings.bq_dataset_prefix}{schema}"
    return schema


BIGQUERY_STAGING_LAYOUT = "_%s_staging"
# dlt's default layout, which the DuckDB destination keeps
DUCKDB_STAGING_LAYOUT = "%s_staging"

# dlt settings every pipeline here needs: `_dlt_load_id` on Arrow rows (the contract's raw
# columns), and no telemetry calls from machines that may be offline.
DLT_DEFAULTS = {
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    # dlt merges through a staging dataset beside each raw one; BI users must not see it.
    # BigQuery hides datasets whose names start with "_"; DuckDB cannot hide a schema, so
    # load_package drops it after each load instead.
    "DESTINATION__BIGQUERY__STAGING_DATASET_NAME_LAYOUT": BIGQUERY_STAGING_LAYOUT,
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "LOAD__DELETE_COMPLETED_JOBS": "true",
}
# Loaded packages dlt keeps for `dlt pipeline <name> info|show|trace`; older ones are removed, or
# the IRIS receiver (a package every few seconds) would fill the disk with them.
KEEP_LOADED_PACKAGES = 100


def dlt_pipeline(settings: Settings, name: str, schema: str) -> Any:
    """A dlt pipeline named after the source, its state under data/pipelines."""
    for key, value in DLT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    import dlt

    settings.pipelines_dir.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(settings.pipelines_dir.resolve()),
        destination=dlt_destination(settings),
        dataset_name=dataset_name(settings, schema),
    )


def load_package(settings: Settings, pipeline: Any) -> Any:
    """dlt's load step (under the caller's write lock), then on DuckDB drop the merge staging
    schema it leaves behind: dlt truncates and recreates its tables at every load anyway, and
    a `raw_bmrs_staging` beside `raw_bmrs` would show BI users a half-copy of the raw data."""
    info = pipeline.load()
    if settings.target == "duckdb":
        staging = DUCKDB_STAGING_LAYOUT % pipeline.dataset_name
        con = connect_duckdb(settings)
        try:
            con.execute(f'drop schema if exists "{staging}" cascade')
        finally:
            con.close()
    return info


def prune_loaded_packages(settings: Settings, pipeline_name: str) -> int:
    """Remove all but the newest KEEP_LOADED_PACKAGES completed load packages of a pipeline."""
    import shutil

    folder = settings.pipelines_dir / pipeline_name / "load" / "loaded"
    if not folder.is_dir():
        return 0
    packages = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name)
    stale = packages[:-KEEP_LOADED_PACKAGES] if len(packages) > KEEP_LOADED_PACKAGES else []
    for package in stale:
        shutil.rmtree(package, ignore_errors=True)
    return len(stale)


def check_free_space(settings: Settings) -> float:
    """Refuse to start a load when the data folder's disk has less free space than
    GRIDWAREHOUSE_MIN_FREE_GB; returns the free GB."""
    import shutil

    folder = settings.data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the folder may not exist yet: measure where it will be
    free_gb = shutil.disk_usage(folder).free / 1024**3
    if free_gb < settings.min_free_gb:
        raise DiskSpaceError(
            f"only {free_gb:.1f} GB free on the disk of {settings.data_dir.resolve()}; loads "
            f"need at least {settings.min_free_gb:g} GB (GRIDWAREHOUSE_MIN_FREE_GB). Free some "
            "space (old logs in data/logs, the IRIS archive, old backups) and run again"
        )
    return free_gb
