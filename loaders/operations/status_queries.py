"""The `status` queries over the ops tables, on DuckDB (read-only) or BigQuery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from loaders.common.bigquery_ops import ensure_tables, query_rows
from loaders.common.warehouse import connect_duckdb, dataset_name
from loaders.settings import Settings

FAILED = ("failed", "forbidden", "needs_token", "not_found")
DONE = ("ok", "empty", "fallback")

# -- reading the ops tables ----------------------------------------------------------------

# A window is failing while its latest attempt failed; a later success clears it.
DATASETS_SQL = """
with ranked as (
    select source, dataset, window_end, rows, status, finished_at, error,
           row_number() over (partition by source, dataset, window_start, window_end
                              order by finished_at desc) as window_latest
    from {ops}.load_log
),
open_failed as (
    select source, dataset, error,
           row_number() over (partition by source, dataset order by finished_at desc) as rn
    from ranked
    where window_latest = 1 and status in ({failed})
),
agg as (
    select source, dataset,
           max(case when status in ({done}) then window_end end) as last_window_end,
           max(case when status in ({done}) then finished_at end) as last_success_at,
           max(finished_at) as last_attempt_at,
           sum(case when status in ({done}) and finished_at >= {since} then rows else 0 end)
               as rows_24h,
           sum(case when status in ({failed}) and finished_at >= {since} then 1 else 0 end)
               as failures_24h,
           sum(case when window_latest = 1 and status in ({failed}) then 1 else 0 end)
               as open_failures
    from ranked
    group by source, dataset
)
select agg.*, f.error as last_error
from agg
left join open_failed as f
    on f.source = agg.source and f.dataset = agg.dataset and f.rn = 1
order by agg.source, agg.dataset
"""

DAILY_SQL = """
select source, dataset, cast(finished_at as date) as day, sum(rows) as rows_loaded
from {ops}.load_log
where finished_at >= {since} and status in ({done})
group by source, dataset, cast(finished_at as date)
order by day, source, dataset
"""

RUNS_SQL = """
select run_id, source, min(started_at) as started_at, max(finished_at) as finished_at,
       sum(rows) as rows_loaded, count(*) as windows,
       sum(case when status in ({failed}) then 1 else 0 end) as failed
from {ops}.load_log
where finished_at >= {since} and run_id is not null
group by run_id, source
order by started_at desc
limit 200
"""

IRIS_SQL = """
select queue, dataset, max(recorded_at) as last_seen_at, max(last_message_at) as last_message_at,
       sum(case when interval_end >= {hour} then messages else 0 end) as messages_1h,
       sum(case when interval_end >= {since} then dead_letters else 0 end) as dead_letters_24h,
       sum(case when interval_end >= {since} then connection_drops else 0 end) as drops_24h
from {ops}.iris_stats
group by queue, dataset
"""

IRIS_LATEST_SQL = """
select queue, warning, cast(secret_expires as {text}) as secret_expires
from (select queue, warning, secret_expires,
             row_number() over (partition by queue order by recorded_at desc) as rn
      from {ops}.iris_stats where dataset = '*')
where rn = 1
"""


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Reader:
    """Runs the status queries on DuckDB (read-only) or BigQuery."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self.bigquery = settings.target == "bigquery"
        self._con: Any = None
        if self.bigquery:
            self.ops = f"`{settings.bq_project}.{dataset_name(settings, 'ops')}`"
        else:
            self.ops = "ops"

    def time_literal(self, instant: datetime) -> str:
        text = instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"timestamp '{text}+00'" if not self.bigquery else f"timestamp '{text}+00:00'"

    def query(self, template: str) -> list[dict[str, Any]]:
        sql = template.format(
            ops=self.ops,
            failed=_in(FAILED),
            done=_in(DONE),
            since=self.time_literal(self.now - timedelta(hours=24)),
            hour=self.time_literal(self.now - timedelta(hours=1)),
            text="string" if self.bigquery else "varchar",
        )
        if self.bigquery:
            return [dict(r) for r in query_rows(self.settings, sql)]
        cursor = self._con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def has(self, table: str) -> bool:
        if self.bigquery:
            ensure_tables(self.settings)
            return True
        return bool(
            self._con.execute(
                "select 1 from information_schema.tables where table_schema = 'ops' "
                "and table_name = ?",
                [table],
            ).fetchall()
        )

    def __enter__(self) -> Reader:
        if not self.bigquery and not self.settings.duckdb_path.exists():
            # nothing loaded yet: read an empty in-memory database, and create no file
            self._con = duckdb.connect(":memory:")
        elif not self.bigquery:
            self._con = connect_duckdb(self.settings, read_only=True, ops_only=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.close()
