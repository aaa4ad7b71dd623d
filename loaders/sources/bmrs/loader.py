"""BMRS as a source of the house: plans for `load`/`backfill`/`run`, its catalogue, listing,
dbt selectors and the endpoint `check-endpoints` probes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from loaders.common.engine import Task
from loaders.common.probes import Planned, Probe, http_probe
from loaders.common.ranges import parse_range, refuse_future_range
from loaders.common.runner import UP_TO_DATE, Plan
from loaders.common.states import read_states
from loaders.errors import UsageError
from loaders.settings import Settings
from loaders.sources.base import (
    BaseSource,
    DatasetInfo,
    Listing,
    LoadRequest,
    refuse_unknown,
    short_duration,
)
from loaders.sources.bmrs.catalogue import Endpoint, load_catalogue
from loaders.sources.bmrs.plan import incremental_tasks, range_tasks, resolve_datasets

SOURCE = "bmrs"


def latest_ends(endpoints: Sequence[Endpoint]) -> dict[str, datetime]:
    """How far each BMRS dataset's windows may reach now: now, plus a forecast's horizon."""
    now = datetime.now(UTC)
    return {e.name: now + e.horizon for e in endpoints}


def bmrs_plan(
    settings: Settings, tasks: list[Task], *, pipeline_name: str = SOURCE, always: bool = False
) -> Plan:
    """BMRS window tasks, ready for the runner (`always`: run, and summarise, even none)."""
    # the adapter brings dlt and pyarrow (~0.7 s): imported when a load runs, so `status`,
    # `datasets list` and the cron's nothing-due path start fast
    from loaders.sources.bmrs.source import BmrsAdapter

    return Plan(
        SOURCE,
        pipeline_name,
        settings.bmrs_concurrency,
        tasks=tasks,
        adapter=BmrsAdapter(settings) if tasks or always else None,
        nothing_message=None if always else UP_TO_DATE,
    )


class BmrsSource(BaseSource):
    name = SOURCE
    title = "BMRS (Elexon Insights API)"
    stale_after = timedelta(hours=2)
    replay_paths = {"bmrs": ""}  # noqa: RUF012

    def plan_load(self, settings: Settings, request: LoadRequest) -> Plan:
        """A range, or incrementally from the load log."""
        endpoints = resolve_datasets(
            load_catalogue(), request.names, request.all_, settings.bmrs_windows
        )
        window = parse_range(request.start, request.end)
        if window is not None:
            refuse_future_range(window[1], latest_ends(endpoints))
            return bmrs_plan(settings, range_tasks(endpoints, *window))
        now = datetime.now(UTC)
        states = read_states(
            settings, SOURCE, [e.name for e in endpoints], now - settings.retry_lookback
        )
        tasks = incremental_tasks(
            endpoints,
            states,
            trailing=timedelta(minutes=settings.bmrs_trailing_minutes),
            retry_lookback=settings.retry_lookback,
            now=now,
        )
        return bmrs_plan(settings, tasks)

    def plan_backfill(self, settings: Settings, request: LoadRequest) -> Plan:
        """A long range, resumable: windows already loaded are skipped."""
        if request.start is None or request.end is None:
            raise UsageError("backfill needs --from and --to")
        endpoints = resolve_datasets(load_catalogue(), request.names, False, settings.bmrs_windows)
        span = parse_range(request.start, request.end)
        assert span is not None  # both dates were checked above
        lo, hi = span
        refuse_future_range(hi, latest_ends(endpoints))
        states = read_states(settings, SOURCE, [e.name for e in endpoints])
        tasks, notes = [], []
        for endpoint in endpoints:
            planned = range_tasks([endpoint], lo, hi)
            todo = [
                t
                for t in planned
                if t.window.start is None
                or not states[endpoint.name].covers(t.window.start, t.window.end)
            ]
            notes.append(
                f"{endpoint.name}: {len(planned):,} windows in range, "
                f"{len(planned) - len(todo):,} already loaded, {len(todo):,} to load"
            )
            tasks.extend(todo)
        plan = bmrs_plan(settings, tasks, pipeline_name=f"{SOURCE}_backfill")
        plan.notes = notes
        plan.nothing_message = "nothing to load: the whole range is already loaded"
        plan.resumable = True
        return plan

    def catalogue(self, settings: Settings) -> list[DatasetInfo]:
        every = settings.run_every.get(SOURCE, timedelta(minutes=15))
        return [
            DatasetInfo(
                e.name,
                short_duration(every) or "",
                tuple(e.keys),
                e.window,
                f"raw_bmrs.{e.table}",
                e.summary,
            )
            for e in load_catalogue()
        ]

    def scheduled(self, settings: Settings, chosen: tuple[str, ...] | None) -> set[str]:
        catalogue = load_catalogue()
        names = chosen or ("all",)
        refuse_unknown(
            SOURCE,
            [n for n in names if n not in catalogue],
            "`gridwarehouse datasets list` shows them",
        )
        if names == ("all",):
            return set(catalogue.names())
        return {catalogue.get(n).name for n in names}

    def selector(self, dataset: str) -> str:
        return f"source:bmrs.{load_catalogue().get(dataset).table}"

    def probes(self, settings: Settings) -> list[Planned]:
        return [
            http_probe(
                Probe(SOURCE, "health", f"{settings.base_url(SOURCE)}/health", required=True)
            )
        ]

    def list_datasets(self, settings: Settings, *, skipped: bool = False) -> Listing:
        """Name, description, window limit, keys, loaded or not; or the spec endpoints skipped."""
        catalogue = load_catalogue()
        if skipped:
            return _skipped_listing(catalogue.skipped)
        states = read_states(settings, SOURCE, catalogue.names())
        rows = [_describe(e, states.get(e.name)) for e in catalogue]
        lines = [f"{'NAME':<28} {'WINDOW':<10} {'LIMIT':<8} {'LOADED':<7} KEYS / DESCRIPTION"]
        for r in rows:
            lines.append(
                f"{r['name']:<28} {r['window']:<10} {r['window_limit'] or '-':<8} "
                f"{'yes' if r['loaded'] else 'no':<7} {', '.join(r['keys'])}"
            )
            lines.append(f"{'':<56}{r['description'][:90]}")
        lines.append(
            f"\n{len(rows)} datasets. Load one with: gridwarehouse load bmrs --dataset NAME "
            "--from DATE"
        )
        return Listing(rows, lines)


def _describe(e: Endpoint, state: Any) -> dict[str, Any]:
    return {
        "name": e.name,
        "description": e.summary,
        "path": e.path,
        "window": e.window,
        "window_limit": short_duration(e.max_window),
        "window_size": short_duration(e.window_size),
        "keys": list(e.keys),
        "keys_from": "hints" if e.keys_from_hints else "inferred",
        "table": f"raw_bmrs.{e.table}",
        "loaded": bool(state and (state.done or state.last_snapshot)),
        "loaded_until": _loaded_until(state),
    }


def _loaded_until(state: Any) -> str | None:
    """The end of the last done window; for whole-list datasets (the BM unit registry), which
    have no windows, when the list was last loaded."""
    if state is None:
        return None
    last = state.last_end or state.last_snapshot
    return last.isoformat() if last else None


def _skipped_listing(skipped: dict[str, str]) -> Listing:
    """Spec endpoints that are not loadable datasets, and why."""
    rows = [{"path": p, "reason": r} for p, r in sorted(skipped.items())]
    lines = [f"{path:<90} {reason}" for path, reason in sorted(skipped.items())]
    lines.append(
        f"\n{len(skipped)} spec endpoints are not separate datasets (a stream variant or a "
        "per-period view of one is loaded instead, or they need a unit, mRID or year to ask for)."
    )
    return Listing(rows, lines)
