"""JSON response bodies -> typed Arrow tables, in an in-process DuckDB (C++, without the GIL).

Every field is first read as JSON, then cast by an explicit rule per logical type, so a value
that does not fit its column raises `TypeDrift` naming the field and value — DuckDB's own typed
reader would quietly round 1.5 into an integer column or turn `true` into 1. Numeric and boolean
text ("12", "true") is parsed, losslessly, and noted.

Each row also gets `_natural_key` (the key fields' JSON values as an array, what rows merge on)
and `_record_hash` (a stable 64-bit hash of the typed key columns, see keyhash.py); within one
body, the latest-published record per key wins (and, between records published at the same
time or without a publish time, the later one).
A record may carry `_message_id` (IRIS): it becomes that column and is not a source field.

A body whose records cannot land as they are raises a `RecordError` and nothing of it is kept:
records without their natural key (`MissingKey`: merged on what is left of the key they would
collapse into one row) and a new field whose column name is taken (`FieldCollision`).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from loaders.common.keyhash import key_hash_sql, with_key_columns
from loaders.common.records import (
    ARROW_TYPES,
    FieldCollision,
    FieldSpec,
    MissingKey,
    RecordError,
    TypeDrift,
)

MESSAGE_ID = "_message_id"  # reserved record field: the IRIS message a record came in
_DRIFT = re.compile(r"gw-drift\|(?P<field>[^|]*)\|(?P<expected>[^|]*)\|(?P<value>.*)", re.S)
_EXPECTED = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "timestamp": "an ISO timestamp",
    "date": "a date",
}


@dataclass
class Converted:
    """A body's records as a typed table, with what was learnt on the way."""

    table: pa.Table | None
    received: int
    keys_seen: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _connection() -> Any:
    """A fresh in-memory DuckDB per body (~6 ms): its memory goes back to the system at close,
    where a long-lived one would keep every freed block cached for the rest of a long load."""
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    con.execute("set TimeZone = 'UTC'")  # naive timestamps in a response mean UTC
    return con


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fail(spec: FieldSpec, col: str) -> str:
    return f"error('gw-drift|' || {_lit(spec.name)} || '|{spec.type}|' || {col}::varchar)"


def cast_expression(spec: FieldSpec, col: str) -> str:
    """SQL casting JSON column `col` to the field's type, or raising with the offending value.

    Works on the value's JSON text: numbers and booleans are cast straight from it (text like
    '1.5' is checked to be integral first, as DuckDB's integer cast would round it); JSON
    strings are unquoted (unescaped only when they contain a backslash) and parsed."""
    t = f"({col}::varchar)"
    quoted = f"left({t}, 1) = '\"'"
    content = (
        f"(case when strpos({t}, '\\') = 0 then substr({t}, 2, length({t}) - 2) "
        f"else ({col} ->> '$') end)"
    )
    missing = f"{t} is null or {t} = 'null'"
    if spec.type in ("string", "json"):
        return f"case when {quoted} then {content} else {t} end"
    if spec.type == "integer":
        number, text_number = f"try_cast({t} as double)", f"try_cast({content} as double)"
        return (
            f"case when {missing} then null "
            f"when {number} = floor({number}) then try_cast({t} as bigint) "
            f"when {quoted} and {text_number} = floor({text_number}) then try_cast({text_number} as bigint) "
            f"else {_fail(spec, col)}::bigint end"
        )
    if spec.type == "number":
        return (
            f"case when {missing} then null "
            f"when try_cast({t} as double) is not null then try_cast({t} as double) "
            f"when {quoted} and try_cast({content} as double) is not null then try_cast({content} as double) "
            f"else {_fail(spec, col)}::double end"
        )
    if spec.type == "boolean":
        return (
            f"case when {missing} then null when {t} in ('true', 'false') then {t} = 'true' "
            f"when {quoted} and lower(trim({content})) in ('true', 'false') then lower(trim({content})) = 'true' "
            f"else {_fail(spec, col)}::boolean end"
        )
    target = "timestamptz" if spec.type == "timestamp" else "date"
    return (
        f"case when {missing} then null "
        f"when {quoted} and try_cast({content} as {target}) is not null then try_cast({content} as {target}) "
        f"else {_fail(spec, col)}::{target} end"
    )


def _text_counts(fields: Sequence[FieldSpec]) -> list[str]:
    return [
        f"count_if(json_type({_q(f.name)}) = 'VARCHAR')"
        for f in fields
        if f.type in ("integer", "number", "boolean")
    ]


def csv_array(text: str, *, upper: bool = False) -> bytes:
    """CSV rows (header first) as a JSON array of objects, empty cells as null; `upper` makes
    the header names upper-case (portals vary the case of one dataset's headers)."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, [])
    names = [h.strip().upper() if upper else h.strip() for h in header]
    rows = [row for row in reader if row]
    if rows and len(rows[-1]) < len(names):
        # a file cut mid-row: its other rows would land as if the file were whole
        raise ValueError(
            f"its last row has {len(rows[-1])} of {len(names)} fields: the file was cut off"
        )
    return orjson.dumps(
        [{n: (v if v != "" else None) for n, v in zip(names, row, strict=False)} for row in rows]
    )


def convert(
    array: bytes,
    fields: Sequence[FieldSpec],
    key_fields: Sequence[str],
    *,
    published_field: str | None,
    source: str,
    loaded_at: datetime,
    scratch: Path | None = None,
    text_notes: bool = True,
    message_ids: bool = False,
    required_keys: Sequence[str] = (),
) -> Converted:
    """Typed table (declared fields, then any new ones as text, then the standard columns).
    `text_notes=False` for sources whose values are all text by nature (CSV files);
    `message_ids=True` when records carry `_message_id` (IRIS); `required_keys`: key fields no
    record may leave null (see `refuse_keyless`)."""
    stripped = array.strip()
    if stripped in (b"[]", b""):
        return Converted(None, 0)
    con = _connection()
    folder = scratch or Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(array)
        converted = _convert_file(
            con,
            name,
            fields,
            key_fields,
            published_field,
            source,
            loaded_at,
            message_ids,
            required_keys,
        )
        if not text_notes:
            converted.notes = [n for n in converted.notes if "text values parsed" not in n]
        return converted
    finally:
        con.close()
        os.unlink(name)


def _convert_file(
    con: Any,
    path: str,
    fields: Sequence[FieldSpec],
    key_fields: Sequence[str],
    published_field: str | None,
    source: str,
    loaded_at: datetime,
    message_ids: bool = False,
    required_keys: Sequence[str] = (),
) -> Converted:
    keys_seen, records, absent = _field_census(con, path, key_fields)
    try:
        return _convert_records(
            con,
            path,
            fields,
            key_fields,
            published_field,
            source,
            loaded_at,
            message_ids,
            keys_seen,
            absent,
            required_keys,
        )
    except RecordError as exc:
        exc.keys_seen, exc.received = keys_seen, records
        raise


def _field_census(
    con: Any, path: str, key_fields: Sequence[str]
) -> tuple[list[str], int, dict[str, int]]:
    """Every field name the records use, how many records there are, and per key field how
    many records lack it altogether (absent, not null: a renamed key field). One scan: records
    are grouped by their set of field names, which almost all of them share."""
    shapes = con.execute(
        "select json_keys(json) as names, count(*) from read_json_objects(?, format = 'array') "
        "group by names",
        [path],
    ).fetchall()
    seen: dict[str, None] = {}
    for names, _ in shapes:
        seen.update(dict.fromkeys(names or []))
    absent = {k: sum(n for names, n in shapes if k not in (names or [])) for k in key_fields}
    keys_seen = [k for k in seen if k != MESSAGE_ID]
    return keys_seen, sum(n for _, n in shapes), absent


# columns every raw table carries besides the source's fields (and dlt's own)
STANDARD_COLUMNS = ("_source", "_record_hash", "_natural_key", "_loaded_at", MESSAGE_ID)


def refuse_collisions(fields: Sequence[FieldSpec], extra: Sequence[FieldSpec]) -> None:
    """Refuse a new field whose column name is taken by a declared field, another new field,
    or a standard column: dlt would put both in one column (and turn it into text for good)."""
    taken = {f.column: f.name for f in fields} | {c: c for c in STANDARD_COLUMNS}
    for new in extra:
        other = taken.get(new.column)
        if other is not None or new.column.startswith("_dlt"):
            raise FieldCollision(
                f"new field '{new.name}' would land in column '{new.column}', which already "
                f"holds '{other or new.column}'; the body was refused, nothing of it written",
                new.name,
            )
        taken[new.column] = new.name


def refuse_keyless(
    con: Any,
    key_fields: Sequence[str],
    required: Sequence[str],
    absent: dict[str, int],
    received: int,
    key: str,
    digest: str,
) -> None:
    """Refuse records that lack their natural key. Merged on what is left of the key, distinct
    records would collapse into one row. A key field absent from a record (renamed) or null in a
    `required` key field is refused. Other key fields may legitimately be null (NOU2T3YW's
    systemZone, the BM unit registry's EIC), so a null there is refused only when the whole key
    is null, or when records sharing such a key differ."""
    names = ", ".join(key_fields)
    for name, count in absent.items():
        if count:
            raise MissingKey(
                f"{count} of {received} records lack the natural-key field '{name}' "
                f"(the key is {names}); none were taken",
                name,
            )
    if required:
        nulls = con.execute(
            "select " + ", ".join(f"count_if({_q(k)} is null)" for k in required) + " from body"
        ).fetchone()
        for name, count in zip(required, nulls, strict=True):
            if count:
                raise MissingKey(
                    f"{count} of {received} records have no value in the natural-key field "
                    f"'{name}' (the key is {names}); none were taken",
                    name,
                )
    every_null = " and ".join(f"{_q(k)} is null" for k in key_fields)
    any_null = " or ".join(f"{_q(k)} is null" for k in key_fields)
    keyless, shared = con.execute(
        f"select count_if({every_null}), (select count(*) from (select {key} as k from body "
        f"where {any_null} group by k having count(distinct {digest}) > 1)) from body"
    ).fetchone()
    if keyless:
        raise MissingKey(
            f"{keyless} of {received} records have no value in any natural-key field "
            f"({names}); they would collapse into one row, so none were taken",
            key_fields[0],
        )
    if shared:
        raise MissingKey(
            f"{shared} natural keys with a null part ({names}) are shared by records that "
            "differ, so they cannot be told apart; none were taken",
            key_fields[0],
        )


def _convert_records(
    con: Any,
    path: str,
    fields: Sequence[FieldSpec],
    key_fields: Sequence[str],
    published_field: str | None,
    source: str,
    loaded_at: datetime,
    message_ids: bool,
    keys_seen: list[str],
    absent: dict[str, int],
    required_keys: Sequence[str] = (),
) -> Converted:
    declared = {f.name for f in fields}
    extra = [FieldSpec(k, "json") for k in sorted(keys_seen) if k not in declared]
    refuse_collisions(fields, extra)
    every = [*fields, *extra]
    read = [f.name for f in every] + ([MESSAGE_ID] if message_ids else [])
    columns = "{" + ", ".join(f"{_lit(name)}: 'JSON'" for name in read) + "}"
    # one thread reads the file in order, so the row number is the record's position
    con.execute(
        f"create or replace temp table body as select *, row_number() over () as _gw_ord "
        f"from read_json(?, format = 'array', columns = {columns})",
        [path],
    )
    received = con.execute("select count(*) from body").fetchone()[0]
    notes = _parsed_text_notes(con, fields)
    # no declared key: the whole record identifies it (DNO datasets, portals.toml's default)
    key_fields = list(key_fields) or [f.name for f in every]
    key = (
        "'[' || concat_ws(',', "
        + ", ".join(f"coalesce({_q(k)}::varchar, 'null')" for k in key_fields)
        + ") || ']'"
    )
    digest = (
        "md5(concat_ws(chr(31), "
        + ", ".join(f"coalesce({_q(f.name)}::varchar, '')" for f in every)
        + "))"
    )
    order = (
        f"{cast_expression(_spec(every, published_field), _q(published_field))} desc nulls last, "
        if published_field in {f.name for f in every}
        else ""
    ) + "_gw_ord desc"
    selects = [f"{cast_expression(f, _q(f.name))} as {_q(f.column)}" for f in every]
    if message_ids:
        selects.append(
            f"{cast_expression(FieldSpec(MESSAGE_ID, 'string'), _q(MESSAGE_ID))} as {MESSAGE_ID}"
        )
    if key_fields:
        refuse_keyless(con, key_fields, required_keys, absent, received, key, digest)
    typed_key = _typed_key(every, key_fields)
    names = [f.column for f in every] + ([MESSAGE_ID] if message_ids else [])
    # the hash is taken over the typed values, so the outer select reads the inner's columns
    sql = f"""
        select {", ".join(_q(n) for n in names)},
               {_lit(source)} as _source,
               {key_hash_sql(typed_key)} as _record_hash,
               _natural_key,
               ?::timestamptz as _loaded_at
        from (
            select {", ".join(selects)}, {key} as _natural_key
            from body
            /* latest */
        )
    """
    table = _fetch(con, sql, loaded_at, every)
    # distinct hashes mean distinct keys, so a body without a repeated key (almost every one)
    # is read once; otherwise it is read again keeping the latest record per key
    if len(pc.unique(table.column("_record_hash"))) < table.num_rows:
        latest = f"qualify row_number() over (partition by {key} order by {order}) = 1"
        table = _fetch(con, sql.replace("/* latest */", latest), loaded_at, every)
    if table.num_rows < received:
        notes.append(
            f"{received - table.num_rows} records repeated a natural key; kept the latest published"
        )
    table = with_key_columns(_with_schema(table, every, message_ids), typed_key)
    return Converted(table, received, keys_seen, notes)


def _typed_key(fields: Sequence[FieldSpec], key_fields: Sequence[str]) -> list[tuple[str, str]]:
    """The key fields as (raw column, logical type), what `_record_hash` is taken over."""
    by_name = {f.name: f for f in fields}
    return [(by_name[k].column, by_name[k].type) for k in key_fields if k in by_name]


def _fetch(con: Any, sql: str, loaded_at: datetime, fields: Sequence[FieldSpec]) -> pa.Table:
    """Run the conversion query; a value that does not fit its column raises `TypeDrift`."""
    import duckdb

    try:
        return con.execute(sql, [loaded_at]).fetch_arrow_table()
    except duckdb.Error as exc:
        match = _DRIFT.search(str(exc))
        if match:
            spec = _spec(fields, match["field"])
            raise TypeDrift(
                spec.name, _EXPECTED.get(spec.type, spec.type), _value(match["value"])
            ) from None
        raise


def _spec(fields: Sequence[FieldSpec], name: str | None) -> FieldSpec:
    return next(f for f in fields if f.name == name)


def _value(text: str) -> Any:
    text = text.split("\n")[0].rstrip()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _parsed_text_notes(con: Any, fields: Sequence[FieldSpec]) -> list[str]:
    counts = _text_counts(fields)
    if not counts:
        return []
    row = con.execute(f"select {', '.join(counts)} from body").fetchone()
    typed = [f for f in fields if f.type in ("integer", "number", "boolean")]
    return [
        f"field {f.name}: text values parsed as {f.type} (lossless)"
        for f, n in zip(typed, row, strict=True)
        if n
    ]


_ARROW = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def _with_schema(
    table: pa.Table, fields: Sequence[FieldSpec], message_ids: bool = False
) -> pa.Table:
    """Exact column types (DuckDB's timestamptz arrives as us/UTC already) and a non-null key."""
    schema = []
    for f in fields:
        schema.append(pa.field(f.column, ARROW_TYPES[f.type]))
    if message_ids:
        schema.append(pa.field(MESSAGE_ID, pa.string()))
    schema += [
        pa.field("_source", pa.string()),
        pa.field("_record_hash", pa.int64()),
        pa.field("_natural_key", pa.string(), nullable=False),
        pa.field("_loaded_at", pa.timestamp("us", tz="UTC")),
    ]
    return table.cast(pa.schema(schema))
