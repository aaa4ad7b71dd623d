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
    formats: tuple[str, ...] = ()  # extra strptime formats for dates/timestamps ("%d-%b-%Y")

    @property
    def column(self) -> str:
        return snake_case(self.name)
