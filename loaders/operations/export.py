"""`gridwarehouse export vlp-batteries`: the battery fleet and its VLP split, as JSON or CSV.

The JSON keeps the shape the seed system's users script against: `metadata` (with counts and
field definitions), `summary_statistics` (capacities, by VLP status, top VLP operators) and
`battery_units` (the registry's fields plus the VLP flags). CSV is the unit list: all batteries,
VLP-run only, or direct only. Read from the marts, so run `gridwarehouse build` first.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders.common.bigquery_ops import query_rows
from loaders.common.warehouse import connect_duckdb
from loaders.errors import GridwarehouseError, UsageError
from loaders.settings import Settings

# dim_bm_unit column -> the registry's field name, in the order the export lists them
UNIT_FIELDS = {
    "national_grid_bm_unit": "nationalGridBmUnit",
    "elexon_bm_unit": "elexonBmUnit",
    "lead_party_name": "leadPartyName",
    "lead_party_id": "leadPartyId",
    "fuel_type": "fuelType",
    "bm_unit_type": "bmUnitType",
    "bm_unit_name": "bmUnitName",
    "generation_capacity_mw": "generationCapacity",
    "demand_capacity_mw": "demandCapacity",
    "gsp_group_id": "gspGroupId",
    "gsp_group_name": "gspGroupName",
    "is_vlp": "is_vlp",
    "is_vlp_by_name": "is_vlp_by_name",
    "is_aggregator_code": "is_aggregator_code",
    "multiple_assets": "multiple_assets",
    "battery_evidence": "battery_evidence",
}
FIELD_DEFINITIONS = {
    "nationalGridBmUnit": "National Grid BM unit id",
    "elexonBmUnit": "Elexon BM unit id",
    "leadPartyName": "Lead party (operator of record)",
    "leadPartyId": "Lead party id",
    "fuelType": "Registered fuel type (often empty for batteries)",
    "bmUnitType": "BM unit type: T transmission, E embedded, V virtual lead party, ...",
    "bmUnitName": "BM unit name as registered",
    "generationCapacity": "Registered generation capacity, MW (>= 0)",
    "demandCapacity": "Registered demand capacity, MW (<= 0; negative = charging)",
    "gspGroupId": "GSP group (_A ... _P); empty for transmission-connected units",
    "gspGroupName": "GSP group name",
    "is_vlp": "Run by a virtual lead party: is_vlp_by_name or is_aggregator_code or multiple_assets",
    "is_vlp_by_name": "The lead party's name matches the VLP keyword list",
    "is_aggregator_code": "The unit is itself a VLP unit (id V__..., type V)",
    "multiple_assets": "The lead party runs a portfolio of battery units",
    "battery_evidence": "Why the unit counts as a battery (name keyword, or two-way capacity and id)",
}
VARIANTS = ("all", "vlp", "direct")


def _rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    if settings.target != "duckdb":
        return query_rows(settings, sql)
    if not settings.duckdb_path.exists():
        raise GridwarehouseError(
            f"no warehouse at {settings.duckdb_path}: load data and run `gridwarehouse build` first"
        )
    con = connect_duckdb(settings, read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except Exception as exc:
        if "does not exist" in str(exc):
            raise GridwarehouseError(
                "the VLP battery marts are not built: run `gridwarehouse build` first"
            ) from None
        raise
    finally:
        con.close()


def battery_units(settings: Settings, variant: str) -> list[dict[str, Any]]:
    where = {"all": "", "vlp": " and is_vlp", "direct": " and not is_vlp"}[variant]
    schema = _schema(settings, "marts")
    rows = _rows(
        settings,
        f"select {', '.join(UNIT_FIELDS)} from {schema}.dim_bm_unit "
        f"where is_battery{where} order by national_grid_bm_unit",
    )
    return [{UNIT_FIELDS[k]: v for k, v in row.items()} for row in rows]


def _schema(settings: Settings, name: str) -> str:
    if settings.target == "bigquery":
        return f"`{settings.bq_project}.{settings.bq_dataset_prefix}{name}`"
    return name


def _round(value: Any) -> Any:
    return round(float(value), 3) if value is not None else None


def document(settings: Settings) -> dict[str, Any]:
    units = battery_units(settings, "all")
    stats = _rows(settings, f"select * from {_schema(settings, 'marts')}.fct_battery_fleet_stats")
    by = {(r["breakdown"], r["group_value"]): r for r in stats}
    fleet = by.get(("fleet", "all batteries"), {})
    vlp_count = sum(1 for u in units if u["is_vlp"])
    operators = sorted(
        (r for r in stats if r["breakdown"] == "lead_party" and r["vlp_bmu_count"]),
        key=lambda r: (-(r["total_capacity_mw"] or 0), r["group_value"]),
    )
    return {
        "metadata": {
            "title": "GB battery BM units and virtual lead parties",
            "description": "Battery BM units in the Elexon BM unit registry, classified on evidence "
            "(fuel type, name, two-way capacity), with whether each is run by a "
            "virtual lead party (VLP).",
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "data_source": "Elexon BMRS Insights API /reference/bmunits/all, via gridwarehouse marts.dim_bm_unit",
            "total_battery_bmus": len(units),
            "vlp_count": vlp_count,
            "direct_count": len(units) - vlp_count,
            "vlp_percentage": round(100.0 * vlp_count / len(units), 1) if units else 0.0,
            "field_definitions": FIELD_DEFINITIONS,
        },
        "summary_statistics": {
            "total_capacity_mw": _round(fleet.get("total_capacity_mw")),
            "average_capacity_mw": _round(fleet.get("average_capacity_mw")),
            "median_capacity_mw": _round(fleet.get("median_capacity_mw")),
            "by_vlp_status": {
                status: {
                    "bmu_count": row["bmu_count"],
                    "total_capacity_mw": _round(row["total_capacity_mw"]),
                    "average_capacity_mw": _round(row["average_capacity_mw"]),
                    "median_capacity_mw": _round(row["median_capacity_mw"]),
                }
                for (breakdown, status), row in by.items()
                if breakdown == "vlp_status"
            },
            "top_vlp_operators": [
                {
                    "name": r["group_value"],
                    "bmu_count": r["bmu_count"],
                    "total_capacity_mw": _round(r["total_capacity_mw"]),
                }
                for r in operators[:10]
            ],
        },
        "battery_units": [
            {
                k: (_round(v) if k in ("generationCapacity", "demandCapacity") else v)
                for k, v in u.items()
            }
            for u in units
        ],
    }


def export_vlp_batteries(settings: Settings, fmt: str, out: str | None, variant: str) -> int:
    if fmt not in ("csv", "json"):
        raise UsageError(f"--format {fmt!r}: use csv or json")
    if variant not in VARIANTS:
        raise UsageError(f"--variant {variant!r}: use one of {', '.join(VARIANTS)}")
    if fmt == "json" and variant != "all":
        raise UsageError(
            "--variant applies to CSV; the JSON holds every battery with its VLP flags"
        )
    if out is not None and not Path(out).parent.exists():
        raise UsageError(f"--out {out}: folder {Path(out).parent} does not exist")
    if fmt == "json":
        text = json.dumps(document(settings), indent=2, default=str) + "\n"
    else:
        units = battery_units(settings, variant)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, list(UNIT_FIELDS.values()), lineterminator="\n")
        writer.writeheader()
        writer.writerows(units)
        text = buffer.getvalue()
    if out is None:
        sys.stdout.write(text)
    else:
        Path(out).write_text(text)
        print(f"wrote {out}", file=sys.stderr)
    return 0
