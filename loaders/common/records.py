"""Fields of a source's records: their names, logical types and raw column names.

The conversion of response bodies into typed tables lives in `jsonrows.py`; a value that does
not fit its declared type is never coerced: it raises `TypeDrift`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

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


class RecordError(ValueError):
    """A body's records cannot land as they are: the window fails with this reason, and the
    change (`change`, on `field`) goes to ops.schema_changes. Nothing of the body is written."""

    change = "record_error"
    error_kind = "records"  # the failed window's error_kind

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
        # what the body held, so the caller can still record added/missing fields
        self.keys_seen: list[str] = []
        self.received = 0


class TypeDrift(RecordError):
    """A value arrived with a type its column does not hold."""

    change = "type_change"
    error_kind = "type"

    def __init__(self, field: str, expected: str, value: Any) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__(f"field '{field}' expected {expected} but got {shown}", field)
        self.expected = expected
        self.value = value


class MissingKey(RecordError):
    """Records without their natural key: merged on what is left of it, distinct records would
    collapse into one row, so they are refused instead."""

    change = "missing_key"


class FieldCollision(RecordError):
    """A new field whose column name is already taken (`measurement_time` beside
    `measurementTime`): landing it would mix two fields in one column, so it is refused."""

    change = "name_collision"


@dataclass(frozen=True)
class FieldSpec:
    """One source field: its name as received and its logical type (a key of ARROW_TYPES)."""

    name: str
    type: str
    formats: tuple[str, ...] = ()  # extra strptime formats for dates/timestamps ("%d-%b-%Y")

    @property
    def column(self) -> str:
        return snake_case(self.name)
