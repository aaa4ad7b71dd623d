"""ISO New England as a source of the house: market days (ranges, backfills) or current
polls on each dataset's cadence, per location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from loaders.common.engine import Task
from loaders.common.http import full_url
from loaders.common.probes import Planned, Probe, http_probe, known, probe_http
from loaders.common.ranges import parse_range, refuse_future_range
from loaders.common.runner import Plan
from loaders.common.states import read_states
from loaders.errors import UsageError
from loaders.settings import Settings
from loaders.sources.base import BaseSource, DatasetInfo, Listing, LoadRequest, refuse_unknown
from loaders.sources.isone.config import Config, Dataset, load_config, resolve
from loaders.sources.isone.plan import (
    backfill_tasks,
    check_locations,
    incremental_tasks,
    latest_range_ends,
    load_names,
    market_day,
    range_tasks,
    require_backfillable,
)

SOURCE = "isone"
# One request at a time: the shared limiter (60/min) paces them anyway, and windows then run
# in order, so "N consecutive failures" means what it says for the circuit breaker.
CONCURRENCY = 1


def isone_plan(settings: Settings, config: Config, tasks: list[Task], pipeline_name: str) -> Plan:
    """Tasks ready for the runner; those needing credentials that are not set are refused
    up front (`needs_token`) instead of asked for."""
    plan = Plan(SOURCE, pipeline_name, CONCURRENCY, tasks=tasks, resumable=True)
    if tasks:
        # the adapter brings dlt and pyarrow (~0.7 s): imported only when there is work
        from loaders.sources.isone.source import IsoneAdapter

        plan.adapter = IsoneAdapter(settings, config)
        plan.tasks, plan.initial_results = plan.adapter.refusals(tasks)
    return plan


class IsoneSource(BaseSource):
    name = SOURCE
    title = "ISO New England"
    stale_after = timedelta(hours=3)
    replay_paths = {"isone": "/api/v1.1", "isone_www": "/www"}  # noqa: RUF012
    takes_locations = True

    def plan_load(self, settings: Settings, request: LoadRequest) -> Plan:
        """A range of market days, or incrementally: what is due per dataset and location."""
        config = load_config()
        datasets = resolve(config, list(request.names), request.all_)
        span = parse_range(request.start, request.end)
        notes = []
        if span is not None:
            refuse_future_range(span[1], latest_range_ends(datasets, datetime.now(UTC)))
        if span is not None and request.all_:
            current = [d.name for d in datasets if not d.backfillable]
            datasets = [d for d in datasets if d.backfillable]
            notes.append(f"current-only, not loaded for a range: {', '.join(current)}")
        only = check_locations(datasets, request.locations)
        if span is not None:
            tasks = range_tasks(datasets, *span, locations=only)
        else:
            states = read_states(settings, SOURCE, load_names(datasets, only))
            tasks = incremental_tasks(
                datasets, states, config.limits, locations=only, force=request.force
            )
        plan = isone_plan(settings, config, tasks, SOURCE)
        plan.notes = notes
        return plan

    def plan_backfill(self, settings: Settings, request: LoadRequest) -> Plan:
        """A long range of market days, resumable: windows already loaded are skipped."""
        config = load_config()
        datasets = resolve(config, list(request.names), False)
        require_backfillable(datasets)
        span = parse_range(request.start, request.end)
        if span is None or request.end is None:
            raise UsageError("backfill needs --from and --to")
        refuse_future_range(span[1], latest_range_ends(datasets, datetime.now(UTC)))
        only = check_locations(datasets, request.locations)
        states = read_states(settings, SOURCE, load_names(datasets, only))
        tasks, counts = backfill_tasks(datasets, states, *span, locations=only)
        plan = isone_plan(settings, config, tasks, f"{SOURCE}_backfill")
        plan.notes = [
            f"{name}: {total:,} windows in range, {loaded:,} already loaded, "
            f"{total - loaded:,} to load"
            for name, (total, loaded) in counts.items()
        ]
        plan.nothing_message = "nothing to load: the whole range is already loaded"
        return plan

    def catalogue(self, settings: Settings) -> list[DatasetInfo]:
        return [
            DatasetInfo(d.name, d.cadence, tuple(d.keys), d.window, f"raw_isone.{d.table}", d.title)
            for d in load_config().datasets.values()
        ]

    def scheduled(self, settings: Settings, chosen: tuple[str, ...] | None) -> set[str]:
        # the names the load log records: the dataset names of loaders/sources/isone/datasets.toml
        # (per-location rows, "<dataset>/<location>", are held to their dataset's threshold)
        every = set(load_config().datasets)
        names = tuple(n.lower() for n in chosen or ("all",))
        refuse_unknown(
            SOURCE,
            [n for n in names if n not in every],
            "`gridwarehouse datasets list isone` shows them",
        )
        return every if names == ("all",) else set(names)

    def probes(self, settings: Settings) -> list[Planned]:
        """Web services (one cheap call, with credentials) and each website report used."""
        from loaders.sources.isone.source import CREDENTIALS_HELP, auth_headers, request_for

        headers = auth_headers(settings)
        web = Probe(SOURCE, "web services", f"{settings.base_url(SOURCE)}/locations")
        if headers:
            probes = [http_probe(web, headers)]
        else:
            web.verdict, web.detail = "needs token", CREDENTIALS_HELP
            probes = [known(web)]
        # website reports answer a plain GET (today's); the wsclient form endpoint only a POST
        today = market_day(datetime.now(UTC))
        for dataset in load_config().datasets.values():
            endpoint = dataset.endpoint
            if endpoint.host != "www" or endpoint.form is not None:
                continue
            path, query, _ = request_for(endpoint, None, today if dataset.backfillable else None)
            url = full_url(f"{settings.base_url('isone_www')}{path}", query)
            probe = Probe(SOURCE, dataset.name, url)
            probes.append((probe, lambda client, p=probe: probe_http(p, client)))
        return probes

    def list_datasets(self, settings: Settings, *, skipped: bool = False) -> Listing:
        """Each dataset: cadence, back-fillable or current-only, endpoint, keys, loaded or not."""
        datasets = list(load_config().datasets.values())
        states = read_states(settings, SOURCE, load_names(datasets, ()))
        rows = [_describe(dataset, states) for dataset in datasets]
        lines = [f"{'NAME':<34} {'CADENCE':<8} {'BACKFILL':<9} {'LOADED':<7} TABLE / DESCRIPTION"]
        for r in rows:
            backfill = "yes" if r["backfillable"] else "current"
            lines.append(
                f"{r['name']:<34} {r['cadence']:<8} {backfill:<9} "
                f"{'yes' if r['loaded'] else 'no':<7} {r['table']}"
            )
            lines.append(f"{'':<61}{r['description'][:90]}")
        lines.append(
            f"\n{len(rows)} datasets. Back-fillable ones load market days: gridwarehouse load "
            "isone --dataset NAME --from DATE --to DATE; current-only ones are polled on their "
            "cadence."
        )
        return Listing(rows, lines)


def _describe(dataset: Dataset, states: dict[str, Any]) -> dict[str, Any]:
    loaded_states = [states[n] for n in dataset.load_names() if n in states]
    ends = [s.last_end for s in loaded_states if s.last_end]
    fallbacks = (["xml"] if dataset.xml else []) + (
        [dataset.fallback.key] if dataset.fallback else []
    )
    return {
        "name": dataset.name,
        "description": dataset.title,
        "endpoint": dataset.endpoint.key,
        "window": dataset.window,
        "cadence": dataset.cadence,
        "backfillable": dataset.backfillable,
        "current_only": not dataset.backfillable,
        "keys": list(dataset.keys),
        "locations": dict(dataset.locations),
        "fallbacks": fallbacks,
        "needs_credentials": dataset.endpoint.host == "webservices",
        "table": f"raw_isone.{dataset.table}",
        "loaded": any(s.done or s.last_snapshot for s in loaded_states),
        "loaded_until": max(ends).isoformat() if ends else None,
    }
