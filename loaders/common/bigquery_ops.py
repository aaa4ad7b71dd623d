"""The `ops` tables on BigQuery: the same load log, schema changes and endpoint status as on
DuckDB, in a dataset named `ops` (after the optional prefix), written with DML jobs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from loaders.common.bigquery import require_bigquery_settings
from loaders.common.ops import LoadLogRow, OpsState, SchemaChange, classify_window
from loaders.settings import Settings, load_settings

_TABLES = {
    "load_log": """source STRING NOT NULL, dataset STRING NOT NULL, window_start TIMESTAMP,
        window_end TIMESTAMP, `rows` INT64, status STRING NOT NULL, started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL, attempts INT64, error STRING, notes STRING, run_id STRING,
        load_id STRING""",
    "schema_changes": """source STRING NOT NULL, dataset STRING NOT NULL, field STRING NOT NULL,
        change STRING NOT NULL, detail STRING, first_seen TIMESTAMP NOT NULL,
        last_seen TIMESTAMP NOT NULL, run_id STRING""",
    "endpoint_status": """checked_at TIMESTAMP NOT NULL, source STRING NOT NULL, endpoint STRING NOT NULL,
        url STRING, required BOOL, http_status INT64, latency_ms FLOAT64, verdict STRING NOT NULL,
        detail STRING""",
    "iris_stats": """recorded_at TIMESTAMP NOT NULL, queue STRING NOT NULL, dataset STRING NOT NULL,
        interval_start TIMESTAMP NOT NULL, interval_end TIMESTAMP NOT NULL, messages INT64 NOT NULL,
        records INT64 NOT NULL, messages_per_min FLOAT64, last_message_at TIMESTAMP,
        dead_letters INT64 NOT NULL, connection_drops INT64 NOT NULL, unknown_dataset BOOL,
        secret_expires DATE, warning STRING""",
}


def bigquery_client(settings: Settings) -> Any:
    """A BigQuery client for the configured project (anonymous against a local emulator)."""
    from google.cloud import bigquery

    project = require_bigquery_settings(settings)
    if os.environ.get("BIGQUERY_EMULATOR_HOST"):
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=project,
            location=settings.bq_location,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=os.environ["BIGQUERY_EMULATOR_HOST"]),
        )
    return bigquery.Client(project=project, location=settings.bq_location)


def _dataset(settings: Settings) -> str:
    return f"{settings.bq_project}.{settings.bq_dataset_prefix}ops"


def ops_table(settings: Settings, table: str) -> str:
    """An ops table's full name, quoted for a query."""
    return f"`{_dataset(settings)}.{table}`"


@cache
def _ensure(project: str, dataset: str, location: str, emulator: str | None) -> None:
    """Create the ops dataset and tables once per process (settings are hashable by parts)."""
    from google.cloud import bigquery

    client = bigquery_client(load_settings())
    client.create_dataset(bigquery.Dataset(dataset), exists_ok=True)
    for table, columns in _TABLES.items():
        client.query(f"create table if not exists `{dataset}.{table}` ({columns})").result()


def ensure_tables(settings: Settings) -> None:
    _ensure(
        settings.bq_project or "",
        _dataset(settings),
        settings.bq_location,
        os.environ.get("BIGQUERY_EMULATOR_HOST"),
    )


def _literal(value: Any) -> str:
    """A SQL literal for an ops value (no user-controlled SQL reaches here, but quote anyway)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"DATE '{value.isoformat()}'"
    if hasattr(value, "isoformat"):
        return f"TIMESTAMP '{value.astimezone(UTC).isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'").replace("\n", " ")
    return f"'{text}'"


def _insert(settings: Settings, table: str, rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    ensure_tables(settings)
    client = bigquery_client(settings)
    for start in range(0, len(rows), 500):  # keep each statement well under the query size limit
        values = ",\n".join(
            "(" + ", ".join(_literal(v) for v in row) + ")" for row in rows[start : start + 500]
        )
        client.query(f"insert into `{_dataset(settings)}.{table}` values {values}").result()


def log_batch_bigquery(
    settings: Settings, rows: Sequence[LoadLogRow], changes: Sequence[SchemaChange], run_id: str
) -> None:
    _insert(settings, "load_log", [r.as_tuple() for r in rows])
    if changes:
        now = datetime.now(UTC)
        known = {
            tuple(r)
            for r in query_rows(
                settings,
                (
                    f"select source, dataset, field, change from `{_dataset(settings)}.schema_changes`"
                ),
                as_tuples=True,
            )
        }
        fresh = {(c.source, c.dataset, c.field, c.change): c for c in changes}
        _insert(
            settings,
            "schema_changes",
            [
                (c.source, c.dataset, c.field, c.change, c.detail, now, now, run_id)
                for key, c in fresh.items()
                if key not in known
            ],
        )


def read_done_windows_bigquery(
    settings: Settings, source: str, datasets: Sequence[str], retry_since: datetime | None = None
) -> dict[str, OpsState]:
    """As ops.read_done_windows, on BigQuery."""
    states = {name: OpsState() for name in datasets}
    if not datasets:
        return states
    ensure_tables(settings)
    names = ", ".join(_literal(n) for n in datasets)
    table = f"`{_dataset(settings)}.load_log`"
    for row in query_rows(
        settings,
        f"""
            select dataset, window_start, window_end, status, started_at from (
                select dataset, window_start, window_end, status, started_at,
                       row_number() over (partition by dataset, window_start, window_end
                                          order by finished_at desc) as rn
                from {table}
                where source = {_literal(source)} and dataset in ({names}) and window_start is not null)
            where rn = 1 and (status in ('ok', 'empty', 'fallback')
                or (status in ('failed', 'skipped') and window_end > {_literal(retry_since)}))""",
    ):
        classify_window(
            states[row["dataset"]],
            row["window_start"],
            row["window_end"],
            row["status"],
            row["started_at"],
            retry_since,
        )
    for row in query_rows(
        settings,
        f"""
            select dataset, max(finished_at) as finished from {table}
            where source = {_literal(source)} and window_start is null and dataset in ({names})
              and status in ('ok', 'empty', 'fallback')
            group by dataset""",
    ):
        states[row["dataset"]].last_snapshot = row["finished"].astimezone(UTC)
    return states


def record_endpoint_status(settings: Settings, rows: Sequence[Sequence[Any]]) -> None:
    _insert(settings, "endpoint_status", rows)


def query_rows(settings: Settings, sql: str, *, as_tuples: bool = False) -> list[Any]:
    """Rows of a query run as a job (the emulator's fast path drops rows on unqualified names)."""
    result = bigquery_client(settings).query(sql).result()
    if as_tuples:
        return [tuple(row.values()) for row in result]
    return [dict(row.items()) for row in result]


def write_iris_stats_bigquery(settings: Settings, rows: Sequence[Sequence[Any]]) -> None:
    _insert(settings, "iris_stats", rows)
