"""Generate the dbt sources and staging models for every BMRS dataset from the catalogue.

`python -m loaders.sources.bmrs.dbtgen` rewrites `models/staging/bmrs/_bmrs__sources.yml` and one
staging model per dataset under `models/staging/bmrs/generated/`, skipping datasets that have a
hand-written model in `models/staging/bmrs/` (where the data needs more than renaming and
casting). A test fails when the committed files differ from what this would write.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loaders.sources.bmrs import hints
from loaders.sources.bmrs.catalogue import Endpoint, load_catalogue

PROJECT_ROOT = Path(__file__).resolve().parents[3]
STAGING_DIR = PROJECT_ROOT / "models" / "staging" / "bmrs"
HEADER = (
    "-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the\n"
    "-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.\n"
)
# Column names that are SQL keywords on DuckDB or BigQuery: always quoted.
_KEYWORDS = {
    "cost",
    "data",
    "level",
    "month",
    "time",
    "value",
    "week",
    "year",
    "range",
    "to",
    "from",
    "order",
    "group",
    "end",
}
RAW_SCHEMA_JINJA = (
    "{{ (env_var('GRIDWAREHOUSE_BQ_DATASET_PREFIX', '') "
    "if target.type == 'bigquery' else '') ~ 'raw_bmrs' }}"
)


def ident(column: str) -> str:
    return f"{{{{ adapter.quote('{column}') }}}}" if column in _KEYWORDS else column


def model_name(endpoint: Endpoint) -> str:
    return f"stg_bmrs__{endpoint.table}"


def hand_written(endpoint: Endpoint, staging_dir: Path = STAGING_DIR) -> bool:
    return (staging_dir / f"{model_name(endpoint)}.sql").exists()


RECORD_HASH_DOC = (
    "64-bit hash of the typed natural key (the same on every run and machine; "
    "rows merge on _natural_key)."
)


def staging_sql(endpoint: Endpoint) -> str:
    """The standard staging model: typed columns and UTC timestamps over the merged raw table.

    No re-ranking: the loader and the IRIS flush merge every raw table on its natural key (the
    model's `unique` test on `_natural_key` holds it), so a filter on a raw column reaches the scan.
    """
    columns = [(f.column, f.type) for f in endpoint.fields]
    raw_columns = [
        *columns,
        ("_source", "string"),
        ("_record_hash", "integer"),
        ("_natural_key", "string"),
        ("_loaded_at", "timestamp"),
    ]
    spec = ",\n".join(f"        ('{name}', '{kind}')" for name, kind in raw_columns)
    selects = []
    names = {name for name, _ in columns}
    for name, kind in columns:
        if kind == "timestamp":
            arg = f"adapter.quote('{name}')" if name in _KEYWORDS else f"'{name}'"
            selects.append(f"{{{{ utc_timestamp({arg}) }}}} as {name}_utc")
        else:
            selects.append(ident(name))
    if {"settlement_date", "settlement_period"} <= names and dict(columns)[
        "settlement_period"
    ] == "integer":
        selects.append(
            "{{ settlement_period_start_utc('settlement_date', 'settlement_period') }}"
            " as settlement_period_start_utc"
        )
    selects += [
        "_natural_key",
        "_record_hash",
        "_source",
        "{{ utc_timestamp('_loaded_at') }} as loaded_at_utc",
    ]
    body = ",\n        ".join(selects)
    return f"""{HEADER}
with

source as (

    select * from {{{{ source_or_empty('bmrs', '{endpoint.table}', [
{spec}
    ]) }}}}

),

renamed as (

    select
        {body}
    from source

)

select * from renamed
"""


def _yaml_text(text: str) -> str:
    return '"' + " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


# Generated staging models no mart, intermediate model, snapshot or macro refers to (only the
# completeness check reads them, through the settlement_datasets macro): tagged, and hidden from
# the docs site's tree and lineage graph, so its default view is the marts and what feeds them.
# Macros count: the BOALF computations shared by views and incremental marts ref staging there.
CATALOGUE_ONLY_TAG = "catalogue_only"
_READERS = ("models/intermediate", "models/marts", "snapshots", "macros")


def read_downstream(project_root: Path = PROJECT_ROOT) -> set[str]:
    """The BMRS staging models that hand-written SQL downstream refers to by name."""
    import re

    used: set[str] = set()
    for folder in _READERS:
        for path in (project_root / folder).rglob("*.sql"):
            used.update(re.findall(r"ref\(\s*['\"](stg_bmrs__\w+)['\"]", path.read_text()))
    return used


def sources_yml(endpoints: list[Endpoint], catalogue_only: set[str] = frozenset()) -> str:
    lines = [
        HEADER.replace("-- ", "# ").replace("--", "#").rstrip(),
        "",
        "version: 2",
        "",
        "sources:",
        "  - name: bmrs",
        '    description: "Elexon BMRS Insights API, landed by `gridwarehouse load bmrs` (and IRIS)."',
        f'    schema: "{RAW_SCHEMA_JINJA}"',
        "    loaded_at_field: _loaded_at",
        "    tables:",
    ]
    for e in endpoints:
        keys = ", ".join(e.keys)
        lines += [
            f"      - name: {e.table}",
            f"        description: {_yaml_text(f'{e.summary} — API path {e.path}; natural key: {keys}.')}",
        ]
        if model_name(e) in catalogue_only:
            lines += [f"        tags: ['{CATALOGUE_ONLY_TAG}']"]
    return "\n".join(lines) + "\n"


def models_yml(endpoints: list[Endpoint], catalogue_only: set[str] = frozenset()) -> str:
    lines = [
        HEADER.replace("-- ", "# ").replace("--", "#").rstrip(),
        "",
        "version: 2",
        "",
        "models:",
    ]
    for e in endpoints:
        keys = ", ".join(e.keys)
        lines += [
            f"  - name: {model_name(e)}",
            f"    description: {_yaml_text(f'{e.summary}. One row per natural key ({keys}), as the loader merged it; timestamps in UTC. Source: BMRS {e.path}.')}",
        ]
        if model_name(e) in catalogue_only:
            lines += [
                "    config:",
                f"      tags: ['{CATALOGUE_ONLY_TAG}']",
                "      docs:",
                "        show: false",
            ]
        lines += [
            "    columns:",
        ]
        for f in e.fields:
            name = f"{f.column}_utc" if f.type == "timestamp" else f.column
            what = f"API field `{f.name}`" + (
                ", as a UTC timestamp" if f.type == "timestamp" else ""
            )
            lines += [f"      - name: {name}", f"        description: {_yaml_text(what + '.')}"]
        lines += [
            "      - name: _natural_key",
            f"        description: {_yaml_text(f'The natural key ({keys}) as a JSON array; unique.')}",
            "        data_tests:",
            "          - unique",
            "          - not_null",
            "      - name: _record_hash",
            f"        description: {_yaml_text(RECORD_HASH_DOC)}",
            "      - name: _source",
            '        description: "Where the row came from: api, iris or file."',
            "        data_tests:",
            "          - accepted_values:",
            "              arguments:",
            "                values: ['api', 'iris', 'file']",
            "      - name: loaded_at_utc",
            '        description: "When the row was loaded (UTC)."',
        ]
    return "\n".join(lines) + "\n"


MACRO_PATH = PROJECT_ROOT / "macros" / "generated" / "settlement_datasets.sql"


def settlement_datasets_macro(endpoints: list[Endpoint]) -> str:
    """A macro listing every BMRS staging model keyed by settlement date and period (for the
    completeness mart) with the column that counts a day's slots and the catalogue's expected
    cardinality: a static list, so dbt sees each ref when it parses the project."""
    entries = []
    for e in endpoints:
        names = set(e.field_names)
        if "settlementDate" not in names:
            continue
        period = (
            "settlement_period"
            if "settlementPeriod" in names
            else ("settlement_period_from" if "settlementPeriodFrom" in names else None)
        )
        if period and dict((f.name, f.type) for f in e.fields).get("settlementDate") == "date":
            # five-minute data is counted by its start times, everything else by its periods
            slot = "start_time_utc" if e.cardinality == hints.PER_5_MINUTES else period
            entries.append(
                f"        ('{e.name}', '{model_name(e)}', '{period}', '{slot}', '{e.cardinality}')"
            )
    body = ",\n".join(entries)
    return (
        HEADER.replace("-- ", "{# ", 1).replace("\n-- ", "\n   ").rstrip() + " #}\n"
        "{% macro settlement_datasets() %}\n"
        "    {{ return([\n" + body + "\n    ]) }}\n"
        "{% endmacro %}\n"
    )


def render(staging_dir: Path = STAGING_DIR) -> dict[Path, str]:
    """Every generated file (path -> content)."""
    endpoints = list(load_catalogue())
    generated = [e for e in endpoints if not hand_written(e, staging_dir)]
    downstream = read_downstream()
    catalogue_only = {model_name(e) for e in generated} - downstream
    files = {
        staging_dir / "_bmrs__sources.yml": sources_yml(endpoints, catalogue_only),
        staging_dir / "generated" / "_bmrs__generated__models.yml": models_yml(
            generated, catalogue_only
        ),
        MACRO_PATH: settlement_datasets_macro(endpoints),
    }
    for e in generated:
        files[staging_dir / "generated" / f"{model_name(e)}.sql"] = staging_sql(e)
    return files


def write(staging_dir: Path = STAGING_DIR) -> list[Path]:
    files = render(staging_dir)
    target = staging_dir / "generated"
    target.mkdir(parents=True, exist_ok=True)
    MACRO_PATH.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*"):
        if stale not in files:
            stale.unlink()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    written = write()
    print(f"wrote {len(written)} files under {STAGING_DIR.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
