"""The CLI's parsed arguments to the command that does the work, and its output.

Apart from cli.py, which imports this only once it knows there is work to do: the cron's
nothing-due path and `--help` must not import every source.
"""

from __future__ import annotations

import argparse

from loaders.commands import backfill_plan, iris_run, list_datasets, load_plan
from loaders.common.bigquery import check_bigquery_access, require_bigquery_settings
from loaders.common.dbt import build
from loaders.common.memory import pin_malloc_threshold
from loaders.common.runner import Plan, run_plan
from loaders.common.warehouse import check_free_space
from loaders.console import show_listing, show_notes, show_outcome
from loaders.demo import run_demo
from loaders.errors import UsageError
from loaders.logs import setup_logging
from loaders.operations.endpoints import check
from loaders.operations.export import export_vlp_batteries
from loaders.operations.schedule import run_cycle, schedule
from loaders.operations.status import status
from loaders.settings import Settings, load_settings
from loaders.sources.base import LoadRequest

# commands that read or write the warehouse (with BigQuery, credentials are checked first)
_USES_BIGQUERY = (
    "load",
    "backfill",
    "build",
    "check-endpoints",
    "export",
    "status",
    "run",
    "schedule",
)


def dispatch(args: argparse.Namespace) -> int:
    pin_malloc_threshold()
    settings = load_settings()
    setup_logging(settings, args.log_level or settings.log_level, command=args.command)
    if settings.target == "bigquery" and args.command in _USES_BIGQUERY:
        if args.command == "check-endpoints":  # it probes the warehouse itself, and reports
            require_bigquery_settings(settings)
        else:  # one clear line before any work: no fetching, no dbt parse, no traceback
            check_bigquery_access(settings)
    if args.command in ("load", "backfill", "run", "schedule", "iris"):
        check_free_space(settings)  # before any work: a full disk mid-load helps nobody
    if args.command == "load":
        return _run(settings, load_plan(settings, args.source, _load_request(args)))
    if args.command == "backfill":
        request = LoadRequest(
            tuple(args.dataset), start=args.start, end=args.end, locations=tuple(args.location)
        )
        return _run(settings, backfill_plan(settings, args.source, request))
    if args.command == "datasets":
        if args.datasets_command is None:  # `gridwarehouse datasets` alone lists them
            return show_listing(list_datasets(settings, "bmrs"), as_json=False)
        listing = list_datasets(settings, args.source, skipped=args.skipped)
        return show_listing(listing, as_json=args.json)
    if args.command == "export":
        if args.export_command is None:
            raise UsageError("export what? `gridwarehouse export vlp-batteries --format csv|json`")
        return export_vlp_batteries(settings, args.format, args.out, args.variant)
    if args.command == "check-endpoints":
        return check(settings, as_json=args.json)
    if args.command == "run":
        return run_cycle(settings, force=args.force, build=not args.no_build)
    if args.command == "schedule":
        return schedule(settings, args.every, cycles=args.cycles)
    if args.command == "status":
        return status(
            settings,
            as_json=args.json,
            html=args.html,
            serve=args.serve,
            port=args.port,
            show_all=args.show_all,
        )
    if args.command == "iris":
        if args.iris_command is None:
            raise UsageError("iris what? `gridwarehouse iris run [--archive DIR]`")
        return iris_run(
            settings, archive=args.archive, keep_days=args.archive_keep_days, drain=args.drain
        )
    if args.command == "build":
        return build(settings, args.dbt_args)
    if args.command == "demo":
        return run_demo(args.data_dir)
    raise UsageError(f"unknown command {args.command}")


def _load_request(args: argparse.Namespace) -> LoadRequest:
    return LoadRequest(
        tuple(args.dataset),
        all_=args.all,
        start=args.start,
        end=args.end,
        force=args.force,
        locations=tuple(args.location),
        dnos=tuple(args.dno),
        file=args.file,
    )


def _run(settings: Settings, plan: Plan) -> int:
    """Show what the plan decided, run it, show the outcome."""
    show_notes(plan)
    return show_outcome(run_plan(settings, plan))
