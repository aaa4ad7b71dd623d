"""The warehouse: one DuckDB file shared by many processes (or BigQuery), and its write lock.

DuckDB lets one process write at a time, and a writer blocks other processes' readers. So
writers take an advisory lock file in the data folder only for the commit of one batch, waiting
with backoff up to a timeout, and readers retry briefly while a commit is in progress.

dbt is the one long writer: a build holds the file for minutes. It takes the lock as a *build*
(`build_lock`), first copying the `ops` schema into a small snapshot file. While it runs, the
readers of `ops` (status, status --serve, datasets list, load planning) read that snapshot —
nothing else can write meanwhile, so it is current — and every other writer or reader waits
for the build however long it takes, saying so every WAIT_NOTICE_S, instead of timing out.
The IRIS flush worker is such a writer: it waits while the receiver keeps landing messages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loaders.common.bigquery import bigquery_destination
from loaders.common.locks import BuildWait, file_lock, running_build, write_holder
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
def build_lock(settings: Settings, purpose: str) -> Iterator[None]:
    """Hold the write lock for a dbt build: snapshot `ops` for readers first, and let waiting
    writers know to wait for the build rather than time out."""
    what = f"the warehouse {settings.duckdb_path} is being written by another process"
    with file_lock(settings.lock_path, purpose, settings.lock_timeout_s, what, build=True):
        try:
            snapshot = write_ops_snapshot(settings)
        except Exception as exc:  # e.g. another program has the file open: readers then wait
            log.warning("no load-log snapshot for readers during the build: %s", exc)
        else:
            write_holder(settings.lock_path, purpose, build=True, snapshot=snapshot)
        yield


def ops_snapshot_path(settings: Settings) -> Path:
    """The copy of the `ops` schema that readers use while a build holds the warehouse."""
    return settings.duckdb_path.with_name(settings.duckdb_path.stem + ".ops-snapshot.duckdb")


def write_ops_snapshot(settings: Settings) -> Path:
    """Copy every `ops` table into the snapshot file (under the write lock, so it is current);
    small next to the warehouse, and replaced atomically."""
    import duckdb

    target = ops_snapshot_path(settings)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    con = duckdb.connect(str(partial))
    try:
        con.execute("create schema ops")
        if settings.duckdb_path.exists():
            con.execute(f"attach '{_sql_text(settings.duckdb_path)}' as warehouse (read_only)")
            tables = con.execute(
                "select table_name from duckdb_tables() where database_name = 'warehouse' "
                "and schema_name = 'ops'"
            ).fetchall()
            for (table,) in tables:
                con.execute(f'create table ops."{table}" as select * from warehouse.ops."{table}"')
    finally:
        con.close()
    os.replace(partial, target)
    return target


def _sql_text(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")


@contextlib.contextmanager
def run_lock(settings: Settings, pipeline_name: str) -> Iterator[None]:
    """One run per dlt pipeline at a time (its working folder is not shared safely)."""
    path = settings.pipelines_dir / f"{pipeline_name}.run.lock"
    what = f"another `{pipeline_name}` load is running"
    with file_lock(path, f"{pipeline_name} run", settings.lock_timeout_s, what):
        yield


def connect_duckdb(
    settings: Settings, *, read_only: bool = False, attempts: int = 20, ops_only: bool = False
) -> Any:
    """Open the DuckDB file. Readers retry while a writer commits; writers must hold the lock.
    While a build holds the file, a reader of `ops` tables only (`ops_only`) gets the build's
    snapshot of them, and anyone else waits for the build to finish."""
    import duckdb

    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    if read_only and not settings.duckdb_path.exists():
        duckdb.connect(str(settings.duckdb_path)).close()  # an empty warehouse reads as empty
    delay = 0.05
    attempt = 0
    waiting = BuildWait("reading the warehouse" if read_only else "writing the warehouse")
    while True:
        try:
            con = duckdb.connect(str(settings.duckdb_path), read_only=read_only)
            waiting.done()
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise _busy(settings, exc) from None
            build = running_build(settings.lock_path)
            if build is not None:
                snapshot = Path(build.get("snapshot") or "")
                if read_only and ops_only and build.get("snapshot") and snapshot.exists():
                    log.info(
                        "the warehouse is busy with %s (pid %s, since %s): reading its load "
                        "log as of then, from %s",
                        build.get("purpose"),
                        build.get("pid"),
                        build.get("since"),
                        snapshot,
                    )
                    return duckdb.connect(str(snapshot), read_only=True)
                waiting.notice(build)
                attempt, delay = 0, 1.0
            elif attempt >= attempts - 1:
                raise _busy(settings, exc) from None
            attempt += 1
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _busy(settings: Settings, exc: Exception) -> WarehouseBusyError:
    return WarehouseBusyError(
        f"cannot open {settings.duckdb_path}: {exc}. Another process may be writing "
        "to it; try again in a moment"
    )


def dlt_destination(settings: Settings) -> Any:
    """The dlt destination for the configured target."""
    import dlt

    if settings.target == "duckdb":
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        # DuckDB's buffer pool would otherwise keep growing with the table a load merges into;
        # raw rows have no order to keep, and keeping it makes a large insert buffer the
        # whole input (DuckDB's "Tuning Workloads" guide: preserve_insertion_order)
        credentials = DuckDbCredentials(
            str(settings.duckdb_path.resolve()),
            global_config={
                "memory_limit": settings.duckdb_memory_limit,
                "preserve_insertion_order": False,
            },
        )
        return dlt.destinations.duckdb(credentials=credentials)
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
