"""What `status` knows: per dataset its freshness and health, the IRIS receiver's rates, read
once from the ops tables (status_queries) and judged against the sources' thresholds.

A scheduled dataset is `stale` when its lag passes the source's threshold
(GRIDWAREHOUSE_STALE_AFTER, else the source's default in the registry) and `failing` when its
latest load failed; either makes `status` exit 3 and opens an alert.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from loaders.logs import redact_value
from loaders.operations.status_queries import (
    DAILY_SQL,
    DATASETS_SQL,
    IRIS_LATEST_SQL,
    IRIS_SQL,
    RUNS_SQL,
    Reader,
)
from loaders.settings import Settings
from loaders.sources import registry

# How far behind now a scheduled dataset may be before it counts as stale, per source.
DEFAULT_STALE_AFTER = {source.name: source.stale_after for source in registry.every()}
# What `status` heads each source's datasets with.
SOURCE_NAMES = {source.name: source.title for source in registry.every() if source.in_status}


@dataclass
class DatasetStatus:
    source: str
    dataset: str
    scheduled: bool
    state: str  # ok | stale | failing | never | unscheduled
    last_window_end: datetime | None = None
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    lag_s: float | None = None
    threshold_s: float | None = None
    rows_24h: int = 0
    failures_24h: int = 0
    open_failures: int = 0  # windows whose latest attempt failed
    last_error: str | None = None
    cadence: str | None = None  # how often the source publishes it (its catalogue's word)


@dataclass
class IrisDatasetStatus:
    dataset: str
    last_message_at: datetime | None
    messages_1h: int
    messages_per_min_1h: float
    dead_letters_24h: int


@dataclass
class IrisStatus:
    queue: str
    state: str  # ok | stale | never
    last_seen_at: datetime | None  # the receiver's latest stats row (at least once a minute)
    messages_per_min_1h: float
    connection_drops_24h: int
    dead_letters_24h: int
    secret_expires: str | None
    warning: str | None
    datasets: list[IrisDatasetStatus] = field(default_factory=list)


@dataclass
class Report:
    generated_at: datetime
    warehouse: str
    datasets: list[DatasetStatus]
    iris: list[IrisStatus]
    daily_rows: list[dict[str, Any]]
    runs: list[dict[str, Any]]

    @property
    def unhealthy(self) -> list[str]:
        bad = [
            f"{d.source}.{d.dataset}"
            for d in self.datasets
            if d.state in ("stale", "failing", "never")
        ]
        bad += [f"iris.{i.queue}" for i in self.iris if i.state == "stale"]
        return bad

    def as_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        return plain(
            {
                "generated_at": self.generated_at,
                "warehouse": self.warehouse,
                "healthy": not self.unhealthy,
                "unhealthy": self.unhealthy,
                "datasets": [asdict(d) for d in self.datasets],
                "iris": [asdict(i) for i in self.iris],
                "daily_rows": self.daily_rows,
                "runs": self.runs,
            }
        )


def stale_after(settings: Settings, source: str, dataset: str | None = None) -> timedelta:
    overrides = settings.stale_after
    if dataset and f"{source}.{dataset}".lower() in overrides:
        return overrides[f"{source}.{dataset}".lower()]
    return overrides.get(source, DEFAULT_STALE_AFTER.get(source, timedelta(days=1)))


def collect(settings: Settings, now: datetime | None = None) -> Report:
    """Everything `status` shows, read once."""
    now = now or datetime.now(UTC)
    scheduled = registry.scheduled_datasets(settings)
    with Reader(settings, now) as reader:
        has_log = reader.has("load_log")
        rows = reader.query(DATASETS_SQL) if has_log else []
        daily = (
            reader.query(
                DAILY_SQL.replace("{since}", reader.time_literal(now - timedelta(days=14)))
            )
            if has_log
            else []
        )
        runs = (
            reader.query(RUNS_SQL.replace("{since}", reader.time_literal(now - timedelta(days=3))))
            if has_log
            else []
        )
        iris_rows, iris_latest = [], []
        if reader.has("iris_stats"):
            iris_rows = reader.query(IRIS_SQL)
            iris_latest = reader.query(IRIS_LATEST_SQL)
    # rows written before secrets were masked at the source may still hold one: mask them here,
    # the one place every status output (text, JSON, HTML, the live page, alerts) reads from
    rows, daily, runs = redact_value(rows), redact_value(daily), redact_value(runs)
    iris_rows, iris_latest = redact_value(iris_rows), redact_value(iris_latest)
    datasets = _dataset_states(settings, rows, scheduled, now)
    _add_cadences(settings, datasets)
    iris = _iris_states(settings, iris_rows, iris_latest, now)
    for day in daily:
        day["day"] = str(day["day"])
    for run in runs:
        run["seconds"] = (run["finished_at"] - run["started_at"]).total_seconds()
    return Report(
        generated_at=now,
        warehouse=(
            str(settings.duckdb_path)
            if settings.target == "duckdb"
            else f"bigquery:{settings.bq_project}"
        ),
        datasets=datasets,
        iris=iris,
        daily_rows=daily,
        runs=runs,
    )


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _dataset_states(
    settings: Settings,
    rows: list[dict[str, Any]],
    scheduled: dict[str, set[str]],
    now: datetime,
) -> list[DatasetStatus]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        source, dataset = r["source"], r["dataset"]
        if source in registry.SOURCES and not registry.get(source).in_status:
            continue  # the receiver's flushes: shown with its own status
        # ISO-NE logs one dataset per location ("da_hourly_demand/4001"): scheduled as its dataset
        base = dataset.split("/")[0]
        seen.update({(source, dataset), (source, base)})
        is_scheduled = base in scheduled.get(source, set())
        last_end = _aware(r["last_window_end"])
        last_ok = _aware(r["last_success_at"])
        reference = last_end or last_ok
        threshold = stale_after(settings, source, dataset)
        lag = (now - reference).total_seconds() if reference else None
        if not is_scheduled:
            state = "unscheduled"
        elif r["open_failures"]:
            state = "failing"
        elif reference is None:
            state = "never"
        elif lag is not None and lag > threshold.total_seconds():
            state = "stale"
        else:
            state = "ok"
        out.append(
            DatasetStatus(
                source=source,
                dataset=dataset,
                scheduled=is_scheduled,
                state=state,
                last_window_end=last_end,
                last_success_at=last_ok,
                last_attempt_at=_aware(r["last_attempt_at"]),
                lag_s=lag,
                threshold_s=threshold.total_seconds(),
                rows_24h=int(r["rows_24h"] or 0),
                failures_24h=int(r["failures_24h"] or 0),
                open_failures=int(r["open_failures"] or 0),
                last_error=r["last_error"],
            )
        )
    for source, names in sorted(scheduled.items()):
        for dataset in sorted(names):
            if (source, dataset) not in seen:
                out.append(
                    DatasetStatus(
                        source, dataset, True, "never",
                        threshold_s=stale_after(settings, source, dataset).total_seconds(),
                    )
                )  # fmt: skip
    return sorted(out, key=lambda d: (d.source, d.dataset))


def _add_cadences(settings: Settings, datasets: list[DatasetStatus]) -> None:
    """Each dataset's cadence from its source's catalogue (per-location ISO-NE rows, named
    "<dataset>/<location>", have their dataset's)."""
    known = registry.cadences(settings, sorted({d.source for d in datasets}))
    for d in datasets:
        d.cadence = known.get((d.source, d.dataset)) or known.get(
            (d.source, d.dataset.split("/")[0])
        )


def _iris_states(
    settings: Settings,
    rows: list[dict[str, Any]],
    latest: list[dict[str, Any]],
    now: datetime,
) -> list[IrisStatus]:
    queues: dict[str, IrisStatus] = {}
    threshold = stale_after(settings, "iris")
    notes = {r["queue"]: r for r in latest}
    for r in sorted(rows, key=lambda r: (r["queue"], r["dataset"])):
        queue = r["queue"]
        status = queues.get(queue)
        if status is None:
            note = notes.get(queue, {})
            status = queues[queue] = IrisStatus(
                queue=queue, state="never", last_seen_at=None, messages_per_min_1h=0.0,
                connection_drops_24h=0, dead_letters_24h=0,
                secret_expires=note.get("secret_expires"), warning=note.get("warning"),
            )  # fmt: skip
        if r["dataset"] == "*":
            status.last_seen_at = _aware(r["last_seen_at"])
            status.messages_per_min_1h = round(int(r["messages_1h"] or 0) / 60, 2)
            status.connection_drops_24h = int(r["drops_24h"] or 0)
            status.dead_letters_24h = int(r["dead_letters_24h"] or 0)
        else:
            status.datasets.append(
                IrisDatasetStatus(
                    dataset=r["dataset"],
                    last_message_at=_aware(r["last_message_at"]),
                    messages_1h=int(r["messages_1h"] or 0),
                    messages_per_min_1h=round(int(r["messages_1h"] or 0) / 60, 2),
                    dead_letters_24h=int(r["dead_letters_24h"] or 0),
                )
            )
    for status in queues.values():
        if status.last_seen_at is None:
            status.state = "never"
        elif now - status.last_seen_at > threshold:
            status.state = "stale"
        else:
            status.state = "ok"
    return list(queues.values())


def human_lag(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


@dataclass
class Shown:
    """What a status view lists, per source in order, and how many it leaves out per source."""

    groups: dict[str, list[DatasetStatus]]
    hidden: dict[str, int]


def shown_datasets(report: Report, settings: Settings | None, show_all: bool) -> Shown:
    """By default the datasets with a load history, and scheduled ones chosen by name
    (GRIDWAREHOUSE_RUN_<SOURCE>_DATASETS); the many only scheduled by the default `all` and
    never loaded are counted, not listed. `--all` lists everything."""
    chosen = {
        source
        for source, names in (settings.run_datasets if settings else {}).items()
        if names and names != ("all",)
    }
    groups: dict[str, list[DatasetStatus]] = {}
    hidden: dict[str, int] = {}
    for d in report.datasets:
        listed = show_all or d.last_attempt_at is not None or d.source in chosen
        if listed:
            groups.setdefault(d.source, []).append(d)
        else:
            hidden[d.source] = hidden.get(d.source, 0) + 1
    return Shown(groups, hidden)


def health_line(report: Report) -> str:
    """`healthy`, or how many datasets are unhealthy and why, naming the stale and failing
    ones first (never-loaded ones are counted: by default that is most of the catalogue)."""
    bad = report.unhealthy
    if not bad:
        return "healthy"
    states = [d.state for d in report.datasets]
    counts = [
        f"{states.count('stale')} stale",
        f"{states.count('failing')} failing",
        f"{states.count('never')} scheduled but never loaded",
    ]
    counts += (
        [f"{len(report.iris)} IRIS queue(s) stale"]
        if any(i.state == "stale" for i in report.iris)
        else []
    )
    named = [
        f"{d.source}.{d.dataset}" for d in report.datasets if d.state in ("stale", "failing")
    ] + [f"iris.{i.queue}" for i in report.iris if i.state == "stale"]
    more = f" and {len(named) - 10} more" if len(named) > 10 else ""
    listed = f": {', '.join(named[:10])}{more}" if named else ""
    return f"{len(bad)} unhealthy ({', '.join(counts)}){listed}"
