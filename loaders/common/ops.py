"""The `ops` tables: the load log (what has been loaded, window by window) and schema changes.

`ops.load_log` is the single source of truth for what is loaded: a window is done when its
latest row says `ok` or `empty` and the window had ended when that load started. A window
reaching past its load's start (a forecast, today's whole-day window) is stored but may still
grow, so it is fetched again; so are windows whose latest row is `failed` or `skipped`, within
a look-back (GRIDWAREHOUSE_RETRY_LOOKBACK), so a transient failure heals on the next cycle.

Rows are written in the same lock hold as the data they describe, right after it commits, so a
crash between the two only means a window is fetched again (merge keeps that idempotent), never
that a window is marked done without its rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loaders.logs import redact

if TYPE_CHECKING:  # records imports pyarrow: not for the CLI's quick commands
    from loaders.common.records import RecordError

STATUSES = ("ok", "empty", "failed", "forbidden", "needs_token", "not_found", "skipped", "fallback")
DONE_STATUSES = ("ok", "empty", "fallback")

DDL = (
    "create schema if not exists ops",
    """create table if not exists ops.load_log (
        source varchar not null,
        dataset varchar not null,
        window_start timestamptz,
        window_end timestamptz,
        rows bigint,
        status varchar not null,
        started_at timestamptz not null,
        finished_at timestamptz not null,
        attempts integer,
        error varchar,
        notes varchar,
        run_id varchar,
        load_id varchar
    )""",
    """create table if not exists ops.schema_changes (
        source varchar not null,
        dataset varchar not null,
        field varchar not null,
        change varchar not null,
        detail varchar,
        first_seen timestamptz not null,
        last_seen timestamptz not null,
        run_id varchar
    )""",
    # written by the IRIS receiver (loaders/sources/iris/stats.py)
    """create table if not exists ops.iris_stats (
        recorded_at timestamptz not null,
        queue varchar not null,
        dataset varchar not null,
        interval_start timestamptz not null,
        interval_end timestamptz not null,
        messages bigint not null,
        records bigint not null,
        messages_per_min double,
        last_message_at timestamptz,
        dead_letters bigint not null,
        connection_drops bigint not null,
        unknown_dataset boolean,
        secret_expires date,
        warning varchar
    )""",
)


@dataclass
class LoadLogRow:
    """One window (or one whole load, for sources without windows) and how it went."""

    source: str
    dataset: str
    window_start: datetime | None
    window_end: datetime | None
    rows: int
    status: str
    started_at: datetime
    finished_at: datetime
    attempts: int = 1
    error: str | None = None
    notes: str | None = None
    run_id: str | None = None
    load_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown load_log status {self.status!r}")
        # the one place every load-log row passes: an upstream error that echoes the request
        # URL (a 401 body) must not store the API key
        self.error, self.notes = redact(self.error), redact(self.notes)

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.source,
            self.dataset,
            self.window_start,
            self.window_end,
            self.rows,
            self.status,
            self.started_at,
            self.finished_at,
            self.attempts,
            self.error,
            self.notes,
            self.run_id,
            self.load_id,
        )


@dataclass(frozen=True)
class SchemaChange:
    """A field that appeared, disappeared, or changed type in a dataset's responses."""

    source: str
    dataset: str
    field: str
    change: str  # added | missing | type_change | missing_key | name_collision
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", redact(self.detail) or "")
        object.__setattr__(self, "field", redact(self.field) or "")


def field_changes(
    source: str,
    dataset: str,
    expected: Sequence[str],
    keys_seen: Sequence[str],
    received: int,
    *,
    origin: str,
    known: Collection[str] | None = None,
) -> list[SchemaChange]:
    """Fields new to a dataset's declaration (`origin`: where it is declared), landed as text,
    and declared fields absent from every record of a response (only when records came).
    `known` is what is not new when it is more than `expected` (columns derived on landing)."""
    declared = set(expected if known is None else known)
    changes = [
        SchemaChange(source, dataset, name, "added", f"not in {origin}; landed as text")
        for name in keys_seen
        if name not in declared
    ]
    if received:
        seen = set(keys_seen)
        changes += [
            SchemaChange(
                source,
                dataset,
                name,
                "missing",
                f"in {origin} but absent from every record of a response",
            )
            for name in expected
            if name not in seen
        ]
    return changes


def record_change(source: str, dataset: str, exc: RecordError) -> SchemaChange:
    """The schema change behind records that cannot land (type_change, missing_key, ...)."""
    return SchemaChange(source, dataset, exc.field, exc.change, str(exc))


@dataclass
class OpsState:
    """What the load log says about one dataset, read once per run."""

    done: list[tuple[datetime, datetime]] = field(default_factory=list)
    # windows to fetch again: their latest row failed or was skipped, or was stored before the
    # window ended (only those ending after the look-back given to read_done_windows)
    retry: list[tuple[datetime, datetime]] = field(default_factory=list)
    last_snapshot: datetime | None = None  # when a whole-list (no window) load last succeeded

    @property
    def last_end(self) -> datetime | None:
        return max((end for _, end in self.done), default=None)

    def covers(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) lies inside the union of done windows."""
        cursor = start
        for lo, hi in sorted(self.done):
            if lo > cursor:
                break
            if hi > cursor:
                cursor = hi
            if cursor >= end:
                return True
        return cursor >= end


def ensure_ops_tables(con: Any) -> None:
    for statement in DDL:
        con.execute(statement)


def write_load_log(con: Any, rows: Sequence[LoadLogRow]) -> None:
    if rows:
        con.executemany(
            "insert into ops.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [r.as_tuple() for r in rows],
        )


def write_iris_stats(con: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        con.executemany(
            "insert into ops.iris_stats values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )


def write_schema_changes(con: Any, changes: Iterable[SchemaChange], run_id: str) -> int:
    """Record changes not seen before (per source, dataset, field, change); returns how many."""
    now = datetime.now(UTC)
    added = 0
    for c in changes:
        updated = con.execute(
            "update ops.schema_changes set last_seen = ? where source = ? and dataset = ? "
            "and field = ? and change = ? returning 1",
            [now, c.source, c.dataset, c.field, c.change],
        ).fetchall()
        if not updated:
            con.execute(
                "insert into ops.schema_changes values (?, ?, ?, ?, ?, ?, ?, ?)",
                [c.source, c.dataset, c.field, c.change, c.detail, now, now, run_id],
            )
            added += 1
    return added


def read_done_windows(
    con: Any, source: str, datasets: Sequence[str], retry_since: datetime | None = None
) -> dict[str, OpsState]:
    """Done windows per dataset (latest load_log row ok/empty/fallback, stored after the window
    ended) and, with `retry_since`, the windows ending after it that must be fetched again."""
    states = {name: OpsState() for name in datasets}
    if not datasets or not _has_ops(con):
        return states
    rows = con.execute(
        """
        select dataset, window_start, window_end, status, started_at
        from (
            select dataset, window_start, window_end, status, started_at,
                   row_number() over (partition by dataset, window_start, window_end
                                      order by finished_at desc) as rn
            from ops.load_log
            where source = ? and dataset in (select unnest(?::varchar[]))
              and window_start is not null
        )
        where rn = 1 and (status in ('ok', 'empty', 'fallback')
                          or (status in ('failed', 'skipped') and window_end > ?::timestamptz))
        """,
        [source, list(datasets), retry_since],
    ).fetchall()
    for dataset, start, end, status, started_at in rows:
        classify_window(states[dataset], start, end, status, started_at, retry_since)
    snapshots = con.execute(
        "select dataset, max(finished_at) from ops.load_log where source = ? and window_start is null "
        "and status in ('ok', 'empty', 'fallback') and dataset in (select unnest(?::varchar[])) "
        "group by dataset",
        [source, list(datasets)],
    ).fetchall()
    for dataset, finished in snapshots:
        states[dataset].last_snapshot = finished.astimezone(UTC)
    return states


def classify_window(
    state: OpsState,
    start: datetime,
    end: datetime,
    status: str,
    started_at: datetime,
    retry_since: datetime | None,
) -> None:
    """File one window's latest row under done, retry, or neither (old failures). Only failed
    and skipped rows are retried here: forbidden/needs_token have their own re-ask rules."""
    start, end, started_at = (t.astimezone(UTC) for t in (start, end, started_at))
    if status in DONE_STATUSES and end <= started_at:
        state.done.append((start, end))
    elif retry_since is not None and end > retry_since:
        state.retry.append((start, end))


def _has_ops(con: Any) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_schema = 'ops' "
            "and table_name = 'load_log'"
        ).fetchall()
    )
