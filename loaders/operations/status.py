"""`gridwarehouse status`: freshness and health per source and dataset, from the ops tables.

For each dataset that has been loaded (or is scheduled): its last successful window, the lag
behind now, rows and failures in the last 24 hours, and the latest error; the IRIS receiver's
message rates, drops and secret expiry. A scheduled dataset is `stale` when its lag passes the
source's threshold (GRIDWAREHOUSE_STALE_AFTER) and `failing` when its latest load failed;
either makes the exit code 3, so cron or monitoring can alert on it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from loaders.logs import redact_value
from loaders.settings import Settings

FAILED = ("failed", "forbidden", "needs_token", "not_found")
DONE = ("ok", "empty", "fallback")
EXIT_UNHEALTHY = 3

# How far behind now a scheduled dataset may be before it counts as stale, per source.
DEFAULT_STALE_AFTER = {
    "bmrs": timedelta(hours=2),
    "iris": timedelta(minutes=30),
    "neso": timedelta(days=2),
    "dno": timedelta(days=8),
    "isone": timedelta(hours=3),
}


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


# -- reading the ops tables ----------------------------------------------------------------

# A window is failing while its latest attempt failed; a later success clears it.
_DATASETS_SQL = """
with ranked as (
    select source, dataset, window_end, rows, status, finished_at, error,
           row_number() over (partition by source, dataset, window_start, window_end
                              order by finished_at desc) as window_latest
    from {ops}.load_log
),
open_failed as (
    select source, dataset, error,
           row_number() over (partition by source, dataset order by finished_at desc) as rn
    from ranked
    where window_latest = 1 and status in ({failed})
),
agg as (
    select source, dataset,
           max(case when status in ({done}) then window_end end) as last_window_end,
           max(case when status in ({done}) then finished_at end) as last_success_at,
           max(finished_at) as last_attempt_at,
           sum(case when status in ({done}) and finished_at >= {since} then rows else 0 end)
               as rows_24h,
           sum(case when status in ({failed}) and finished_at >= {since} then 1 else 0 end)
               as failures_24h,
           sum(case when window_latest = 1 and status in ({failed}) then 1 else 0 end)
               as open_failures
    from ranked
    group by source, dataset
)
select agg.*, f.error as last_error
from agg
left join open_failed as f
    on f.source = agg.source and f.dataset = agg.dataset and f.rn = 1
order by agg.source, agg.dataset
"""

_DAILY_SQL = """
select source, dataset, cast(finished_at as date) as day, sum(rows) as rows_loaded
from {ops}.load_log
where finished_at >= {since} and status in ({done})
group by source, dataset, cast(finished_at as date)
order by day, source, dataset
"""

_RUNS_SQL = """
select run_id, source, min(started_at) as started_at, max(finished_at) as finished_at,
       sum(rows) as rows_loaded, count(*) as windows,
       sum(case when status in ({failed}) then 1 else 0 end) as failed
from {ops}.load_log
where finished_at >= {since} and run_id is not null
group by run_id, source
order by started_at desc
limit 200
"""

_IRIS_SQL = """
select queue, dataset, max(recorded_at) as last_seen_at, max(last_message_at) as last_message_at,
       sum(case when interval_end >= {hour} then messages else 0 end) as messages_1h,
       sum(case when interval_end >= {since} then dead_letters else 0 end) as dead_letters_24h,
       sum(case when interval_end >= {since} then connection_drops else 0 end) as drops_24h
from {ops}.iris_stats
group by queue, dataset
"""

_IRIS_LATEST_SQL = """
select queue, warning, cast(secret_expires as {text}) as secret_expires
from (select queue, warning, secret_expires,
             row_number() over (partition by queue order by recorded_at desc) as rn
      from {ops}.iris_stats where dataset = '*')
where rn = 1
"""


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class _Reader:
    """Runs the status queries on DuckDB (read-only) or BigQuery."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self.bigquery = settings.target == "bigquery"
        self._con: Any = None
        if self.bigquery:
            from loaders.common.warehouse import dataset_name

            self.ops = f"`{settings.bq_project}.{dataset_name(settings, 'ops')}`"
        else:
            self.ops = "ops"

    def _time(self, instant: datetime) -> str:
        text = instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"timestamp '{text}+00'" if not self.bigquery else f"timestamp '{text}+00:00'"

    def query(self, template: str) -> list[dict[str, Any]]:
        sql = template.format(
            ops=self.ops,
            failed=_in(FAILED),
            done=_in(DONE),
            since=self._time(self.now - timedelta(hours=24)),
            hour=self._time(self.now - timedelta(hours=1)),
            text="string" if self.bigquery else "varchar",
        )
        if self.bigquery:
            from loaders.common.bigquery_ops import query_rows

            return [dict(r) for r in query_rows(self.settings, sql)]
        cursor = self._con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def has(self, table: str) -> bool:
        if self.bigquery:
            from loaders.common.bigquery_ops import ensure_tables

            ensure_tables(self.settings)
            return True
        return bool(
            self._con.execute(
                "select 1 from information_schema.tables where table_schema = 'ops' "
                "and table_name = ?",
                [table],
            ).fetchall()
        )

    def __enter__(self) -> _Reader:
        if not self.bigquery and not self.settings.duckdb_path.exists():
            import duckdb

            # nothing loaded yet: read an empty in-memory database, and create no file
            self._con = duckdb.connect(":memory:")
        elif not self.bigquery:
            from loaders.common.warehouse import connect_duckdb

            self._con = connect_duckdb(self.settings, read_only=True, ops_only=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.close()


def collect(settings: Settings, now: datetime | None = None) -> Report:
    """Everything `status` shows, read once."""
    from loaders.operations.schedule import scheduled_datasets

    now = now or datetime.now(UTC)
    scheduled = scheduled_datasets(settings)
    with _Reader(settings, now) as reader:
        has_log = reader.has("load_log")
        rows = reader.query(_DATASETS_SQL) if has_log else []
        daily = (
            reader.query(_DAILY_SQL.replace("{since}", reader._time(now - timedelta(days=14))))
            if has_log
            else []
        )
        runs = (
            reader.query(_RUNS_SQL.replace("{since}", reader._time(now - timedelta(days=3))))
            if has_log
            else []
        )
        iris_rows, iris_latest = [], []
        if reader.has("iris_stats"):
            iris_rows = reader.query(_IRIS_SQL)
            iris_latest = reader.query(_IRIS_LATEST_SQL)
    # rows written before secrets were masked at the source may still hold one: mask them here,
    # the one place every status output (text, JSON, HTML, the live page, alerts) reads from
    rows, daily, runs = redact_value(rows), redact_value(daily), redact_value(runs)
    iris_rows, iris_latest = redact_value(iris_rows), redact_value(iris_latest)
    datasets = _dataset_states(settings, rows, scheduled, now)
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
        if source == "iris":
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


# -- rendering -------------------------------------------------------------------------------

_COLOURS = {"ok": "32", "stale": "33", "failing": "31", "never": "31", "unscheduled": "90"}


def human_lag(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


SOURCE_NAMES = {
    "bmrs": "BMRS (Elexon Insights API)",
    "neso": "NESO data portal",
    "dno": "DNO open-data portals",
    "isone": "ISO New England",
}


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


def print_report(
    report: Report,
    stream: Any = None,
    colour: bool | None = None,
    *,
    settings: Settings | None = None,
    show_all: bool = False,
) -> None:
    out = stream or sys.stdout
    colour = out.isatty() if colour is None else colour

    def paint(state: str) -> str:
        return f"\033[{_COLOURS.get(state, '0')}m{state}\033[0m" if colour else state

    shown = shown_datasets(report, settings, show_all)
    listed = [d for group in shown.groups.values() for d in group]
    width = max([len(d.dataset) for d in listed] + [7])  # full names: nothing cut off
    print(f"status at {_when(report.generated_at)} UTC — {report.warehouse}", file=out)
    header = f"  {'DATASET':<{width}} {'LAST WINDOW END':<17} {'LAG':>6} {'ROWS 24H':>10} {'FAIL 24H':>8}  STATE"
    for source in sorted(set(shown.groups) | set(shown.hidden)):
        print(f"\n{SOURCE_NAMES.get(source, source)} [{source}]", file=out)
        if shown.groups.get(source):
            print(header, file=out)
        for d in shown.groups.get(source, []):
            print(
                f"  {d.dataset:<{width}} {_when(d.last_window_end or d.last_success_at):<17} "
                f"{human_lag(d.lag_s):>6} {d.rows_24h:>10,} {d.failures_24h:>8}  {paint(d.state)}",
                file=out,
            )
        if shown.hidden.get(source):
            print(
                f"  + {shown.hidden[source]} more scheduled, never loaded "
                "(`gridwarehouse status --all` lists them)",
                file=out,
            )
    for q in report.iris:
        print(
            f"\nIRIS queue {q.queue}: {paint(q.state)}; receiver last seen {_when(q.last_seen_at)} "
            f"UTC; {q.messages_per_min_1h} msg/min over the last hour; "
            f"{q.connection_drops_24h} connection drops and {q.dead_letters_24h} dead-letters in 24h",
            file=out,
        )
        if q.warning:
            print(f"  warning: {q.warning}", file=out)
        for d in q.datasets:
            print(
                f"  {d.dataset:<20} {d.messages_per_min_1h:>7} msg/min  last message "
                f"{_when(d.last_message_at)}",
                file=out,
            )
    errors = [d for d in report.datasets if d.last_error and d.state == "failing"]
    if errors:
        print("\nerrors:", file=out)
        for d in errors:
            print(f"  {d.source} {d.dataset}: {d.last_error}", file=out)
    print(f"\n{health_line(report)}", file=out)
    if settings is not None and settings.target == "duckdb" and not settings.duckdb_path.exists():
        print(
            f"no warehouse at {settings.duckdb_path} yet: `make demo` or a "
            "`gridwarehouse load` creates it",
            file=out,
        )


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


def status(
    settings: Settings, *, as_json: bool, html: str | None = None, serve: bool = False,
    port: int = 0, show_all: bool = False,
) -> int:  # fmt: skip
    """`gridwarehouse status`: exit 3 when a scheduled dataset is stale or failing."""
    if serve:
        from loaders.operations.status_page import serve_status

        return serve_status(settings, port, show_all=show_all)
    report = collect(settings)
    if html:
        from pathlib import Path

        from loaders.operations.status_page import render_html

        path = Path(html)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            render_html(report, shown_datasets(report, settings, show_all)), encoding="utf-8"
        )
        print(f"status page written to {path}", file=sys.stderr)
    if as_json:
        json.dump(report.as_json(), sys.stdout, indent=2)
        print()
    elif not html:
        print_report(report, settings=settings, show_all=show_all)
    return EXIT_UNHEALTHY if report.unhealthy else 0
