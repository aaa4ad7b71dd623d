"""The BMRS dataset catalogue, generated from Elexon's Insights API OpenAPI spec.

Each GET endpoint that returns records and whose required parameters are a time window (or
nothing) becomes a loadable `Endpoint`: how to ask for a window, the largest window the API
allows, the record fields and types, and the natural key. The spec does not state keys or some
limits; those come from `hints.py`, the one place for hand-written knowledge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from loaders.common.records import FieldSpec
from loaders.sources.bmrs import hints

SPEC_PATH = Path(__file__).parent / "spec" / "prod-insol-insights-api.json"

# Window shapes: how a time window becomes request parameters.
DATETIME = "datetime"  # ?from=<ts>&to=<ts> (inclusive)
DATE = "date"  # ?settlementDateFrom=<d>&settlementDateTo=<d> (inclusive days)
PATH_DATE = "path_date"  # /.../{settlementDate}: one request per day
PERIOD = "period"  # ?settlementDate=<d>&settlementPeriod=<n>: one request per period
SNAPSHOT = "snapshot"  # no window: the whole current list each time

# Query parameter pairs that express a window, in order of preference.
_WINDOW_PARAMS = (
    ("from", "to"),
    ("publishDateTimeFrom", "publishDateTimeTo"),
    ("measurementDateTimeFrom", "measurementDateTimeTo"),
    ("settlementDateFrom", "settlementDateTo"),
    ("startTime", "endTime"),
)
# The record field a window parameter filters on, per the spec's descriptions.
_CURSOR_BY_PARAM = {
    "publishDateTimeFrom": "publishTime",
    "measurementDateTimeFrom": "measurementTime",
    "settlementDateFrom": "settlementDate",
    "startTime": "startTime",
}
_OPTIONAL_IGNORED = {"format"}
SCALAR_FIELD = "value"
_MAX_RANGE = re.compile(
    r"maximum (?:data output )?(?:date )?(?:range|limit) of (?:(\d+) (?:years?|hours?|days?) \()?"
    r"(\d+) (hours?|days?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Endpoint:
    """One loadable BMRS dataset."""

    name: str
    path: str
    summary: str
    window: str
    from_param: str | None = None
    to_param: str | None = None
    max_window: timedelta | None = None
    default_window: timedelta | None = None  # a hint's window; else the API limit, else 1 day
    fields: tuple[FieldSpec, ...] = ()
    keys: tuple[str, ...] = ()
    keys_from_hints: bool = False
    shape: str = "data"  # "data": {"data": [...]}, "array": [...]
    scalar_items: bool = False  # records are plain values, wrapped as {"value": ...}
    published_field: str | None = None  # decides between two records with one natural key
    refresh: timedelta = timedelta(minutes=15)  # how often a snapshot is worth fetching again
    cursor_field: str | None = None
    stream: bool = False
    fixed_params: tuple[tuple[str, str], ...] = ()
    # settlementDateFrom/To, when a publish-time endpoint also filters by settlement date: a
    # range load asks by settlement day, as a publish window misses a day's first and last periods
    settlement_params: tuple[str, str] | None = None
    example: Any = field(default=None, compare=False, repr=False)

    @property
    def required_keys(self) -> tuple[str, ...]:
        """Key fields every record must carry (not null): a hand-written key names the fields
        that identify a record, except those a hint says may be null; an inferred key may hold
        a field that is legitimately null (NOU2T3YW's systemZone), so none is required."""
        if not self.keys_from_hints:
            return ()
        nullable = hints.NULLABLE_KEYS.get(self.name, ())
        return tuple(k for k in self.keys if k not in nullable)

    @property
    def table(self) -> str:
        return self.name.lower()

    @property
    def window_size(self) -> timedelta | None:
        """The window the loader asks for: the hinted size, else the API's limit (fewest
        requests), else a day; never more than the API allows."""
        if self.window in (SNAPSHOT,):
            return None
        if self.window == PERIOD:
            return timedelta(minutes=30)
        if self.window == PATH_DATE:
            return timedelta(days=1)
        size = self.default_window or self.max_window or hints.DEFAULT_WINDOW
        if self.max_window is not None:
            size = min(size, self.max_window)
        if self.window == DATE:  # date windows are whole days
            size = max(timedelta(days=1), timedelta(days=size.days))
        return size

    @property
    def horizon(self) -> timedelta:
        """How far beyond now a window of this dataset may reach: forecasts asked for by their
        target time (`/forecast/...`, per hints.FORECAST_HORIZONS); nothing else."""
        if not self.path.startswith("/forecast/") or self.cursor_field == "publishTime":
            return timedelta(0)
        text = f"{self.name} {self.summary}".lower().replace("-", " ").replace("_", " ")
        for phrase, horizon in hints.FORECAST_HORIZONS:
            if phrase in text:
                return horizon
        return hints.DEFAULT_FORECAST_HORIZON

    @property
    def cardinality(self) -> str:
        """Rows a complete settlement day holds: per_period, per_5_minutes, per_day or events."""
        return hints.cardinality(self.name, self.keys)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


class Catalogue:
    """Endpoints by dataset name (case-insensitive lookup)."""

    def __init__(self, endpoints: list[Endpoint], skipped: dict[str, str]) -> None:
        self.endpoints = {e.name: e for e in sorted(endpoints, key=lambda e: e.name)}
        self.skipped = skipped

    def __contains__(self, name: str) -> bool:
        return name.upper() in self.endpoints

    def __iter__(self):
        return iter(self.endpoints.values())

    def __len__(self) -> int:
        return len(self.endpoints)

    def get(self, name: str) -> Endpoint:
        return self.endpoints[name.upper()]

    def names(self) -> list[str]:
        return list(self.endpoints)


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"].removeprefix("#/components/schemas/")
        node = spec["components"]["schemas"][ref]
    return node


def _json_content(op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("responses", {}).get("200", {}).get("content", {})
    return content.get("application/json") or content.get("text/json")


def _logical_type(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    fmt = prop.get("format")
    if kind == "string" and fmt == "date-time":
        return "timestamp"
    if kind == "string" and fmt == "date":
        return "date"
    if kind in ("integer", "number", "boolean", "string"):
        return kind
    return "json"  # arrays, objects, untyped


def _record_schema(spec: dict[str, Any], op: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(shape, item schema) when the endpoint returns a list of records."""
    content = _json_content(op)
    if not content or "schema" not in content:
        return None
    schema = _resolve(spec, content["schema"])
    if schema.get("type") == "array":
        return "array", _resolve(spec, schema.get("items", {}))
    data = schema.get("properties", {}).get("data")
    if data is not None:
        data = _resolve(spec, data)
        if data.get("type") == "array":
            return "data", _resolve(spec, data.get("items", {}))
    return None


def _max_window(description: str) -> timedelta | None:
    match = _MAX_RANGE.search(description or "")
    if not match:
        return None
    amount, unit = int(match.group(2)), match.group(3).lower()
    return timedelta(hours=amount) if unit.startswith("hour") else timedelta(days=amount)


def _params(op: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    query, path_params = {}, set()
    for param in op.get("parameters", []):
        if param.get("in") == "path":
            path_params.add(param["name"])
        elif param.get("in") == "query":
            query[param["name"]] = param
    return query, path_params


def _window_shape(path: str, op: dict[str, Any]) -> tuple[str, str | None, str | None] | str:
    """(shape, from_param, to_param), or a string saying why the endpoint is not loadable."""
    query, path_params = _params(op)
    required = {n for n, p in query.items() if p.get("required")} | path_params
    for lo, hi in _WINDOW_PARAMS:
        if lo in query and hi in query:
            fmt = query[lo].get("schema", {}).get("format")
            others = required - {lo, hi}
            if others:
                return f"needs {', '.join(sorted(others))}"
            return (DATE if fmt == "date" or lo == "settlementDateFrom" else DATETIME), lo, hi
    if path_params == {"settlementDate"} and required == {"settlementDate"}:
        return PATH_DATE, None, None
    if required == {"settlementDate", "settlementPeriod"}:
        return PERIOD, None, None
    if not required and not (set(query) - _OPTIONAL_IGNORED - _OPTIONAL_FILTERS):
        return SNAPSHOT, None, None
    if not required:
        return SNAPSHOT, None, None
    return f"needs {', '.join(sorted(required))}"


# Optional query filters that narrow results; the loader leaves them unset to get everything.
_OPTIONAL_FILTERS = {
    "bmUnit",
    "fuelType",
    "boundary",
    "settlementPeriod",
    "dataProviders",
    "interconnectorName",
    "interconnector",
    "biddingZone",
    "level",
    "includeNegativeGeneration",
    "bscPartyId",
    "warningType",
    "participantId",
    "assetId",
    "messageType",
    "unavailabilityType",
    "eventType",
    "latestRevisionOnly",
    "profileOnly",
    "range",
    "publishDate",
    "week",
    "year",
    "includeZero",
    "tradingUnitName",
    "tradingUnitType",
}


def _default_name(path: str) -> str:
    parts = [p for p in path.strip("/").split("/") if not p.startswith("{")]
    if parts and parts[0] == "datasets":
        parts = parts[1:]
    if parts and parts[-1] == "stream":
        parts = parts[:-1]
    return "_".join(parts).replace("-", "_").upper()


def _format_param(op: dict[str, Any]) -> dict[str, str]:
    """Ask for JSON explicitly where the endpoint offers a choice of formats."""
    query, _ = _params(op)
    return {"format": "json"} if "format" in query else {}


def _example_records(content: dict[str, Any] | None) -> Any:
    if not content:
        return None
    example = content.get("example")
    if isinstance(example, dict):
        return example.get("data")
    return example


@cache
def load_catalogue(spec_path: Path = SPEC_PATH) -> Catalogue:
    """Build the catalogue from the spec file (cached per process)."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    candidates: dict[str, Endpoint] = {}
    skipped: dict[str, str] = {}
    for path, op in _expanded_operations(spec):
        if path in hints.EXCLUDED_PATHS:
            continue
        record = _record_schema(spec, op)
        if record is None:
            skipped[path] = "does not return a list of records"
            continue
        shape_or_reason = _window_shape(path, op)
        if isinstance(shape_or_reason, str):
            skipped[path] = shape_or_reason
            continue
        window, lo, hi = shape_or_reason
        name = hints.NAMES.get(path, _default_name(path))
        endpoint = _build(spec, path, op, name, record, window, lo, hi)
        current = candidates.get(name)
        if current is None or _preferred(endpoint, current):
            if current is not None:
                skipped[current.path] = f"superseded by {endpoint.path}"
            candidates[name] = endpoint
        else:
            skipped[path] = f"superseded by {current.path}"
    return Catalogue(list(candidates.values()), skipped)


def _expanded_operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """GET operations by path; a path parameter with a fixed set of values (hints.EXPANSIONS,
    e.g. {bidOffer} = bid | offer) becomes one path per value."""
    operations = []
    for path, item in spec["paths"].items():
        op = item.get("get")
        if not op:
            continue
        variants = [(path, op)]
        for name, values in hints.EXPANSIONS.items():
            marker = "{" + name + "}"
            if marker in path:
                stripped = {
                    **op,
                    "parameters": [p for p in op.get("parameters", []) if p.get("name") != name],
                }
                variants = [
                    (p.replace(marker, value), stripped) for p, _ in variants for value in values
                ]
        operations.extend(variants)
    return operations


_WINDOW_COST = {DATETIME: 0, DATE: 0, PATH_DATE: 1, SNAPSHOT: 1, PERIOD: 2}


def _preferred(new: Endpoint, old: Endpoint) -> bool:
    """Between two endpoints for one dataset: fewer requests first, then the stream variant."""
    if _WINDOW_COST[new.window] != _WINDOW_COST[old.window]:
        return _WINDOW_COST[new.window] < _WINDOW_COST[old.window]
    return new.stream and not old.stream


def _build(
    spec: dict[str, Any],
    path: str,
    op: dict[str, Any],
    name: str,
    record: tuple[str, dict[str, Any]],
    window: str,
    lo: str | None,
    hi: str | None,
) -> Endpoint:
    shape, item = record
    hint = hints.DATASETS.get(name, {})
    if "properties" in item:
        types = {n: _logical_type(p) for n, p in item["properties"].items()}
    else:  # a list of plain values (e.g. fuel type codes): each becomes {"value": ...}
        types = {SCALAR_FIELD: _logical_type(item)}
    types.update(hint.get("types", {}))
    for extra, kind in hint.get("extra_fields", {}).items():
        types.setdefault(extra, kind)
    fields = tuple(FieldSpec(n, t) for n, t in types.items())
    keys = tuple(hint["keys"]) if "keys" in hint else hints.infer_keys(list(types), name)
    description = f"{op.get('summary', '')}\n{op.get('description', '')}"
    base_op = spec["paths"].get(path.removesuffix("/stream"), {}).get("get", {})
    limit = _max_window(description) or _max_window(base_op.get("description", ""))
    if "max_window" in hint:
        limit = hint["max_window"]
    cursor = hint.get("cursor") or (_CURSOR_BY_PARAM.get(lo) if lo else None)
    if cursor is None and lo == "from" and "timeFrom" in types:
        cursor = "timeFrom"
    return Endpoint(
        name=name,
        path=path,
        summary=(op.get("summary") or name).strip(),
        window=window,
        from_param=lo,
        to_param=hi,
        max_window=limit,
        default_window=hint.get("window"),
        fields=fields,
        keys=keys,
        keys_from_hints="keys" in hint,
        shape=shape,
        cursor_field=cursor if cursor in types else None,
        stream=path.endswith("/stream"),
        fixed_params=tuple({**_format_param(op), **hint.get("params", {})}.items()),
        scalar_items="properties" not in item,
        published_field=hint.get("published")
        or next((f for f in hints.PUBLISHED_FIELDS if f in types), None),
        refresh=hint.get("refresh", hints.SNAPSHOT_REFRESH),
        settlement_params=_settlement_params(op, lo, types),
        example=_example_records(_json_content(op)),
    )


_SETTLEMENT_PARAMS = ("settlementDateFrom", "settlementDateTo")


def _settlement_params(
    op: dict[str, Any], lo: str | None, types: dict[str, str]
) -> tuple[str, str] | None:
    """The settlement-date filter of a publish-time endpoint whose records carry their settlement
    date and period (FUELHH, FUELINST, ...); None for every other endpoint."""
    names = {p.get("name") for p in op.get("parameters", [])}
    if lo != "publishDateTimeFrom" or not set(_SETTLEMENT_PARAMS) <= names:
        return None
    if types.get("settlementDate") != "date" or "settlementPeriod" not in types:
        return None
    return _SETTLEMENT_PARAMS
