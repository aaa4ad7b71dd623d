"""What every source provides to the house: the `Source` protocol, and a base with the parts
most sources share. The registry (loaders/sources/registry.py) lists one of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from loaders.common.probes import Planned
from loaders.common.runner import Outcome, Plan, run_plan
from loaders.errors import ConfigError, UsageError
from loaders.settings import Settings


@dataclass(frozen=True)
class LoadRequest:
    """A `load` or `backfill` as the user asked for it (options a source does not take are
    refused by `commands`, from the source's `takes_*` flags)."""

    names: tuple[str, ...] = ()
    all_: bool = False
    start: str | None = None
    end: str | None = None
    force: bool = False
    locations: tuple[str, ...] = ()
    dnos: tuple[str, ...] = ()
    file: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """One catalogue entry: what a dataset is, how often it is published, its keys and window."""

    name: str
    cadence: str  # how often new data appears ("15m", "hourly", "per release", …)
    keys: tuple[str, ...]
    window: str  # the window shape a load asks for ("datetime", "day", "whole dataset", …)
    table: str
    description: str = ""


@dataclass
class Listing:
    """`datasets list`: the JSON rows, and the text table."""

    rows: list[dict[str, Any]]
    lines: list[str]


@dataclass
class Scheduled:
    """What one `run` cycle's load of a source gave."""

    exit_code: int
    outcomes: list[Outcome]
    note: str = ""


class Source(Protocol):
    """A source of the house: a folder under loaders/sources/ and one line in the registry.

    catalogue: its datasets (cadence, keys, window shape); scheduled: those `run` loads and
    `status` holds to a threshold; plan_load / plan_backfill: the windows to fetch, as a Plan
    the one runner (loaders.common.runner) runs through the shared engine; run_scheduled: one
    `run` cycle's load; selector: a dataset's dbt source selector; probes: its endpoints for
    `check-endpoints`; list_datasets: `datasets list`.
    """

    name: str  # the CLI word, the load log's `source`, the dlt pipeline name
    title: str  # as `status` heads its datasets
    stale_after: timedelta  # the default freshness threshold (GRIDWAREHOUSE_STALE_AFTER)
    loadable: bool  # `load <name>` exists (IRIS is received, not loaded)
    in_status: bool  # `status` lists its load-log datasets
    takes_locations: bool
    takes_files: bool
    # base-URL setting -> path under the replay server's /<name> prefix (tests, the demo)
    replay_paths: dict[str, str]

    def available(self, settings: Settings) -> bool: ...
    def catalogue(self, settings: Settings) -> list[DatasetInfo]: ...
    def scheduled(self, settings: Settings, chosen: tuple[str, ...] | None) -> set[str]: ...
    def plan_load(self, settings: Settings, request: LoadRequest) -> Plan: ...
    def plan_backfill(self, settings: Settings, request: LoadRequest) -> Plan: ...
    def run_scheduled(self, settings: Settings) -> Scheduled: ...
    def selector(self, dataset: str) -> str: ...
    def probes(self, settings: Settings) -> list[Planned]: ...
    def list_datasets(self, settings: Settings, *, skipped: bool = False) -> Listing: ...


class BaseSource:
    """Defaults: available everywhere, no backfill, a scheduled load is an incremental load of
    GRIDWAREHOUSE_RUN_<SOURCE>_DATASETS (or all), dbt selector `source:<name>.<dataset>`."""

    name = ""
    title = ""
    stale_after = timedelta(days=1)
    loadable = True
    in_status = True
    takes_locations = False
    takes_files = False
    replay_paths: dict[str, str] = {}  # noqa: RUF012 (a class default, never mutated)

    def available(self, settings: Settings) -> bool:
        return True

    def plan_load(self, settings: Settings, request: LoadRequest) -> Plan:
        raise UsageError(f"unknown source {self.name!r}")

    def plan_backfill(self, settings: Settings, request: LoadRequest) -> Plan:
        raise UsageError(
            f"backfill does not apply to {self.name}: it has no date windows to resume "
            f"(`gridwarehouse load {self.name}` loads what is new)"
        )

    def scheduled_request(self, settings: Settings) -> LoadRequest:
        names = settings.run_datasets.get(self.name) or ("all",)
        every = names == ("all",)
        return LoadRequest(names=() if every else tuple(names), all_=every)

    def run_scheduled(self, settings: Settings) -> Scheduled:
        outcome = run_plan(settings, self.plan_load(settings, self.scheduled_request(settings)))
        return Scheduled(outcome.exit_code, [outcome])

    def selector(self, dataset: str) -> str:
        return f"source:{self.name}.{dataset.lower()}"

    def list_datasets(self, settings: Settings, *, skipped: bool = False) -> Listing:
        """The catalogue as a table (sources with more to say override this)."""
        rows = [
            {
                "name": d.name,
                "description": d.description,
                "cadence": d.cadence,
                "window": d.window,
                "keys": list(d.keys),
                "table": d.table,
            }
            for d in self.catalogue(settings)
        ]
        lines = [f"{'NAME':<34} {'CADENCE':<12} TABLE / DESCRIPTION"]
        for r in rows:
            lines.append(f"{r['name']:<34} {r['cadence']:<12} {r['table']}")
            lines.append(f"{'':<48}{r['description'][:90]}")
        lines.append(f"\n{len(rows)} datasets. Load them with: gridwarehouse load {self.name}")
        return Listing(rows, lines)

    def catalogue(self, settings: Settings) -> list[DatasetInfo]:
        return []

    def probes(self, settings: Settings) -> list[Planned]:
        return []


def refuse_unknown(source: str, unknown: list[str], valid: str, what: str = "datasets") -> None:
    """A GRIDWAREHOUSE_RUN_<SOURCE>_DATASETS that names what does not exist is a malformed
    setting (exit 2), not a dataset quietly never loaded nor held to its threshold."""
    unknown = [n for n in unknown if n != "all"]
    if unknown:
        raise ConfigError(
            f"GRIDWAREHOUSE_RUN_{source.upper()}_DATASETS names unknown "
            f"{what}: {', '.join(unknown)}; {valid}"
        )


def short_duration(delta: timedelta | None) -> str | None:
    """A duration as people write it: 15m, 1h, 7d (None stays None)."""
    if delta is None:
        return None
    if delta % timedelta(days=1) == timedelta(0):
        return f"{delta.days}d"
    if delta % timedelta(hours=1) == timedelta(0):
        return f"{int(delta.total_seconds() // 3600)}h"
    return f"{int(delta.total_seconds() // 60)}m"
