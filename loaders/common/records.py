"""Turn decoded JSON records into typed Arrow tables with the standard raw columns.

Every raw row carries `_source`, `_record_hash` (of the record as received), `_natural_key`
(the dataset's natural key, encoded so that null parts still compare) and `_loaded_at`.
A value that does not fit its declared type is never coerced to null: it raises `TypeDrift`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from loaders.common.timeutil import parse_api_timestamp

ARROW_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "string": pa.string(),
    "json": pa.string(),
}

_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z_]+")


def snake_case(name: str) -> str:
    """`nationalGridBmUnit` -> `national_grid_bm_unit`; the raw column naming rule."""
    text = _NON_WORD.sub("_", name.strip())
    text = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", text))
    text = re.sub(r"_+", "_", text).strip("_").lower()
    return f"_{text}" if text[:1].isdigit() else text


class TypeDrift(ValueError):
    """A value arrived with a type its column does not hold."""

    def __init__(self, field: str, expected: str, value: Any) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__(f"field '{field}' expected {expected} but got {shown}")
        self.field = field
        self.expected = expected
        self.value = value


@dataclass(frozen=True)
class FieldSpec:
    """One source field: its name as received and its logical type (a key of ARROW_TYPES)."""

    name: str
    type: str

    @property
    def column(self) -> str:
        return snake_case(self.name)


def record_hash(record: Mapping[str, Any]) -> str:
    """Stable hash of a record as received (key order does not matter)."""
    return hashlib.blake2b(
        orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


def natural_key(record: Mapping[str, Any], key_fields: Sequence[str]) -> str:
    """The natural key encoded as a JSON array, so nulls and types stay distinct."""
    return orjson.dumps([record.get(name) for name in key_fields]).decode()


def latest_per_key(
    records: list[Mapping[str, Any]], key_fields: Sequence[str], published_field: str | None
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """One record per natural key: the latest-published one (the first seen on a tie, as some
    endpoints list newest first). Returns the records and their encoded keys, in input order."""
    keys = [natural_key(r, key_fields) for r in records]
    if len(set(keys)) == len(keys):
        return records, keys
    chosen: dict[str, int] = {}
    for index, key in enumerate(keys):
        held = chosen.get(key)
        if held is None or (
            published_field is not None
            and str(records[index].get(published_field) or "")
            > str(records[held].get(published_field) or "")
        ):
            chosen[key] = index
    kept = sorted(chosen.values())
    return [records[i] for i in kept], [keys[i] for i in kept]


def _jsonish(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _to_int(value: Any, field: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise TypeDrift(field, "an integer", value) from None
        if number.is_integer():
            return int(number)
    raise TypeDrift(field, "an integer", value)


def _to_float(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise TypeDrift(field, "a number", value)


def _to_bool(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise TypeDrift(field, "a boolean", value)


def _to_timestamp(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_api_timestamp(value)
        except ValueError:
            pass
    raise TypeDrift(field, "an ISO timestamp", value)


def _to_date(value: Any, field: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            pass
    raise TypeDrift(field, "a date", value)


_SLOW_CONVERTERS = {
    "integer": _to_int,
    "number": _to_float,
    "boolean": _to_bool,
    "timestamp": _to_timestamp,
    "date": _to_date,
}


_FAST_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int, type(None)),
    "number": (int, float, type(None)),
    "boolean": (bool, type(None)),
    "timestamp": (str, type(None)),
    "date": (str, type(None)),
}


def column_array(values: list[Any], spec: FieldSpec, notes: list[str] | None = None) -> pa.Array:
    """Build one typed column; a vectorised path when every value has the expected JSON type,
    a checked per-value path otherwise (numeric strings parse, anything else is `TypeDrift`)."""
    arrow_type = ARROW_TYPES[spec.type]
    if spec.type in ("string", "json"):
        if all(v is None or type(v) is str for v in values):
            return pa.array(values, type=pa.string())
        return pa.array([_jsonish(v) for v in values], type=pa.string())
    allowed = _FAST_TYPES[spec.type]
    if all(type(v) in allowed for v in values):  # exact types: bool is not an int here
        try:
            if spec.type in ("timestamp", "date"):
                return pa.array(values, type=pa.string()).cast(arrow_type)
            return pa.array(values, type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass  # e.g. 7 fractional digits in a timestamp: the per-value path parses those
    convert = _SLOW_CONVERTERS[spec.type]
    array = pa.array([convert(v, spec.name) for v in values], type=arrow_type)
    if (
        notes is not None
        and spec.type in ("integer", "number", "boolean")
        and any(type(v) is str for v in values)
    ):
        notes.append(f"field {spec.name}: text values parsed as {spec.type} (lossless)")
    return array


def records_to_table(
    records: Sequence[Mapping[str, Any]],
    fields: Sequence[FieldSpec],
    key_fields: Sequence[str],
    *,
    source: str,
    loaded_at: datetime,
    extra_columns: Mapping[str, Iterable[Any]] | None = None,
    notes: list[str] | None = None,
    keys: Sequence[str] | None = None,
) -> pa.Table:
    """Typed Arrow table for `records`: declared fields in order, then the standard columns."""
    columns: dict[str, pa.Array] = {}
    for spec in fields:
        columns[spec.column] = column_array([r.get(spec.name) for r in records], spec, notes)
    n = len(records)
    columns["_source"] = pa.array([source] * n, type=pa.string())
    columns["_record_hash"] = pa.array([record_hash(r) for r in records], type=pa.string())
    if keys is None:
        keys = [natural_key(r, key_fields) for r in records]
    columns["_natural_key"] = pa.array(keys, type=pa.string())
    columns["_loaded_at"] = pa.array([loaded_at] * n, type=pa.timestamp("us", tz="UTC"))
    for name, values in (extra_columns or {}).items():
        columns[name] = pa.array(list(values))
    table = pa.table(columns)
    # The merge key is never null: say so in the schema so dlt's hints and Arrow's agree.
    index = table.schema.get_field_index("_natural_key")
    return table.set_column(
        index, pa.field("_natural_key", pa.string(), nullable=False), table.column(index)
    )


def observed_fields(records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Field names seen in the records with the JSON type of their first non-null value."""
    seen: dict[str, str] = {}
    for record in records:
        for name, value in record.items():
            if seen.get(name, "null") == "null":
                seen[name] = json_type(value)
    return seen


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "json"
