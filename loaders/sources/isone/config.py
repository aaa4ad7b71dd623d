"""The ISO-NE dataset config (datasets.toml) as typed objects."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from loaders.common.records import FieldSpec
from loaders.errors import UsageError, unknown_names_error

CONFIG = Path(__file__).with_name("datasets.toml")
CADENCES = {"5min": timedelta(minutes=5), "hourly": timedelta(hours=1), "daily": timedelta(days=1)}
HOSTS = ("webservices", "www")
WINDOWS = ("day", "current")
FORMATS = ("json", "wsclient", "chdt_seven_day", "chdt")
LOCATION_SEPARATOR = "/"  # load-log names of per-location datasets: "<dataset>/<location>"


@dataclass(frozen=True)
class Endpoint:
    """One way of asking for a dataset: host, path, query or form, and how to read the body."""

    host: str
    path: str
    format: str = "json"
    root: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None
    zone_field: str | None = None
    rename: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The endpoint's identity for the circuit breaker (one per path template)."""
        kind = f" {self.form.get('_nstmp_requestType', '')}" if self.form else ""
        return f"{self.host}:{self.path}{kind}"


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    endpoint: Endpoint
    window: str
    cadence: str
    keys: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    table: str
    locations: dict[str, str] = field(default_factory=dict)
    expect_data: bool = True
    days_ahead: int = 0
    xml: bool = False
    fallback: Endpoint | None = None

    @property
    def backfillable(self) -> bool:
        return self.window == "day"

    @property
    def refresh(self) -> timedelta:
        return CADENCES[self.cadence]

    def load_names(self, only: tuple[str, ...] = ()) -> list[str]:
        """The load-log names of this dataset: one per location (`<name>/<label>`), if any."""
        if not self.locations:
            return [self.name]
        labels = [label for label in self.locations if not only or label in only]
        return [f"{self.name}{LOCATION_SEPARATOR}{label}" for label in labels]


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int = 60
    requests_per_hour: int = 1000
    breaker_failures: int = 3
    breaker_cooldown_minutes: float = 30.0
    lookback_days: int = 2


@dataclass(frozen=True)
class Config:
    datasets: dict[str, Dataset]
    limits: Limits

    def get(self, name: str) -> Dataset:
        return self.datasets[name.lower()]

    def split(self, load_name: str) -> tuple[Dataset, str | None]:
        """A load-log name's dataset and location label (None without locations)."""
        name, _, label = load_name.partition(LOCATION_SEPARATOR)
        return self.get(name), (label or None)


@cache
def load_config(path: Path = CONFIG) -> Config:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    entries: dict[str, dict[str, Any]] = raw.get("datasets", {})
    datasets = {name: _dataset(name, _inherit(name, entries), path) for name in entries}
    limits = Limits(**raw.get("limits", {}), **raw.get("planning", {}))
    return Config(datasets, limits)


_INHERITED = ("root", "fields", "keys", "locations", "table", "expect_data", "format", "series")
# (days_ahead is not inherited: a current-only variant has no days)


def _inherit(name: str, entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An entry with what it takes from `variant_of` (its own values win)."""
    entry = dict(entries[name])
    parent = entry.pop("variant_of", None)
    if parent is None:
        return entry
    base = _inherit(parent, entries)
    base.setdefault("table", parent)
    inherited = {k: base[k] for k in _INHERITED if k in base}
    return {**inherited, **entry}


def _dataset(name: str, entry: dict[str, Any], path: Path) -> Dataset:
    def need(value: str, allowed: tuple[str, ...], what: str) -> str:
        if value not in allowed:
            raise UsageError(f"{path}: {name}.{what} is {value!r}; use one of {', '.join(allowed)}")
        return value

    window = need(entry.get("window", "day"), WINDOWS, "window")
    cadence = need(entry.get("cadence", "daily"), tuple(CADENCES), "cadence")
    endpoint = _endpoint(entry, name, path)
    fallback = _endpoint(entry["fallback"], name, path) if "fallback" in entry else None
    locations = entry.get("locations", {})
    if isinstance(locations, list):
        locations = {str(loc): str(loc) for loc in locations}
    return Dataset(
        name=name,
        title=entry.get("title", name),
        endpoint=endpoint,
        window=window,
        cadence=cadence,
        keys=tuple(entry.get("keys", ())),
        fields=tuple(FieldSpec(f, kind) for f, kind in entry.get("fields", {}).items()),
        table=entry.get("table", name),
        locations={str(k): str(v) for k, v in locations.items()},
        expect_data=bool(entry.get("expect_data", window == "day")),
        days_ahead=int(entry.get("days_ahead", 0)),
        xml=bool(entry.get("xml", endpoint.host == "webservices" and endpoint.format == "json")),
        fallback=fallback,
    )


def _endpoint(entry: dict[str, Any], name: str, path: Path) -> Endpoint:
    host = entry.get("host", "webservices")
    fmt = entry.get("format", "json")
    if host not in HOSTS or fmt not in FORMATS:
        raise UsageError(
            f"{path}: {name} has host {host!r} / format {fmt!r}; hosts are {', '.join(HOSTS)}, "
            f"formats {', '.join(FORMATS)}"
        )
    return Endpoint(
        host=host,
        path=entry["path"],
        format=fmt,
        root=tuple(entry.get("root", ())),
        series=tuple(entry.get("series", ())),
        query=dict(entry.get("query", {})),
        form=dict(entry["form"]) if "form" in entry else None,
        zone_field=entry.get("zone_field"),
        rename=dict(entry.get("rename", {})),
    )


def resolve(config: Config, names: list[str], all_: bool) -> list[Dataset]:
    """The datasets asked for (case-insensitive), or a usage error that lists the valid ones."""
    if all_:
        return list(config.datasets.values())
    if not names:
        raise UsageError(
            "name at least one --dataset (or --all); `gridwarehouse datasets list isone` shows them"
        )
    unknown = [n for n in names if n.lower() not in config.datasets]
    if unknown:
        raise unknown_names_error(
            "ISO-NE dataset", unknown, list(config.datasets), "gridwarehouse datasets list isone"
        )
    return [config.get(n) for n in dict.fromkeys(n.lower() for n in names)]
