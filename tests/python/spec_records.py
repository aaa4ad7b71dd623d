"""Records for datasets with no recorded real response: the spec's own example, or, where the
spec's example is a placeholder ("string" for a timestamp), a SYNTHETIC record built from the
spec's field types. Used to prove every catalogue dataset loads; never presented as real data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from loaders.common.jsonrows import convert
from loaders.common.records import TypeDrift
from loaders.sources.bmrs.catalogue import Endpoint

SYNTHETIC_VALUES = {
    "timestamp": "2024-05-01T00:00:00Z",
    "date": "2024-05-01",
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "json": [],
}


def synthetic_record_from_schema(endpoint: Endpoint) -> dict[str, Any]:
    """One SYNTHETIC record with a valid value of each field's declared type."""
    return {f.name: SYNTHETIC_VALUES.get(f.type, f"synthetic-{f.name}") for f in endpoint.fields}


def records_for(endpoint: Endpoint) -> tuple[list[dict[str, Any]], str]:
    """(records, "spec example" | "synthetic from schema")."""
    example = endpoint.example
    if endpoint.scalar_items and example:
        return [{"value": v} for v in example], "spec example"
    if example:
        try:
            convert(
                orjson.dumps(example),
                endpoint.fields,
                endpoint.keys,
                published_field=None,
                source="api",
                loaded_at=datetime.now(UTC),
            )
            return list(example), "spec example"
        except TypeDrift:
            pass
    return [synthetic_record_from_schema(endpoint)], "synthetic from schema"


def body_records(endpoint: Endpoint, records: list[dict[str, Any]]) -> list[Any]:
    """What the endpoint's body holds for these records (plain values for scalar lists)."""
    return [r["value"] for r in records] if endpoint.scalar_items else records
