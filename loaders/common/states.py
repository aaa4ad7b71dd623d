"""What the load log says is done, per dataset, read from the configured warehouse.

Apart from ops.py so that ops (the DuckDB side) and bigquery_ops (which builds on ops' rows)
do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from loaders.common.bigquery_ops import read_done_windows_bigquery
from loaders.common.ops import OpsState, read_done_windows
from loaders.common.warehouse import connect_duckdb


def read_states(
    settings: Any, source: str, datasets: Sequence[str], retry_since: datetime | None = None
) -> dict[str, OpsState]:
    """Done windows per dataset from the configured warehouse (empty when nothing is loaded);
    with `retry_since`, the windows ending after it to fetch again."""
    if settings.target != "duckdb":
        return read_done_windows_bigquery(settings, source, datasets, retry_since)
    if not settings.duckdb_path.exists():
        return {name: OpsState() for name in datasets}
    con = connect_duckdb(settings, read_only=True, ops_only=True)
    try:
        return read_done_windows(con, source, datasets, retry_since)
    finally:
        con.close()
