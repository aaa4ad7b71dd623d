"""What the CLI's commands do, one function each; the CLI only parses and dispatches."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from loaders.common.engine import RunSummary
from loaders.common.timeutil import parse_user_datetime
from loaders.errors import UsageError
from loaders.settings import Settings

# `gridwarehouse run` sets this to a list to see every RunSummary its loads produce
COLLECTED: list[RunSummary] | None = None


def parse_range(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """--from/--to as UTC datetimes, or None for an incremental load."""
    if start is None:
        if end is not None:
            raise UsageError("--to needs --from (leave both out for an incremental load)")
        return None
    try:
        lo = parse_user_datetime(start, option="--from")
        hi = parse_user_datetime(end, option="--to") if end else datetime.now(UTC)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if lo >= hi:
        raise UsageError(
            f"--from {start} is not before --to {end or 'now'}"
            + ("" if end else ": a range without --to ends now, and nothing after now is loaded")
        )
    return lo, hi


def refuse_future_range(end: datetime, latest: Mapping[str, datetime]) -> None:
    """A range reaching past what a dataset can have published (now, or now plus a forecast's
    horizon; `latest` per dataset) is bad input: its windows would come back empty, be recorded
    as done, and every later incremental load would start after them."""
    late = {name: limit for name, limit in latest.items() if end > limit}
    if not late:
        return
    now = datetime.now(UTC)
    shown = [f"{n} {t:%Y-%m-%dT%H:%MZ}" for n, t in sorted(late.items())]
    limits = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    raise UsageError(
        f"the range ends at {end:%Y-%m-%dT%H:%MZ}, after now ({now:%Y-%m-%dT%H:%MZ}) or beyond "
        f"what a forecast covers: the latest possible end is {limits}"
        + ". End the range there, or leave out --to to load up to now; nothing was loaded"
    )


def load(
    settings: Settings,
    source: str,
    names: Sequence[str],
    *,
    all_: bool,
    start: str | None,
    end: str | None,
    force: bool = False,
    locations: Sequence[str] = (),
) -> int:
    """`gridwarehouse load <source>`: a range, or incrementally from the load log."""
    if locations and source != "isone":
        raise UsageError("--location applies to `load isone` only")
    if source == "isone":
        from loaders.sources.isone.run import load as load_isone

        return load_isone(
            settings, names, all_=all_, start=start, end=end, force=force, locations=locations
        )
    if source == "neso":
        return load_neso(settings, list(names), all_=all_, start=start, end=end, force=force)
    if source == "dno":
        raise UsageError("use load_dno for DNO portals")
    if source != "bmrs":
        raise UsageError(f"unknown source {source!r}")
    from loaders.common.ops import read_states
    from loaders.sources.bmrs.catalogue import load_catalogue
    from loaders.sources.bmrs.plan import incremental_tasks, range_tasks, resolve_datasets

    endpoints = resolve_datasets(load_catalogue(), names, all_, settings.bmrs_windows)
    window = parse_range(start, end)
    if window is not None:
        refuse_future_range(window[1], latest_ends(endpoints))
        tasks = range_tasks(endpoints, *window)
    else:
        now = datetime.now(UTC)
        states = read_states(
            settings, "bmrs", [e.name for e in endpoints], now - settings.retry_lookback
        )
        tasks = incremental_tasks(
            endpoints,
            states,
            trailing=timedelta(minutes=settings.bmrs_trailing_minutes),
            retry_lookback=settings.retry_lookback,
            now=now,
        )
    if not tasks:
        print("nothing to load: every dataset asked for is up to date")
        return 0
    summary = run_bmrs(settings, tasks)
    print_summary(summary)
    return summary.exit_code


def latest_ends(endpoints: Sequence[Any]) -> dict[str, datetime]:
    """How far each BMRS dataset's windows may reach now: now, plus a forecast's horizon."""
    now = datetime.now(UTC)
    return {e.name: now + e.horizon for e in endpoints}


def run_bmrs(settings: Settings, tasks: list, *, pipeline_name: str = "bmrs") -> RunSummary:
    """Run BMRS window tasks through the shared engine."""
    from loaders.sources.bmrs.source import BmrsAdapter

    return run_source(
        settings,
        BmrsAdapter(settings),
        tasks,
        pipeline_name=pipeline_name,
        concurrency=settings.bmrs_concurrency,
    )


def run_source(
    settings: Settings,
    adapter: Any,
    tasks: list,
    *,
    pipeline_name: str,
    concurrency: int,
    initial_results: Sequence[Any] = (),
) -> RunSummary:
    """Run tasks through the shared engine with progress on stderr. Ctrl-C (or SIGTERM) stops
    taking new tasks, commits what was fetched, and returns."""
    from loaders.common.engine import BatchLimits, run_tasks
    from loaders.progress import Progress

    try:
        with graceful_stop() as stop:
            summary = run_tasks(
                adapter,
                tasks,
                settings,
                concurrency=concurrency,
                limits=BatchLimits(
                    settings.commit_rows, settings.commit_windows, settings.commit_seconds
                ),
                reporter=Progress(),
                stop=stop,
                requests_counter=lambda: adapter.client.stats.requests,
                pipeline_name=pipeline_name,
                initial_results=initial_results,
            )
            if COLLECTED is not None:
                COLLECTED.append(summary)
            return summary
    finally:
        adapter.close()


def load_dno(
    settings: Settings,
    kinds: list[str],
    dnos: list[str],
    *,
    all_: bool,
    force: bool,
    file: str | None,
    start: str | None,
    end: str | None,
) -> int:
    """`gridwarehouse load dno`: every configured dataset of the DNOs and kinds asked for (all by
    default), or one file a user downloaded by hand (`--file F --dno X --dataset KIND`)."""
    from pathlib import Path

    from loaders.sources.dno.source import KINDS, DnoAdapter, latest_refusals, load_portals

    if start or end:
        raise UsageError("DNO portals publish whole datasets; --from/--to do not apply")
    portals = load_portals(settings)
    unknown_kinds = [k for k in kinds if k not in KINDS]
    if unknown_kinds:
        raise UsageError(
            f"unknown DNO dataset kind: {', '.join(unknown_kinds)}. Kinds: {', '.join(KINDS)}"
        )
    by_upper = {name.upper(): name for name in portals}
    unknown_dnos = [d for d in dnos if d.upper() not in by_upper]
    if unknown_dnos:
        raise UsageError(f"unknown DNO: {', '.join(unknown_dnos)}. DNOs: {', '.join(portals)}")
    dnos = [by_upper[d.upper()] for d in dnos] or list(portals)
    adapter = DnoAdapter(settings)
    if file is not None:
        if len(dnos) != 1 or len(kinds) != 1 or (dnos == list(portals) and len(portals) > 1):
            raise UsageError(
                "--file needs exactly one --dno and one --dataset (the kind), e.g. "
                "--file headroom.csv --dno UKPN --dataset headroom"
            )
        tasks, known = [adapter.add_file(dnos[0], kinds[0], Path(file))], []
    else:
        tasks, known = adapter.plan(
            dnos, kinds or list(KINDS), latest_refusals(settings), force=force
        )
    summary = run_source(
        settings, adapter, tasks, pipeline_name="dno", concurrency=2, initial_results=known
    )
    print_summary(summary)
    return summary.exit_code


def load_neso(
    settings: Settings,
    names: list[str],
    *,
    all_: bool,
    start: str | None,
    end: str | None,
    force: bool = False,
) -> int:
    """`gridwarehouse load neso`: every resource of the datasets that is new or changed."""
    from loaders.sources.neso.source import NesoAdapter, loaded_versions, resolve

    if start or end:
        raise UsageError("NESO datasets load whole published resources; --from/--to do not apply")
    datasets = resolve(names, all_)
    adapter = NesoAdapter(settings)
    tasks, failures = adapter.plan(datasets, {} if force else loaded_versions(settings, datasets))
    if not tasks and not failures:
        adapter.close()
        print("nothing to load: every resource is loaded at its latest version")
        return 0
    summary = run_source(
        settings, adapter, tasks, pipeline_name="neso", concurrency=1, initial_results=failures
    )
    print_summary(summary)
    return summary.exit_code


def backfill(
    settings: Settings,
    source: str,
    names: Sequence[str],
    *,
    start: str | None,
    end: str | None,
    locations: Sequence[str] = (),
) -> int:
    """`gridwarehouse backfill <source>`: a long range, resumable; windows already loaded are
    skipped, so an interrupted (even killed) backfill picks up where it stopped."""
    if source == "isone":
        from loaders.sources.isone.run import backfill as backfill_isone

        return backfill_isone(settings, names, start=start, end=end, locations=locations)
    if locations:
        raise UsageError("--location applies to `backfill isone` only")
    if source != "bmrs":
        raise UsageError(f"unknown source {source!r}")
    if start is None or end is None:
        raise UsageError("backfill needs --from and --to")
    from loaders.common.ops import read_states
    from loaders.sources.bmrs.catalogue import load_catalogue
    from loaders.sources.bmrs.plan import range_tasks, resolve_datasets

    endpoints = resolve_datasets(load_catalogue(), names, False, settings.bmrs_windows)
    span = parse_range(start, end)
    assert span is not None  # both dates were checked above
    lo, hi = span
    refuse_future_range(hi, latest_ends(endpoints))
    states = read_states(settings, "bmrs", [e.name for e in endpoints])
    tasks = []
    for endpoint in endpoints:
        planned = range_tasks([endpoint], lo, hi)
        todo = [
            t
            for t in planned
            if t.window.start is None
            or not states[endpoint.name].covers(t.window.start, t.window.end)
        ]
        print(
            f"{endpoint.name}: {len(planned):,} windows in range, "
            f"{len(planned) - len(todo):,} already loaded, {len(todo):,} to load"
        )
        tasks.extend(todo)
    if not tasks:
        print("nothing to load: the whole range is already loaded")
        return 0
    summary = run_bmrs(settings, tasks, pipeline_name="bmrs_backfill")
    print_summary(summary)
    if summary.not_attempted:
        print(
            f"stopped: run the same command again to load the remaining {summary.not_attempted:,} windows"
        )
        return 130
    return summary.exit_code


@contextlib.contextmanager
def graceful_stop():
    """An event set by the first SIGINT/SIGTERM; a second SIGINT interrupts at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        print(
            "\nstopping: finishing the windows in flight and committing them "
            "(Ctrl-C again to abort)",
            file=sys.stderr,
            flush=True,
        )

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def print_summary(summary: RunSummary, stream=None) -> None:
    out = stream or sys.stdout
    windows = sum(
        d.windows_ok + d.windows_empty + d.windows_failed for d in summary.datasets.values()
    )
    print(
        f"{summary.source.upper()} load {'finished' if not summary.failed else 'finished with failures'} "
        f"in {summary.elapsed_s:.1f}s: {summary.rows:,} rows from {windows} window"
        f"{'s' if windows != 1 else ''} ({summary.requests} HTTP requests)",
        file=out,
    )
    for name, d in sorted(summary.datasets.items()):
        parts = [f"{d.windows_ok} ok", f"{d.windows_empty} empty"]
        if d.windows_skipped:
            parts.append(f"{d.windows_skipped} skipped")
        if d.windows_failed:
            parts.append(f"{d.windows_failed} FAILED")
        print(f"  {name:<24} {d.rows:>10,} rows   {', '.join(parts)}", file=out)
        groups = group_errors(d.errors)
        for error, count in groups[:3]:
            alike = (
                f" (and {count - 1} more window{'s' if count > 2 else ''} alike)"
                if count > 1
                else ""
            )
            print(f"      {error}{alike}", file=out)
        if len(groups) > 3:
            print(f"      … and {len(groups) - 3} more errors (see ops.load_log)", file=out)


def group_errors(errors: Sequence[str]) -> list[tuple[str, int]]:
    """Window errors that differ only in the window (its label, the URL's query) grouped into
    one, keeping the first as it was: an offline service is one line, not one per window."""
    import re

    groups: dict[str, list[str]] = {}
    for error in errors:
        what = error.split(": ", 1)[-1]  # without the window label
        key = re.sub(r"\?[^\s:;,]*", "", what)
        groups.setdefault(key, []).append(error)
    return [(alike[0], len(alike)) for alike in groups.values()]


def list_datasets(settings: Settings, source: str, *, as_json: bool, skipped: bool = False) -> int:
    """`gridwarehouse datasets list`: what can be loaded, window limits, keys, loaded or not."""
    if source == "isone":
        from loaders.sources.isone.run import list_datasets as list_isone

        return list_isone(settings, as_json=as_json)
    from loaders.common.ops import read_states
    from loaders.sources.bmrs.catalogue import load_catalogue

    catalogue = load_catalogue()
    if skipped:
        return _list_skipped(catalogue.skipped, as_json=as_json)
    states = read_states(settings, source, catalogue.names())
    rows = []
    for e in catalogue:
        state = states.get(e.name)
        rows.append(
            {
                "name": e.name,
                "description": e.summary,
                "path": e.path,
                "window": e.window,
                "window_limit": _fmt_delta(e.max_window),
                "window_size": _fmt_delta(e.window_size),
                "keys": list(e.keys),
                "keys_from": "hints" if e.keys_from_hints else "inferred",
                "table": f"raw_bmrs.{e.table}",
                "loaded": bool(state and (state.done or state.last_snapshot)),
                "loaded_until": _loaded_until(state),
            }
        )
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    print(f"{'NAME':<28} {'WINDOW':<10} {'LIMIT':<8} {'LOADED':<7} KEYS / DESCRIPTION")
    for r in rows:
        print(
            f"{r['name']:<28} {r['window']:<10} {r['window_limit'] or '-':<8} "
            f"{'yes' if r['loaded'] else 'no':<7} {', '.join(r['keys'])}"
        )
        print(f"{'':<56}{r['description'][:90]}")
    print(
        f"\n{len(rows)} datasets. Load one with: gridwarehouse load bmrs --dataset NAME --from DATE"
    )
    return 0


def _loaded_until(state: Any) -> str | None:
    """The end of the last done window; for whole-list datasets (the BM unit registry), which
    have no windows, when the list was last loaded."""
    if state is None:
        return None
    last = state.last_end or state.last_snapshot
    return last.isoformat() if last else None


def _list_skipped(skipped: dict[str, str], *, as_json: bool) -> int:
    """Spec endpoints that are not loadable datasets, and why."""
    if as_json:
        json.dump(
            [{"path": p, "reason": r} for p, r in sorted(skipped.items())], sys.stdout, indent=2
        )
        print()
        return 0
    for path, reason in sorted(skipped.items()):
        print(f"{path:<90} {reason}")
    print(
        f"\n{len(skipped)} spec endpoints are not separate datasets (a stream variant or a "
        "per-period view of one is loaded instead, or they need a unit, mRID or year to ask for)."
    )
    return 0


def _fmt_delta(delta: timedelta | None) -> str | None:
    if delta is None:
        return None
    if delta % timedelta(days=1) == timedelta(0):
        return f"{delta.days}d"
    if delta % timedelta(hours=1) == timedelta(0):
        return f"{int(delta.total_seconds() // 3600)}h"
    return f"{int(delta.total_seconds() // 60)}m"


def iris_run(settings: Settings, *, archive: str | None, keep_days: float, drain: bool) -> int:
    """`gridwarehouse iris run`: receive until SIGTERM/Ctrl-C (or, with --drain, until empty)."""
    from pathlib import Path

    from loaders.sources.iris.receiver import IrisReceiver

    if keep_days <= 0:
        raise UsageError("--archive-keep-days must be more than 0")
    with iris_stop() as stop:
        receiver = IrisReceiver(
            settings,
            archive=Path(archive) if archive else None,
            archive_keep_days=keep_days,
            drain=drain,
            stop=stop,
        )
        return receiver.run()


@contextlib.contextmanager
def iris_stop():
    """SIGTERM/SIGINT ask the receiver to finish its batch, flush and exit 0."""
    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
