"""`gridwarehouse load | backfill | datasets list isone`: plan, run through the engine, report."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from loaders.commands import parse_range, print_summary, refuse_future_range, run_source
from loaders.common.engine import Task
from loaders.common.ops import read_states
from loaders.errors import UsageError
from loaders.settings import Settings
from loaders.sources.isone.config import Config, Dataset, load_config, resolve
from loaders.sources.isone.plan import (
    backfill_tasks,
    check_locations,
    incremental_tasks,
    latest_range_ends,
    load_names,
    range_tasks,
    require_backfillable,
)
from loaders.sources.isone.source import SOURCE, IsoneAdapter

# One request at a time: the shared limiter (60/min) paces them anyway, and windows then run
# in order, so "N consecutive failures" means what it says for the circuit breaker.
CONCURRENCY = 1


def load(
    settings: Settings,
    names: Sequence[str],
    *,
    all_: bool,
    start: str | None,
    end: str | None,
    force: bool = False,
    locations: Sequence[str] = (),
) -> int:
    """A range of market days, or incrementally: what is due per dataset and location."""
    config = load_config()
    datasets = resolve(config, list(names), all_)
    span = parse_range(start, end)
    if span is not None:
        refuse_future_range(span[1], latest_range_ends(datasets, datetime.now(UTC)))
    if span is not None and all_:
        current = [d.name for d in datasets if not d.backfillable]
        datasets = [d for d in datasets if d.backfillable]
        print(f"current-only, not loaded for a range: {', '.join(current)}")
    only = check_locations(datasets, locations)
    if span is not None:
        tasks = range_tasks(datasets, *span, locations=only)
    else:
        states = read_states(settings, SOURCE, load_names(datasets, only))
        tasks = incremental_tasks(datasets, states, config.limits, locations=only, force=force)
    if not tasks:
        print("nothing to load: every dataset asked for is up to date")
        return 0
    return _run(settings, config, tasks, pipeline_name=SOURCE)


def backfill(
    settings: Settings,
    names: Sequence[str],
    *,
    start: str | None,
    end: str | None,
    locations: Sequence[str] = (),
) -> int:
    """A long range of market days, resumable: windows already loaded are skipped."""
    config = load_config()
    datasets = resolve(config, list(names), False)
    require_backfillable(datasets)
    span = parse_range(start, end)
    if span is None or end is None:
        raise UsageError("backfill needs --from and --to")
    refuse_future_range(span[1], latest_range_ends(datasets, datetime.now(UTC)))
    only = check_locations(datasets, locations)
    states = read_states(settings, SOURCE, load_names(datasets, only))
    tasks, counts = backfill_tasks(datasets, states, *span, locations=only)
    for name, (total, loaded) in counts.items():
        print(
            f"{name}: {total:,} windows in range, {loaded:,} already loaded, "
            f"{total - loaded:,} to load"
        )
    if not tasks:
        print("nothing to load: the whole range is already loaded")
        return 0
    code = _run(settings, config, tasks, pipeline_name=f"{SOURCE}_backfill")
    return code


def _run(settings: Settings, config: Config, tasks: list[Task], *, pipeline_name: str) -> int:
    adapter = IsoneAdapter(settings, config)
    runnable, refused = adapter.refusals(tasks)
    summary = run_source(
        settings,
        adapter,
        runnable,
        pipeline_name=pipeline_name,
        concurrency=CONCURRENCY,
        initial_results=refused,
    )
    print_summary(summary)
    if summary.not_attempted:
        print(
            f"stopped: run the same command again to load the remaining "
            f"{summary.not_attempted:,} windows"
        )
        return 130
    return summary.exit_code


def list_datasets(settings: Settings, *, as_json: bool) -> int:
    """Each dataset: cadence, back-fillable or current-only, endpoint, keys, loaded or not."""
    config = load_config()
    datasets = list(config.datasets.values())
    states = read_states(settings, SOURCE, load_names(datasets, ()))
    rows = [_describe(dataset, states) for dataset in datasets]
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    print(f"{'NAME':<34} {'CADENCE':<8} {'BACKFILL':<9} {'LOADED':<7} TABLE / DESCRIPTION")
    for r in rows:
        backfill = "yes" if r["backfillable"] else "current"
        print(
            f"{r['name']:<34} {r['cadence']:<8} {backfill:<9} "
            f"{'yes' if r['loaded'] else 'no':<7} {r['table']}"
        )
        print(f"{'':<61}{r['description'][:90]}")
    print(
        f"\n{len(rows)} datasets. Back-fillable ones load market days: gridwarehouse load isone "
        "--dataset NAME --from DATE --to DATE; current-only ones are polled on their cadence."
    )
    return 0


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
