"""One commit for every load: stage rows through dlt, merge them on the natural key, and record
the batch in `ops` (load log, schema changes, IRIS stats) in the same hold of the write lock.

The API loads (`engine.run_tasks`, a batch of windows at a time) and the IRIS flush (a batch of
landing files at a time) both commit through `Committer`, so both keep the same guarantees:

- a batch's rows and its ops rows are written in one hold of the warehouse write lock, the ops
  rows right after the rows, so a crash between the two only means the batch is fetched or
  flushed again (the merge on `_natural_key` keeps that idempotent), never that a window is
  marked done without its rows;
- load packages an interrupted run left behind are dropped on first use (their windows were
  never marked done, so they come again), and loaded packages are pruned;
- a raw table an older release wrote with a text `_record_hash` is converted to the 64-bit key
  hash (keyhash.py) under the same lock, in its own transaction, before rows are loaded into it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from loaders.common.keyhash import key_columns, migrate_table
from loaders.common.ops import (
    LoadLogRow,
    SchemaChange,
    ensure_ops_tables,
    write_iris_stats,
    write_load_log,
    write_schema_changes,
)
from loaders.common.warehouse import (
    connect_duckdb,
    dataset_name,
    dlt_pipeline,
    load_package,
    prune_loaded_packages,
    write_lock,
)
from loaders.settings import Settings

log = logging.getLogger(__name__)

NATURAL_KEY = "_natural_key"


def merge_resource(data: Any, *, name: str, table_name: str | None = None) -> Any:
    """The dlt resource every raw table is loaded through: merge on `_natural_key` (a reload
    replaces a record instead of adding it), columns kept flat (no child tables)."""
    import dlt

    resource = dlt.resource(
        data,
        name=name,
        table_name=table_name or name,
        write_disposition="merge",
        primary_key=NATURAL_KEY,
        max_table_nesting=0,
    )
    # what the committer needs to migrate the table's `_record_hash` first (keyhash.py)
    keys = key_columns(data) if isinstance(data, list) else None
    resource.gw_key_columns = (table_name or name, keys)
    return resource


@dataclass
class OpsRows:
    """What a batch writes to `ops` beside its rows."""

    load_log: list[LoadLogRow]
    schema_changes: list[SchemaChange] = field(default_factory=list)
    iris_stats: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Batch:
    """One commit: the resources to merge, and the ops rows that describe them."""

    purpose: str  # names the lock holder for whoever waits: "bmrs load", "iris flush"
    ops: Callable[[str | None], OpsRows]  # given the load id of the rows (None: none loaded)
    # staged before the lock is taken, so the lock is held only for the load itself
    resources: Sequence[Any] = ()
    # built under the lock, for rows that depend on what is stored (IRIS: the later-published
    # record wins, so incoming rows are compared with the stored ones first)
    resources_under_lock: Callable[[], Sequence[Any]] | None = None
    # run under the lock after the ops rows (the API loads' no-op checkpoint cache)
    then: Callable[[], None] | None = None


class Committer:
    """Lands batches through one dlt pipeline, created on first use."""

    def __init__(
        self, settings: Settings, pipeline_name: str, raw_schema: str, run_id: str
    ) -> None:
        self.settings = settings
        self.pipeline_name = pipeline_name
        self.raw_schema = raw_schema
        self.run_id = run_id
        self._pipeline: Any = None
        self._migrated: set[str] = set()  # tables whose `_record_hash` is known converted

    def pipeline(self) -> Any:
        if self._pipeline is None:
            self._pipeline = dlt_pipeline(self.settings, self.pipeline_name, self.raw_schema)
            if self._pipeline.has_pending_data:
                log.warning(
                    "dropping unfinished load packages of pipeline %s left by an "
                    "interrupted run; they are fetched or flushed again",
                    self.pipeline_name,
                )
                self._pipeline.drop_pending_packages()
        return self._pipeline

    def commit(self, batch: Batch) -> str | None:
        """Stage, load and log one batch; returns the dlt load id (None when no rows)."""
        resources = list(batch.resources)
        staged = self._stage(resources)
        with write_lock(self.settings, batch.purpose), _warehouse_open(self.settings):
            if batch.resources_under_lock is not None:
                under_lock = list(batch.resources_under_lock())
                staged = self._stage(under_lock) or staged
                resources += under_lock
            self._migrate(resources)
            load_id = None
            if staged:
                info = load_package(self.settings, self.pipeline())
                load_id = info.loads_ids[-1] if info.loads_ids else None
            write_ops(self.settings, batch.ops(load_id), self.run_id)
            if batch.then is not None:
                batch.then()
        if staged:
            prune_loaded_packages(self.settings, self.pipeline_name)
        return load_id

    def _migrate(self, resources: Sequence[Any]) -> None:
        """Convert the batch's raw tables written before `_record_hash` was the 64-bit key hash,
        once each (under the write lock, before dlt loads rows of the new type into them)."""
        if self.settings.target != "duckdb":
            return
        tables = [getattr(r, "gw_key_columns", None) for r in resources]
        pending = [(t, k) for t, k in filter(None, tables) if k and t not in self._migrated]
        if not pending:
            return
        con = connect_duckdb(self.settings)
        try:
            for table, keys in pending:
                migrate_table(con, dataset_name(self.settings, self.raw_schema), table, keys)
                self._migrated.add(table)
        finally:
            con.close()

    def _stage(self, resources: Sequence[Any]) -> bool:
        """dlt extract + normalize into a load package; False when there is nothing to stage."""
        if not resources:
            return False
        pipeline = self.pipeline()
        pipeline.extract(list(resources))
        pipeline.normalize()
        return True


def write_ops(settings: Settings, rows: OpsRows, run_id: str) -> None:
    """The batch's load log, schema changes and IRIS stats, in one transaction on DuckDB."""
    if settings.target != "duckdb":
        from loaders.common.bigquery_ops import log_batch_bigquery, write_iris_stats_bigquery

        log_batch_bigquery(settings, rows.load_log, rows.schema_changes, run_id)
        if rows.iris_stats:
            write_iris_stats_bigquery(settings, rows.iris_stats)
        return
    con = connect_duckdb(settings)
    try:
        ensure_ops_tables(con)
        con.execute("begin")
        write_load_log(con, rows.load_log)
        write_schema_changes(con, rows.schema_changes, run_id)
        write_iris_stats(con, rows.iris_stats)
        con.execute("commit")
    finally:
        con.close()


@contextlib.contextmanager
def _warehouse_open(settings: Settings) -> Iterator[None]:
    """Keep the DuckDB file open for one commit (under the write lock), so the connections dlt's
    load and the ops writes open share one database instance: closing the last connection
    checkpoints the file and opening it reads its metadata back, once per commit instead of
    several times."""
    if settings.target != "duckdb":
        yield
        return
    con = connect_duckdb(settings)
    try:
        yield
    finally:
        con.close()
