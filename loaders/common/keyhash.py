"""`_record_hash`: a stable 64-bit hash of a record's typed key columns, and its migration.

The hash is the first 8 bytes of the MD5 of the key's canonical text, read big-endian as a
signed 64-bit integer (BIGINT on DuckDB, INT64 on BigQuery: one Arrow type, int64, on both
targets; BigQuery has no unsigned integer). MD5 and the canonical text are fixed definitions,
so the value is the same on every run, machine and DuckDB release; DuckDB's own `hash()` is
not (its algorithm may change between releases, and a stored hash is compared with the next
load's). The canonical text of a key is its typed values joined by U+001F, a null as U+001E;
a timestamp as its microseconds since the epoch (no time zone or text format involved), every
other type as DuckDB's text of the typed value.

Rows are merged on `_natural_key`, not on this hash, so a hash collision can never merge two
records (see docs/contributing.md).

Raw tables written before the hash was 64-bit hold an MD5 text of every field: `migrate_table`
converts one in place, in one DuckDB transaction (all or nothing, so a kill -9 leaves the old
table whole and the next load migrates it again), on its first load after the upgrade.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from loaders.testing import failpoints

log = logging.getLogger(__name__)

RECORD_HASH = "_record_hash"
# the key columns travel with a converted table, so whoever commits it can migrate its table
KEY_METADATA = b"gw_key_columns"
_SEPARATOR, _NULL = "\x1f", "\x1e"
_SIGN = 9223372036854775808  # 2**63


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _canonical(column: str | None, logical_type: str) -> str:
    if column is None:  # a key column the table never had: null in every stored row
        return "null::varchar"
    value = _q(column)
    if logical_type == "timestamp":
        return f"epoch_us({value})::varchar"
    return f"{value}::varchar"


def key_hash_sql(columns: Sequence[tuple[str | None, str]]) -> str:
    """SQL for the hash of typed key `columns` ((column, logical type) pairs), as BIGINT."""
    text = (
        "concat_ws(chr(31), "
        + ", ".join(f"coalesce({_canonical(c, t)}, chr(30))" for c, t in columns)
        + ")"
    )
    unsigned = f"('0x' || left(md5({text}), 16))::ubigint"
    # two's complement by hand: flip the sign bit, then shift the range down by 2**63
    return f"(xor({unsigned}, {_SIGN}::ubigint)::hugeint - {_SIGN})::bigint"


def key_hash(values: Sequence[str | None]) -> int:
    """The same hash in Python, from the key values' canonical text (None for null)."""
    text = _SEPARATOR.join(_NULL if v is None else v for v in values)
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big", signed=True)


def with_key_columns(table: pa.Table, columns: Sequence[tuple[str, str]]) -> pa.Table:
    """`table` carrying its key columns in its schema metadata (read by `key_columns`)."""
    metadata = dict(table.schema.metadata or {})
    metadata[KEY_METADATA] = json.dumps([list(c) for c in columns]).encode()
    return table.replace_schema_metadata(metadata)


def key_columns(tables: Sequence[Any]) -> list[tuple[str, str]] | None:
    """The key columns the converter recorded on the first Arrow table (None: not known)."""
    for table in tables:
        if isinstance(table, pa.Table):
            raw = (table.schema.metadata or {}).get(KEY_METADATA)
            return [(c, t) for c, t in json.loads(raw)] if raw else None
    return None


_DUCKDB_TYPES = {
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP": "timestamp",
}


def migrate_table(con: Any, schema: str, table: str, columns: Sequence[tuple[str, str]]) -> bool:
    """Convert `schema.table`'s text `_record_hash` (an MD5 of every field, written before the
    upgrade) into the 64-bit key hash, in one transaction; False when there is nothing to do
    (no such table, or already converted). The stored columns' own types decide the canonical
    text, so a key column stored as a timestamp hashes as the converter hashes it."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    stored = dict(rows)
    if stored.get(RECORD_HASH) != "VARCHAR":
        return False
    typed = [
        (c if c in stored else None, _DUCKDB_TYPES.get(stored.get(c, ""), "string"))
        for c, _ in columns
    ]
    expression = key_hash_sql(typed)
    con.execute("begin")
    try:
        con.execute(
            f"alter table {_q(schema)}.{_q(table)} alter {RECORD_HASH} type bigint "
            f"using {expression}"
        )
        failpoints.hit("keyhash.before_migration_commit")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    log.info("migrated %s.%s: _record_hash is now the 64-bit key hash", schema, table)
    return True
