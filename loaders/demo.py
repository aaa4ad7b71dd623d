"""`gridwarehouse demo` (what `make demo` runs): recorded real data, end to end, offline.

A replay server on 127.0.0.1 answers with the real responses recorded from the BMRS Insights
API, the NESO portal, UKPN's portal and ISO New England (tests/data/recorded); the real loaders
fetch them over
HTTP into the configured warehouse (data/gridwarehouse.duckdb by default, so every other command
sees the demo's data), then dbt builds and tests every model and writes the docs site.

The console gets one line per step and dbt's own summary; everything the loaders and dbt print
goes to log files under <data>/logs/demo/, whose paths are printed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from loaders.commands import load, run_bmrs
from loaders.common.dbt import PROJECT_ROOT, run_dbt
from loaders.common.engine import RunSummary
from loaders.common.summary import summary_lines
from loaders.common.warehouse import connect_duckdb
from loaders.progress import Steps
from loaders.settings import Settings, load_settings
from loaders.sources.base import LoadRequest
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.sources.bmrs.plan import range_tasks, resolve_datasets
from loaders.testing.replay import ReplayServer, replay_base_urls

# The recorded days (see tests/data/recorded/bmrs/README.md), and what was recorded on them.
DEMO_FROM = datetime(2024, 5, 1, tzinfo=UTC)
DEMO_TO = datetime(2024, 5, 8, tzinfo=UTC)
DEMO_DATASETS = (
    "BOALF",
    "MILS",
    "REMIT_LIST_BY_EVENT",
    "ATL",
    "INDOD",
    "NTO",
    "NOU2T3YW",
    "TSDFW",
    "DEMAND_OUTTURN_DAILY",
    "FORECAST_GENERATION_WIND_PEAK",
    "BMUNITS",
)
# Recorded real data on other days: (datasets, from, to), each a range of whole settlement days
DEMO_SETTLEMENT_DAYS = (
    # FUELHH CSV export (SP2-11 of 6 Feb 2025): generation mix and interconnector flows
    (("FUELHH",), datetime(2025, 2, 6, tzinfo=UTC), datetime(2025, 2, 7, tzinfo=UTC)),
    # system prices with all 22 fields (SP33 of 5 Feb to SP31 of 6 Feb 2025): the imbalance marts
    (("SYSTEM_PRICES",), datetime(2025, 2, 5, tzinfo=UTC), datetime(2025, 2, 7, tzinfo=UTC)),
    # a FUELINST stream capture (17:45 UTC, 12 Feb 2024): five-minute generation by fuel type
    (("FUELINST",), datetime(2024, 2, 12, tzinfo=UTC), datetime(2024, 2, 13, tzinfo=UTC)),
    # AGPT (1-3 Jan 2024, every period): actual generation per production type
    (
        ("GENERATION_ACTUAL_PER_TYPE",),
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 4, tzinfo=UTC),
    ),
)
# ISO-NE: the recorded market days (incl. the spring-forward day, 2024-03-10) and load zones
ISONE_RANGES = (("2024-03-09", "2024-03-11"), ("2024-11-02", "2024-11-03"))
ISONE_DATASETS = (
    "hourly_system_load",
    "fuel_mix",
    "hourly_load_forecast",
    "reliability_region_load_forecast",
    "da_hourly_demand",
    "rt_hourly_demand",
)
ISONE_LOCATIONS = ("4001", "4002")


def run_demo(data_dir: str | None = None) -> int:
    """Load the recorded data, build and document it; exit 1 (with the log's tail) on a failure."""
    base = load_settings()
    if data_dir is not None:  # --data-dir: a warehouse of its own, away from the default one
        folder = Path(data_dir)
        base = base.replace(data_dir=folder, duckdb_path=folder / "gridwarehouse.duckdb")
    logs = base.data_dir / "logs" / "demo"
    logs.mkdir(parents=True, exist_ok=True)
    steps = Steps(len(_LOAD_STEPS) + 2)
    print(f"gridwarehouse demo: recorded real data into {_shown(base.duckdb_path)}")
    print(f"  full output: {_shown(logs)}/ (load.log, dbt-build.log, dbt-docs.log)")
    with ReplayServer() as replay:
        settings = _replay_settings(base, replay)
        with (logs / "load.log").open("w", encoding="utf-8") as log:
            for label, step in _LOAD_STEPS:
                if not _load_step(steps, label, step, settings, log):
                    return _failed(logs / "load.log")
    for args, name in ((["build"], "dbt-build.log"), (["docs", "generate"], "dbt-docs.log")):
        if not _dbt_step(steps, args, settings, logs / name):
            return _failed(logs / name)
    _report(settings)
    return 0


def _replay_settings(base: Settings, replay: ReplayServer) -> Settings:
    """The user's settings with every source pointed at the local replay server."""
    return base.replace(
        target="duckdb",
        base_urls={**base.base_urls, **replay_base_urls(replay)},
        dno_base_urls={"UKPN": replay.base_url("dno") + "/ukpn"},
        bmrs_requests_per_s=0.0,  # a local replay needs no politeness limit
        rates={source: 0.0 for source in base.rates},
        # the replay server asks for no credentials, but the loader sends some: never the
        # user's own, whatever the environment holds
        secrets={**base.secrets, "ISONE_USERNAME": "demo", "ISONE_PASSWORD": "demo"},
    )


def _load_bmrs(settings: Settings) -> list[RunSummary]:
    endpoints = resolve_datasets(load_catalogue(), DEMO_DATASETS, False)
    # the recorded DISBSAD actions: settlement period 40 of 1 May 2024 (18:30-19:00 UTC)
    disbsad = resolve_datasets(load_catalogue(), ["BALANCING_NONBM_DISBSAD_DETAILS"], False)
    tasks = range_tasks(endpoints, DEMO_FROM, DEMO_TO) + range_tasks(
        disbsad, datetime(2024, 5, 1, 18, 30, tzinfo=UTC), datetime(2024, 5, 1, 19, tzinfo=UTC)
    )
    for names, start, end in DEMO_SETTLEMENT_DAYS:
        tasks += range_tasks(resolve_datasets(load_catalogue(), names, False), start, end)
    return [run_bmrs(settings, tasks)]


def _load(settings: Settings, source: str, *requests: LoadRequest) -> list[RunSummary]:
    """Each request in turn, stopping at the first that fails."""
    summaries = []
    for request in requests:
        outcome = load(settings, source, request)
        if outcome.summary is None:
            print(outcome.plan.nothing_message)
            continue
        summaries.append(outcome.summary)
        if outcome.exit_code:
            break
    return summaries


def _load_neso(settings: Settings) -> list[RunSummary]:
    return _load(settings, "neso", LoadRequest(("historic_demand",)))


def _load_dno(settings: Settings) -> list[RunSummary]:
    return _load(settings, "dno", LoadRequest(("powerflow",), dnos=("UKPN",), force=True))


def _load_isone(settings: Settings) -> list[RunSummary]:
    ranges = [
        LoadRequest(ISONE_DATASETS, start=start, end=end, locations=ISONE_LOCATIONS)
        for start, end in ISONE_RANGES
    ]
    return _load(settings, "isone", *ranges, LoadRequest(("locations",)))


_LOAD_STEPS: tuple[tuple[str, Callable[[Settings], list[RunSummary]]], ...] = (
    (
        f"BMRS {DEMO_FROM:%Y-%m-%d} to {DEMO_TO:%Y-%m-%d} (acceptances, limits, REMIT, …), "
        "generation by fuel and type, system prices",
        _load_bmrs,
    ),
    ("NESO historic demand 2023", _load_neso),
    ("UKPN 33 kV power flows", _load_dno),
    ("ISO New England load, fuel mix and forecasts", _load_isone),
)


def _load_step(
    steps: Steps,
    label: str,
    step: Callable[[Settings], list[RunSummary]],
    settings: Settings,
    log: IO[str],
) -> bool:
    """One loader run with its output in the log; the console gets its rows and time."""
    steps.begin(label)
    began = time.monotonic()
    with _output_to(log):
        print(f"==> {label}", flush=True)
        summaries = step(settings)
        for summary in summaries:
            print("\n".join(summary_lines(summary)))
    code = max((s.exit_code for s in summaries), default=0)
    rows = sum(summary.rows for summary in summaries)
    detail = f"{rows:,} rows in {time.monotonic() - began:.0f}s"
    steps.end(label, detail if code == 0 else f"FAILED (exit {code})")
    return code == 0


def _dbt_step(steps: Steps, args: list[str], settings: Settings, log_path: Path) -> bool:
    """dbt with its per-model lines in the log; the console gets dbt's own summary lines."""
    label = f"dbt {' '.join(args)}"
    steps.begin(label)
    began = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        code = run_dbt(settings, args, output=log)
    summary = dbt_summary(log_path.read_text(encoding="utf-8", errors="replace"))
    detail = f"done in {time.monotonic() - began:.0f}s" if code == 0 else f"FAILED (exit {code})"
    steps.end(label, detail)
    for line in summary:
        print(f"      {line}")
    return code == 0


def dbt_summary(output: str) -> list[str]:
    """dbt's own summary: what ran ("Finished running 60 view models, 400 data tests …") and
    the totals ("Done. PASS=… WARN=… ERROR=… SKIP=… TOTAL=…")."""
    wanted = ("Finished running", "Done. PASS=", "Completed with", "Catalog written")
    lines = []
    for raw in output.splitlines():
        text = raw.split(" ", 1)[1].strip() if raw[:2].isdigit() and " " in raw else raw.strip()
        if text.startswith(wanted):
            lines.append(text)
    return lines


@contextlib.contextmanager
def _output_to(log: IO[str]) -> Iterator[None]:
    """Send what a loader prints (stdout, stderr, console log lines) to the demo's log file."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout)
    ]
    previous = [h.setStream(log) for h in handlers]
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)
        log.flush()


def _failed(log_path: Path, lines: int = 20) -> int:
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    print(f"\nThe demo stopped. The last lines of {_shown(log_path)}:")
    for line in tail:
        print(f"  {line}")
    return 1


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to here when it lies below, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _table_counts(settings: Settings) -> list[tuple[str, str, int]]:
    con = connect_duckdb(settings, read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw_bmrs', 'raw_neso', 'raw_dno', 'raw_isone', 'marts', 'ops') "
            "and table_name not like '_dlt%' order by 1, 2"
        ).fetchall()
        return [
            (schema, table, con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0])
            for schema, table in tables
        ]
    finally:
        con.close()


def _report(settings: Settings) -> None:
    """Rows per schema, then the commands to try next: each one works as printed (a test runs
    them), from this folder, against the warehouse the demo just filled."""
    counts = _table_counts(settings)
    print("\nRows per schema:")
    for schema in dict.fromkeys(s for s, _, _ in counts):
        mine = [(t, n) for s, t, n in counts if s == schema]
        filled = sum(1 for _, n in mine if n)
        print(
            f"  {schema:<10} {sum(n for _, n in mine):>10,} rows in {len(mine)} tables "
            f"({filled} with rows)"
        )
    _report_empty_marts([t for s, t, n in counts if s == "marts" and n == 0])
    _report_null_columns(settings, [t for s, t, n in counts if s == "marts" and n])
    warehouse = _shown(settings.duckdb_path)
    site = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target") / "index.html"
    pipelines = _shown(settings.pipelines_dir)
    query = (
        f"import duckdb; con = duckdb.connect('{warehouse}', read_only=True); "
        "print(con.sql('select * from marts.fct_acceptances_by_unit_period limit 5'))"
    )
    print(f"""
Done. The warehouse is {warehouse}; every command below reads it.
  status:     uv run gridwarehouse status        (exit 3: the recorded days are long past)
  datasets:   uv run gridwarehouse datasets list
  export:     uv run gridwarehouse export vlp-batteries --format csv --out batteries.csv
  query:      uv run python -c "{query}"
  docs site:  {_shown(site)}   serve it: make docs   (prints the URL)
  pipelines:  uv run dlt pipeline --pipelines-dir {pipelines} bmrs info""")


def _report_empty_marts(empty: list[str]) -> None:
    """Name every mart the recorded real data leaves empty, and the dataset that would fill it
    (the model's `meta.filled_by` in its YAML, as the docs site shows it)."""
    if not empty:
        print("\nEvery mart has rows.")
        return
    filled_by = _marts_filled_by()
    print(f"\n{len(empty)} mart(s) stay empty: no real recording of the data that fills them")
    for mart in empty:
        print(f"  marts.{mart}: {filled_by.get(mart, 'see its docs')}")


def _manifest_marts() -> list[dict]:
    """The mart models of the manifest `dbt build` just wrote (none when there is none)."""
    target = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    manifest = target / "manifest.json"
    if not manifest.is_file():
        return []
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    return [node for node in nodes.values() if node.get("resource_type") == "model"]


def _filled_by(meta: dict) -> str | None:
    text = meta.get("filled_by")
    return " ".join(text.split()) if text else None


def _marts_filled_by() -> dict[str, str]:
    """Mart name -> meta.filled_by, from the manifest."""
    found = ((node["name"], _filled_by(node.get("meta", {}))) for node in _manifest_marts())
    return {name: text for name, text in found if text}


def columns_filled_by(nodes: list[dict]) -> dict[tuple[str, str], str]:
    """(mart, column) -> the dataset that fills the column (its `meta.filled_by`, written under
    the column or its config)."""
    found = {}
    for node in nodes:
        for column, spec in node.get("columns", {}).items():
            meta = {**spec.get("config", {}).get("meta", {}), **spec.get("meta", {})}
            text = _filled_by(meta)
            if text:
                found[(node["name"], column)] = text
    return found


def null_columns(
    con: Any, filled_by: dict[tuple[str, str], str], marts: list[str]
) -> dict[str, list[str]]:
    """Dataset -> the `mart.column`s it would fill that are NULL in every row of a mart with rows:
    the demo built the mart, but nothing recorded fills those columns (costs without cashflows)."""
    empty: dict[str, list[str]] = {}
    for (mart, column), dataset in sorted(filled_by.items()):
        if mart not in marts:
            continue
        (filled,) = con.execute(f'select count("{column}") from marts."{mart}"').fetchone()
        if not filled:
            empty.setdefault(dataset, []).append(f"{mart}.{column}")
    return empty


def _report_null_columns(settings: Settings, marts: list[str]) -> None:
    """Name the columns the recordings leave NULL, by the dataset that would fill them, so an
    empty cost or volume column is explained rather than silent."""
    filled_by = columns_filled_by(_manifest_marts())
    con = connect_duckdb(settings, read_only=True)
    try:
        empty = null_columns(con, filled_by, marts)
    finally:
        con.close()
    if not empty:
        return
    print("\nColumns NULL in every row: no real recording of the data that fills them")
    for dataset, columns in sorted(empty.items()):
        print(f"  {dataset}: {len(columns)} column(s), e.g. {columns[0]}")
