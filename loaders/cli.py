"""`gridwarehouse`: parse arguments, call a pipeline, print a summary. Nothing more.

Exit codes (CONTRACTS.md): 0 success; 1 a load or check failed; 2 bad input or usage;
3 `status` found stale or failing datasets.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from loaders import __version__
from loaders.common.checkpoint import nothing_due
from loaders.errors import GridwarehouseError, UsageError
from loaders.logs import log_internal_error, redact

VERSION = f"gridwarehouse {__version__}"


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 2 with our message style) instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}\n(run `{self.prog} --help` for usage)")


def build_parser() -> argparse.ArgumentParser:
    # imported after the nothing-due check in main(): the registry brings each source's
    # catalogue (pyarrow, ~0.5 s), which the 15-minute cron's common case must not pay
    from loaders.sources.registry import loadable

    sources = loadable()
    parser = _Parser(
        prog="gridwarehouse",
        description="Land GB electricity-market data in a warehouse and build tested marts.",
    )
    parser.add_argument("--version", action="version", version=VERSION)
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity (default: GRIDWAREHOUSE_LOG_LEVEL or INFO)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    load = commands.add_parser(
        "load",
        help="load a source incrementally, or a date range",
        description="Load datasets of a source into the warehouse. "
        "Without --from/--to, each dataset loads from its last loaded "
        "window to now. Dates are UTC: --from 2024-03-30 --to 2024-04-01 "
        "loads 30 and 31 March (the end is exclusive).",
    )
    load.add_argument("source", choices=sources, help="the source to load")
    load.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="NAME",
        help="dataset to load (repeat for more); see `gridwarehouse datasets list`",
    )
    load.add_argument("--all", action="store_true", help="every dataset of the source")
    load.add_argument(
        "--from", dest="start", metavar="DATE", help="start (YYYY-MM-DD or ISO datetime, UTC)"
    )
    load.add_argument("--to", dest="end", metavar="DATE", help="end, exclusive (default: now)")
    load.add_argument(
        "--dno",
        action="append",
        default=[],
        metavar="DNO",
        help="dno: only these DNO groups (UKPN, SPEN, NPg, ENWL, NGED, SSEN)",
    )
    load.add_argument(
        "--file",
        metavar="FILE",
        help="dno: load a CSV/XLSX downloaded by hand (with one --dno and one --dataset kind)",
    )
    load.add_argument(
        "--force",
        action="store_true",
        help="dno: ask portals that refused recently too; neso: reload loaded resources; "
        "isone: poll current-only datasets now",
    )
    load.add_argument(
        "--location",
        action="append",
        default=[],
        metavar="ID",
        help="isone: only these locations (ids or groups from loaders/sources/isone/datasets.toml)",
    )

    backfill = commands.add_parser(
        "backfill",
        help="load a long range, resumably, with progress",
        description="Load a long date range window by window. Windows already loaded (per "
        "ops.load_log) are skipped, so an interrupted or killed backfill resumes where it "
        "stopped when run again. Runs beside the 15-minute incremental loads.",
    )
    backfill.add_argument("source", choices=sources, help="the source to load")
    backfill.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="NAME",
        required=True,
        help="dataset to backfill (repeat for more)",
    )
    backfill.add_argument("--from", dest="start", metavar="DATE", required=True, help="start (UTC)")
    backfill.add_argument("--to", dest="end", metavar="DATE", required=True, help="end, exclusive")
    backfill.add_argument(
        "--location", action="append", default=[], metavar="ID", help="isone: only these locations"
    )

    iris = commands.add_parser("iris", help="the IRIS real-time receiver (Azure Service Bus)")
    iris_cmd = iris.add_subparsers(dest="iris_command", metavar="ACTION", parser_class=_Parser)
    iris_run = iris_cmd.add_parser(
        "run",
        help="receive IRIS messages into raw_bmrs until stopped",
        description="Receive BMRS datasets pushed by Elexon IRIS and land them in raw_bmrs "
        "(the same tables as `load bmrs`), exactly once: each message is written to a landing "
        "file and fsynced before it is completed, and landing files are flushed into the "
        "warehouse every few seconds. Reconnects on its own; back-fills gaps from the BMRS API. "
        "Stop it with SIGTERM or Ctrl-C: it finishes the batch in hand, flushes and exits 0. "
        "Needs IRIS_CLIENT_ID, IRIS_CLIENT_SECRET, IRIS_TENANT_ID and IRIS_QUEUE_NAME "
        "(or IRIS_CONNECTION_STRING).",
    )
    iris_run.add_argument(
        "--archive", metavar="DIR", help="also keep every message as DIR/<DATASET>/<file>.json"
    )
    iris_run.add_argument(
        "--archive-keep-days",
        type=float,
        default=3.0,
        metavar="DAYS",
        help="delete archive files older than this (default 3, the queue's own retention)",
    )
    iris_run.add_argument(
        "--drain",
        action="store_true",
        help="exit once the queue is empty (for a cron job instead of a service)",
    )

    run = commands.add_parser(
        "run",
        help="one scheduled cycle: due sources, then dbt build of what changed",
        description="Load every enabled source that is due on its cadence "
        "(GRIDWAREHOUSE_RUN_EVERY: bmrs and the IRIS gap check 15m, neso 1h, dno 7d, isone 1h), "
        "then dbt build the models downstream of the raw tables that got new rows, then send "
        "alerts. Meant for cron every 15 minutes; an overlapping run exits at once.",
    )
    run.add_argument("--force", action="store_true", help="load every enabled source now")
    run.add_argument("--no-build", action="store_true", help="skip the dbt build")
    sched = commands.add_parser(
        "schedule",
        help="run cycles in a loop (for machines without cron)",
        description="Run `gridwarehouse run` every interval until Ctrl-C or SIGTERM.",
    )
    sched.add_argument("--every", default="15m", help="interval between cycles (default 15m)")
    sched.add_argument("--cycles", type=int, help=argparse.SUPPRESS)  # tests: stop after N
    status = commands.add_parser(
        "status",
        help="freshness and health per source and dataset",
        description="Last successful window, lag, rows and failures in 24h per dataset, and the "
        "IRIS receiver's rates. Exit 3 when a scheduled dataset is stale or failing.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--html", metavar="FILE", help="write a self-contained status page")
    status.add_argument(
        "--serve", action="store_true", help="serve the live status page on 127.0.0.1"
    )
    status.add_argument("--port", type=int, default=0, help="--serve port (default: a free one)")
    status.add_argument(
        "--all",
        dest="show_all",
        action="store_true",
        help="list every dataset, also those scheduled but never loaded (the table and the page)",
    )

    check = commands.add_parser(
        "check-endpoints",
        help="probe every configured endpoint and the warehouse",
        description="Probe BMRS, NESO, every configured DNO dataset, the IRIS "
        "namespace (when configured) and the warehouse; print a table, record it in "
        "ops.endpoint_status, and exit 1 when a required endpoint is down.",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")

    export = commands.add_parser("export", help="export a mart for scripts and spreadsheets")
    export_cmd = export.add_subparsers(dest="export_command", metavar="WHAT", parser_class=_Parser)
    vlp = export_cmd.add_parser(
        "vlp-batteries", help="battery BM units and their VLP flags (JSON or CSV)"
    )
    vlp.add_argument("--format", required=True, choices=["csv", "json"], help="output format")
    vlp.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    vlp.add_argument(
        "--variant",
        default="all",
        choices=["all", "vlp", "direct"],
        help="CSV only: every battery, VLP-run only, or direct only",
    )

    datasets = commands.add_parser("datasets", help="list the datasets a source can load")
    datasets_cmd = datasets.add_subparsers(
        dest="datasets_command", metavar="ACTION", parser_class=_Parser
    )
    listing = datasets_cmd.add_parser(
        "list", help="name, description, window limit, keys, loaded or not"
    )
    listing.add_argument("source", nargs="?", choices=sources, default="bmrs")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument(
        "--skipped",
        action="store_true",
        help="instead, the spec endpoints that are not loadable datasets, and why",
    )

    build = commands.add_parser(
        "build",
        help="run `dbt build` with the project's profile",
        description="Run dbt build against the configured warehouse. "
        "Extra arguments go to dbt, e.g. `gridwarehouse build --select staging`.",
    )
    build.add_argument("dbt_args", nargs=argparse.REMAINDER, help="arguments passed to dbt build")

    demo = commands.add_parser(
        "demo",
        help="the offline demo: recorded real data end to end",
        description="Serve the recorded real responses on 127.0.0.1, load "
        "them through the real loaders into the configured warehouse "
        "(data/gridwarehouse.duckdb by default, so every other command sees them), "
        "run dbt build and dbt docs generate, and print what to try next.",
    )
    demo.add_argument(
        "--data-dir",
        help="a data folder of its own for the demo (default: GRIDWAREHOUSE_DATA_DIR, `data`); "
        "other commands then need GRIDWAREHOUSE_DATA_DIR set to it too",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        # answered as argparse would, before building the parser: its list of sources imports
        # every source (pyarrow, pydantic-settings), ten times the cost of the answer
        if argv[:1] == ["--version"]:
            print(VERSION)
            return 0
        if _nothing_due(argv):  # first: the cron's common case, before building the parser
            print("nothing to load: every dataset asked for is up to date")
            return 0
        parser = build_parser()
        passthrough: list[str] = []
        if "build" in argv:  # everything after `build` belongs to dbt, options included
            at = argv.index("build")
            argv, passthrough = argv[: at + 1], argv[at + 1 :]
        args = parser.parse_args(argv)
        if args.command == "build":
            args.dbt_args = passthrough
        if args.command is None:
            parser.print_help()
            return 2
        # the commands, and every source behind them, only now that there is work to do
        from loaders.dispatch import dispatch

        return dispatch(args)
    except GridwarehouseError as exc:
        print(f"gridwarehouse: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gridwarehouse: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    except Exception as exc:  # the last resort: a bug or a broken machine, never a traceback
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    """One masked line on stderr; the traceback goes to the log file only."""
    summary, path = log_internal_error(exc)
    where = f"details in {path}" if path else "no log file could be written"
    print(f"gridwarehouse: internal error: {summary}; {where}", file=sys.stderr)
    return 1


def _reader_went_away() -> int:
    """The reader of our output closed it (`… --json | head`): stop quietly. Standard output is
    pointed at /dev/null so the interpreter's own flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


def _nothing_due(argv: list[str]) -> bool:
    """The 15-minute cron's common case, answered before anything heavy is imported: a plain
    incremental `load <source> --dataset X… | --all` with every dataset up to date."""
    # any source word will do: only a source that has loaded has a cache to say nothing is due
    if len(argv) < 3 or argv[0] != "load" or not argv[1].isalpha():
        return False
    names: list[str] = []
    all_ = False
    rest = argv[2:]
    while rest:
        flag = rest.pop(0)
        if flag == "--all":
            all_ = True
        elif flag == "--dataset" and rest:
            names.append(rest.pop(0))
        else:
            return False  # a range, an option, anything else: the full path decides
    if all_ == bool(names):
        return False
    # only now: pydantic-settings is most of the start-up time of the commands that need none
    from loaders.settings import load_settings

    try:
        settings = load_settings()
    except GridwarehouseError:
        return False
    if settings.target != "duckdb":
        return False
    return nothing_due(
        settings.pipelines_dir,
        settings.duckdb_path,
        argv[1],
        None if all_ else names,
        lookback=settings.retry_lookback,
    )


if __name__ == "__main__":
    raise SystemExit(main())
