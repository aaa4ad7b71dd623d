"""The shared load path: fetch windows concurrently, commit them in batches, log every window.

A source plugs in an adapter (how to fetch one window, which dlt resource a dataset becomes);
everything else — concurrency, batching, the summary and its exit code — lives here once and is
the same for every source. A batch is committed (rows, load log, schema changes, under the write
lock) by `loaders/common/commit.py`, which the IRIS flush uses too.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from loaders.common.commit import Batch, Committer, OpsRows
from loaders.common.ops import DONE_STATUSES, LoadLogRow, SchemaChange, record_change
from loaders.common.warehouse import connect_duckdb, run_lock
from loaders.errors import UsageError
from loaders.logs import redact
from loaders.settings import Settings

if TYPE_CHECKING:
    from loaders.common.records import RecordError

log = logging.getLogger(__name__)

# Statuses of a window that did not load (see CONTRACTS.md); "skipped" is neither.
FAILED_STATUSES = ("failed", "forbidden", "needs_token", "not_found")


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end) in UTC; both None for snapshot datasets."""

    start: datetime | None
    end: datetime | None

    def label(self) -> str:
        if self.start is None or self.end is None:
            return "whole dataset"
        fmt = "%Y-%m-%dT%H:%MZ"
        return f"{self.start.strftime(fmt)}→{self.end.strftime(fmt)}"


@dataclass(frozen=True)
class Task:
    dataset: str
    window: Window
    part: str | None = None  # a sub-unit of a window, e.g. a portal resource or a DNO


@dataclass
class FetchResult:
    """What fetching one window produced: a typed table, or a failure with its reason."""

    task: Task
    status: str
    rows: int = 0
    table: Any = None  # pyarrow.Table
    error: str | None = None
    error_kind: str | None = None
    attempts: int = 1
    notes: list[str] = field(default_factory=list)
    schema_changes: list[SchemaChange] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def records_failed(self, source: str, dataset: str, label: str, exc: RecordError) -> None:
        """Fail the window: its records cannot land as they are (a value of the wrong type,
        records without their key, a field name clash); the change goes to schema_changes."""
        self.status, self.error, self.error_kind = "failed", f"{label}: {exc}", exc.error_kind
        self.schema_changes.append(record_change(source, dataset, exc))


class Adapter(Protocol):
    """What a source provides to the engine."""

    source: str
    raw_schema: str

    def fetch(self, task: Task) -> FetchResult: ...

    def resource(self, dataset: str, tables: list[Any]) -> Any: ...

    def describe(self) -> dict[str, dict[str, Any]]:
        """Per dataset {"snapshot": bool, "refresh_s": int}, for the no-op checkpoint cache."""
        ...


@dataclass
class DatasetSummary:
    windows_ok: int = 0
    windows_empty: int = 0
    windows_failed: int = 0
    windows_skipped: int = 0
    rows: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    """The outcome of one run, per dataset, and the exit code it implies."""

    source: str
    run_id: str
    datasets: dict[str, DatasetSummary] = field(default_factory=lambda: defaultdict(DatasetSummary))
    not_attempted: int = 0  # windows left in the queue when a stop was asked for
    elapsed_s: float = 0.0
    requests: int = 0

    @property
    def failed(self) -> int:
        return sum(d.windows_failed for d in self.datasets.values())

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.datasets.values())

    @property
    def exit_code(self) -> int:
        """0, or 1 when a window failed, partly or wholly (CONTRACTS.md). What a server does
        (unreachable, HTML, cut bodies) is a failed load, not bad input: bad input (exit 2) is
        refused before any request is sent."""
        return 1 if self.failed else 0

    def record(self, result: FetchResult) -> None:
        entry = self.datasets[result.task.dataset]
        if result.status in FAILED_STATUSES:
            entry.windows_failed += 1
            where = result.task.part or result.task.window.label()
            entry.errors.append(f"{where}: {result.error}")
        elif result.status == "skipped":
            entry.windows_skipped += 1
            entry.errors.append(f"skipped: {result.error}")
        elif result.status == "empty":
            entry.windows_empty += 1
        else:
            entry.windows_ok += 1
            entry.rows += result.rows


@dataclass
class BatchLimits:
    """When to commit what has been fetched: whichever limit is reached first."""

    rows: int = 250_000
    windows: int = 48
    seconds: float = 30.0


class Reporter(Protocol):
    def start(self, total: int) -> None: ...

    def window_done(self, result: FetchResult) -> None: ...

    def committed(self, windows: int, rows: int) -> None: ...

    def finish(self, summary: RunSummary) -> None: ...


def run_tasks(
    adapter: Adapter,
    tasks: Sequence[Task],
    settings: Settings,
    *,
    concurrency: int = 4,
    limits: BatchLimits | None = None,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    requests_counter: Callable[[], int] | None = None,
    pipeline_name: str | None = None,
    initial_results: Sequence[FetchResult] = (),
) -> RunSummary:
    """Fetch every task (bounded concurrency), commit in batches, and log every window.

    One run per dlt pipeline at a time: the run holds the pipeline's run lock throughout, and
    first drops packages a killed run left behind (their windows were never marked done, so
    they are fetched again; merge keeps that idempotent).
    """
    limits = limits or BatchLimits()
    summary = RunSummary(source=adapter.source, run_id=uuid.uuid4().hex[:12])
    committer = Committer(
        settings, pipeline_name or adapter.source, adapter.raw_schema, summary.run_id
    )
    began = time.monotonic()
    if reporter:
        reporter.start(len(tasks) + len(initial_results))
    # outcomes known before fetching (refusals, packages that could not be listed)
    batch: list[FetchResult] = [not_attempted_as_skipped(r) for r in initial_results]
    for result in batch:
        _scrub(result)
        summary.record(result)
        if reporter:
            reporter.window_done(result)
    batch_rows = 0
    batch_began = time.monotonic()
    pending: set[Future[FetchResult]] = set()
    queue = list(reversed(tasks))
    width = max(1, concurrency)

    # a source with a breaker of its own (ISO-NE's persists across runs) opts out of this one
    breaker = _RunBreaker(enabled=getattr(adapter, "run_breaker", True))

    def take(result: FetchResult) -> None:
        nonlocal batch_rows
        _scrub(result)
        breaker.record(result)
        summary.record(result)
        if reporter:
            reporter.window_done(result)
        batch.append(result)
        batch_rows += result.rows

    def flush() -> None:
        nonlocal batch, batch_rows, batch_began
        if batch:
            commit_windows(committer, adapter, batch)
            if reporter:
                reporter.committed(len(batch), batch_rows)
        batch, batch_rows, batch_began = [], 0, time.monotonic()

    with (
        run_lock(settings, committer.pipeline_name),
        ThreadPoolExecutor(max_workers=width, thread_name_prefix=adapter.source) as pool,
    ):
        try:
            while queue or pending:
                # at most two windows per worker in flight: memory stays bounded on long runs
                while queue and len(pending) < width * 2 and not (stop and stop.is_set()):
                    task = queue.pop()
                    tripped = breaker.skipped(task)
                    if tripped is not None:
                        take(tripped)
                    else:
                        pending.add(pool.submit(fetch_safely, adapter, task))
                if not pending:  # the queue is done (its rest skipped), or a stop was asked for
                    summary.not_attempted += len(queue)
                    queue.clear()
                    break
                done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                for future in done:
                    take(future.result())
                if (
                    batch_rows >= limits.rows
                    or len(batch) >= limits.windows
                    or time.monotonic() - batch_began >= limits.seconds
                ):
                    flush()
                if stop is not None and stop.is_set():
                    summary.not_attempted += len(queue)
                    queue.clear()
            flush()
        finally:
            for future in pending:
                future.cancel()
    summary.elapsed_s = time.monotonic() - began
    if requests_counter:
        summary.requests = requests_counter()
    if reporter:
        reporter.finish(summary)
    return summary


# A dataset whose windows fail this many times in a row in one run (timing out, answering HTML,
# 5xx that never clear) is not asked again in that run: its other windows are `skipped` and
# tried on the next run, instead of holding every worker for timeout x retries per window
# while the other datasets wait their turn.
RUN_BREAKER_FAILURES = 3
_BREAKER_KINDS = ("timeout", "bad_response", "request", "http")


class _RunBreaker:
    """Consecutive failures per dataset (and part) in this run; see RUN_BREAKER_FAILURES."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._streak: dict[tuple[str, str | None], int] = defaultdict(int)
        self._open: dict[tuple[str, str | None], str] = {}

    def record(self, result: FetchResult) -> None:
        key = (result.task.dataset, result.task.part)
        if not self.enabled:
            return
        if result.status == "failed" and result.error_kind in _BREAKER_KINDS:
            self._streak[key] += 1
            if self._streak[key] >= RUN_BREAKER_FAILURES and key not in self._open:
                self._open[key] = result.error or "failed"
                log.warning(
                    "%s failed %d windows in a row; its other windows are skipped in this run",
                    result.task.dataset,
                    RUN_BREAKER_FAILURES,
                )
        elif result.status in ("ok", "empty", "fallback"):
            self._streak[key] = 0

    def skipped(self, task: Task) -> FetchResult | None:
        """A `skipped` result for a task of a dataset that keeps failing, else None."""
        reason = self._open.get((task.dataset, task.part))
        if reason is None:
            return None
        return FetchResult(
            task=task,
            status="skipped",
            error=f"not attempted: {task.dataset} failed {RUN_BREAKER_FAILURES} windows in a "
            f"row in this run (last: {reason}); tried again on the next run",
            error_kind="breaker",
        )


def fetch_safely(adapter: Adapter, task: Task) -> FetchResult:
    """`adapter.fetch`, with any exception it lets through (a bug, or a failure nobody foresaw)
    turned into a failed window with its reason: one window's surprise must not end the run
    for every other window and dataset (the traceback is logged at DEBUG, never printed as a
    crash). A window not sent because its host was unreachable earlier in the run is `skipped`."""
    started = datetime.now(UTC)
    try:
        result = adapter.fetch(task)
    except UsageError:
        raise  # bad input found while fetching (a --file that is not there) stops the run: exit 2
    except Exception as exc:  # anything else at all: that is the point
        where = f"{task.dataset} {task.part or task.window.label()}"
        log.warning("unexpected %s fetching %s: %s", type(exc).__name__, where, exc)
        log.debug("traceback of the failure fetching %s", where, exc_info=True)
        return FetchResult(
            task=task,
            status="failed",
            error=f"{task.dataset}: unexpected {type(exc).__name__}: {exc}",
            error_kind="internal",
            started_at=started,
        )
    return not_attempted_as_skipped(result)


def not_attempted_as_skipped(result: FetchResult) -> FetchResult:
    """A request never sent, because its host was unreachable earlier in the run, is `skipped`
    (not done, asked again next run), not one more failure of its own."""
    if result.status == "failed" and result.error_kind == "host_down":
        result.status = "skipped"
    return result


def _scrub(result: FetchResult) -> FetchResult:
    """Mask secrets in a result's error and notes once, before the summary, the console and the
    load log see them (an upstream 401 body may echo the request URL with its API key)."""
    result.error = redact(result.error)
    result.notes = [redact(n) or "" for n in result.notes]
    return result


def commit_windows(committer: Committer, adapter: Adapter, batch: list[FetchResult]) -> None:
    """Commit a batch of fetched windows: their rows (each key once, later window winning),
    a load-log row per window, their schema changes, then the no-op checkpoint cache."""
    loaded = [
        r for r in batch if r.status not in FAILED_STATUSES and r.table is not None and r.rows
    ]
    by_dataset: dict[str, list[Any]] = defaultdict(list)
    for result in sorted(loaded, key=_window_order):
        by_dataset[result.task.dataset].append(result.table)
    committer.commit(
        Batch(
            purpose=f"{committer.pipeline_name} load",
            resources=[
                _deduplicated(adapter.resource(name, one_row_per_key(tables)))
                for name, tables in by_dataset.items()
            ],
            ops=lambda load_id: _ops_rows(batch, committer.run_id, adapter.source, load_id),
            then=lambda: _refresh_checkpoint(committer.settings, adapter),
        )
    )
    for result in batch:
        result.table = None  # release memory as soon as the batch is safe
    # dlt's extract leaves reference cycles that still hold the batch's Arrow buffers;
    # collect them now, or a long load's memory grows by a batch's worth per commit
    gc.collect()


def _window_order(result: FetchResult) -> tuple[datetime, str]:
    start = result.task.window.start or datetime.min.replace(tzinfo=UTC)
    return start, result.task.part or ""


def one_row_per_key(tables: list[Any]) -> list[Any]:
    """A batch's tables with each `_natural_key` once: the row from the later window wins (the
    windows come in time order; within one window the converter already kept the latest
    published). Usually the keys are already unique and the tables pass through untouched."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not all(isinstance(t, pa.Table) for t in tables):
        return tables  # streamed from disk (a DNO file): unique per key by construction
    rows = sum(t.num_rows for t in tables)
    # distinct key hashes imply distinct keys, and 64-bit integers are cheaper to compare than
    # key text; equal hashes (a repeated key, or rarely a collision) go the exact way below
    hashes = pa.chunked_array([t.column("_record_hash") for t in tables], type=pa.int64())
    if len(pc.unique(hashes)) == rows:  # unique() is ~3x faster than count_distinct here
        return tables
    combined = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    order = pa.array(range(combined.num_rows), type=pa.int64())
    latest = (
        pa.table({"_natural_key": combined.column("_natural_key"), "_gw_ord": order})
        .group_by("_natural_key", use_threads=False)
        .aggregate([("_gw_ord", "max")])
    )
    keep = pc.array_sort_indices(latest.column("_gw_ord_max"))
    return [combined.take(pc.take(latest.column("_gw_ord_max"), keep))]


def _deduplicated(resource: Any) -> Any:
    """Tell dlt the staged rows are unique per key (one_row_per_key made them so): its merge then
    inserts them as they are instead of numbering every row per key first (a quarter of a 30-day
    DuckDB load's merge time)."""
    resource.apply_hints(additional_table_hints={"x-stage-data-deduplicated": True})
    return resource


def _refresh_checkpoint(settings: Settings, adapter: Adapter) -> None:
    """Rewrite the no-op cache from the load log (called under the write lock)."""
    if settings.target != "duckdb":
        return  # a cache of the DuckDB file's load log (it names that file)
    from loaders.common.checkpoint import write_cache
    from loaders.common.ops import read_done_windows

    datasets = adapter.describe()
    retry_since = datetime.now(UTC) - settings.retry_lookback
    con = connect_duckdb(settings)
    try:
        states = read_done_windows(con, adapter.source, list(datasets), retry_since)
    finally:
        con.close()
    write_cache(settings.pipelines_dir, settings.duckdb_path, adapter.source, datasets, states)


def _unfinished_note(result: FetchResult) -> list[str]:
    """A window that had not ended when its fetch started may still grow (a forecast, today's
    whole-day window): its rows are stored, but it is not done (ops.read_done_windows)."""
    end = result.task.window.end
    if result.status not in DONE_STATUSES or end is None or end <= result.started_at:
        return []
    return ["not final: the window had not ended when it was fetched; fetched again next cycle"]


def _ops_rows(
    batch: Iterable[FetchResult], run_id: str, source: str, load_id: str | None
) -> OpsRows:
    rows, changes = [], []
    for r in batch:
        notes = "; ".join([*r.notes, *_unfinished_note(r)]) or None
        rows.append(
            LoadLogRow(
                source=source,
                dataset=r.task.dataset,
                window_start=r.task.window.start,
                window_end=r.task.window.end,
                rows=r.rows,
                status=r.status,
                started_at=r.started_at,
                finished_at=r.finished_at,
                attempts=r.attempts,
                error=r.error,
                notes=notes,
                run_id=run_id,
                load_id=load_id if r.status not in FAILED_STATUSES else None,
            )
        )
        changes.extend(r.schema_changes)
    return OpsRows(rows, changes)
