"""`gridwarehouse demo` (what `make demo` runs): recorded real data, end to end, offline.

A replay server on 127.0.0.1 answers with the real responses recorded from the BMRS Insights
API, the NESO portal, UKPN's portal and ISO New England (tests/data/recorded); the real loaders
fetch them over
HTTP into a DuckDB file of its own (data/demo/), then dbt builds and tests every model and
writes the docs site.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from loaders.common.dbt import PROJECT_ROOT, run_dbt
from loaders.common.replay import ReplayServer
from loaders.settings import Settings, load_settings

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


def run_demo(data_dir: str = "data/demo") -> int:
    from loaders.bmrs.catalogue import load_catalogue
    from loaders.bmrs.plan import range_tasks, resolve_datasets
    from loaders.commands import load_dno, load_neso, print_summary, run_bmrs

    base = load_settings()
    folder = Path(data_dir)
    with ReplayServer() as replay:
        settings = dataclasses.replace(
            base,
            target="duckdb",
            data_dir=folder,
            duckdb_path=folder / "gridwarehouse.duckdb",
            base_urls={
                **base.base_urls,
                "bmrs": replay.base_url("bmrs"),
                "neso": replay.base_url("neso") + "/api/3/action",
                "isone": replay.base_url("isone") + "/api/v1.1",
                "isone_www": replay.base_url("isone") + "/www",
            },
            dno_base_urls={"UKPN": replay.base_url("dno") + "/ukpn"},
            bmrs_requests_per_s=0.0,  # a local replay needs no politeness limit
            rates={source: 0.0 for source in base.rates},
            # the replay server asks for no credentials, but the loader sends some: never the
            # user's own, whatever the environment holds
            secrets={**base.secrets, "ISONE_USERNAME": "demo", "ISONE_PASSWORD": "demo"},
        )
        _say(
            f"1/3 Loading recorded real BMRS data ({DEMO_FROM:%Y-%m-%d} to {DEMO_TO:%Y-%m-%d}) "
            f"from the replay server at {replay.base_url('bmrs')}"
        )
        endpoints = resolve_datasets(load_catalogue(), DEMO_DATASETS, False)
        # the recorded DISBSAD actions: settlement period 40 of 1 May 2024 (18:30-19:00 UTC)
        disbsad = resolve_datasets(load_catalogue(), ["BALANCING_NONBM_DISBSAD_DETAILS"], False)
        tasks = range_tasks(endpoints, DEMO_FROM, DEMO_TO) + range_tasks(
            disbsad, datetime(2024, 5, 1, 18, 30, tzinfo=UTC), datetime(2024, 5, 1, 19, tzinfo=UTC)
        )
        for names, start, end in DEMO_SETTLEMENT_DAYS:
            tasks += range_tasks(resolve_datasets(load_catalogue(), names, False), start, end)
        summary = run_bmrs(settings, tasks)
        print_summary(summary)
        if summary.exit_code:
            return summary.exit_code
        _say("   and NESO historic demand 2023 and UKPN 33 kV power flows (recorded real files)")
        for code in (
            load_neso(settings, ["historic_demand"], all_=False, start=None, end=None),
            load_dno(
                settings,
                ["powerflow"],
                ["UKPN"],
                all_=False,
                force=True,
                file=None,
                start=None,
                end=None,
            ),
        ):
            if code:
                return code
        code = _load_isone(settings)
        if code:
            return code
    _say("2/3 Building and testing the dbt models (dbt build)")
    if run_dbt(settings, ["build"]) != 0:
        _say("dbt build failed: see the output above")
        return 1
    _say("3/3 Writing the docs site (dbt docs generate)")
    if run_dbt(settings, ["docs", "generate"]) != 0:
        return 1
    _report(settings.duckdb_path)
    return 0


def _load_isone(settings: Settings) -> int:
    from loaders.isone.run import load

    _say("   and ISO New England load, fuel mix and forecasts (recorded real days)")
    for start, end in ISONE_RANGES:
        code = load(
            settings, ISONE_DATASETS, all_=False, start=start, end=end, locations=ISONE_LOCATIONS
        )
        if code:
            return code
    return load(settings, ["locations"], all_=False, start=None, end=None)


def _report(duckdb_path: Path) -> None:
    from loaders.common.warehouse import connect_duckdb

    settings = dataclasses.replace(load_settings(), duckdb_path=duckdb_path)
    con = connect_duckdb(settings, read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw_bmrs', 'raw_neso', 'raw_dno', 'raw_isone', 'marts', 'ops') "
            "and table_name not like '_dlt%' "
            "order by 1, 2"
        ).fetchall()
        print("\nRows per table:")
        empty_marts = []
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            print(f"  {schema + '.' + table:<48} {count:>9,}")
            if schema == "marts" and count == 0:
                empty_marts.append(table)
    finally:
        con.close()
    _report_empty_marts(empty_marts)
    docs = PROJECT_ROOT / "target" / "index.html"
    print(f"""
Done. The warehouse is {duckdb_path.resolve()}
  marts (what BI tools read):  schema `marts`, e.g. marts.fct_acceptances_by_unit_period
  query it:   uv run python -c "import duckdb; print(duckdb.connect('{duckdb_path}', read_only=True).sql('select * from marts.fct_acceptances_by_unit_period limit 5'))"
  docs site:  {docs}
              serve it: uv run python -m loaders.common.docs --no-generate   (prints the URL)
  pipelines:  uv run dlt pipeline --pipelines-dir {duckdb_path.parent / "pipelines"} bmrs info
""")


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


def _marts_filled_by() -> dict[str, str]:
    """Mart name -> meta.filled_by, from the manifest `dbt build` just wrote."""
    import json
    import os

    target = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    manifest = target / "manifest.json"
    if not manifest.is_file():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    return {
        node["name"]: " ".join(node["meta"]["filled_by"].split())
        for node in nodes.values()
        if node.get("resource_type") == "model" and node.get("meta", {}).get("filled_by")
    }


def _say(text: str) -> None:
    print(f"\n==> {text}", flush=True)
