"""Build the power-station seeds from the recorded OSUKED Power Station Dictionary.

`python -m loaders.reference.power_station_seed` rewrites three seeds from the upstream files in
tests/data/recorded/reference/power_station_dictionary (MIT; data CC BY 4.0, "Power Station
Dictionary, OSUKED"); a test checks the committed seeds are exactly what this produces:

- seeds/power_stations.csv: one row per plant (ids, names, location, fuel);
- seeds/bm_unit_power_stations.csv: one row per BM unit id the dictionary names, National Grid
  (`DRAXX-1`) or Elexon settlement (`T_DRAXX-1`), with its plant;
- seeds/power_station_carbon_intensity.csv: the plant-level carbon intensity per year.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tests" / "data" / "recorded" / "reference" / "power_station_dictionary"
SEEDS = ROOT / "seeds"
PLANT_COLUMNS = [
    "power_station_id",
    "power_station_name",
    "common_name",
    "fuel_type",
    "latitude",
    "longitude",
    "eic_ids",
    "gppd_ids",
    "old_repd_ids",
    "new_repd_ids",
    "wikidata_id",
    "eutl_ids",
]
BRIDGE_COLUMNS = ["bm_unit_id", "bm_unit_id_kind", "power_station_id"]
INTENSITY_COLUMNS = ["power_station_id", "year", "carbon_intensity_gco2_per_kwh"]


def read_rows(name: str, source: Path = SOURCE) -> list[dict[str, str]]:
    """An upstream CSV's rows (some upstream files start with a byte-order mark)."""
    with (source / name).open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def split_ids(cell: str) -> list[str]:
    """The ids of a dictionary cell, which holds a comma-separated list."""
    return [part.strip() for part in cell.split(",") if part.strip()]


def joined(cell: str) -> str:
    """A list cell as space-separated ids (one convention across the project's seeds)."""
    return " ".join(split_ids(cell))


def plant_fuel(unit_ids: Iterable[str], fuels: dict[str, str]) -> str:
    """The fuel most of a plant's National Grid units are registered with (ties: alphabetical);
    empty when the dictionary gives none of them a fuel."""
    counts = Counter(fuels[unit] for unit in unit_ids if unit in fuels)
    if not counts:
        return ""
    return min(counts, key=lambda fuel: (-counts[fuel], fuel))


def build_plants(source: Path = SOURCE) -> list[dict[str, str]]:
    """One row per plant: the dictionary's ids, its common name, location and fuel."""
    common = {r["dictionary_id"]: r["common_name"] for r in read_rows("common-names.csv", source)}
    where = {r["dictionary_id"]: r for r in read_rows("plant-locations.csv", source)}
    # upstream spells one fuel 'Wind' once among 'WIND's
    fuels = {r["ngc_bmu_id"]: r["fuel_type"].upper() for r in read_rows("fuel_types.csv", source)}
    plants = []
    for row in read_rows("ids.csv", source):
        plant_id = row["dictionary_id"]
        location = where.get(plant_id, {})
        plants.append(
            {
                "power_station_id": plant_id,
                "power_station_name": row["name"].strip(),
                "common_name": common.get(plant_id, ""),
                "fuel_type": plant_fuel(split_ids(row["ngc_bmu_id"]), fuels),
                "latitude": location.get("latitude", ""),
                "longitude": location.get("longitude", ""),
                "eic_ids": joined(row["eic_id"]),
                "gppd_ids": joined(row["gppd_idnr"]),
                "old_repd_ids": joined(row["old_repd_id"]),
                "new_repd_ids": joined(row["new_repd_id"]),
                "wikidata_id": row["wikidata_id"].strip(),
                "eutl_ids": joined(row["eutl_id"]),
            }
        )
    return sorted(plants, key=lambda p: int(p["power_station_id"]))


def build_bridge(source: Path = SOURCE) -> list[dict[str, str]]:
    """One row per BM unit id the dictionary names; an id named by two plants is an error."""
    seen: dict[tuple[str, str], str] = {}
    for row in read_rows("ids.csv", source):
        for kind, column in (("national_grid", "ngc_bmu_id"), ("elexon", "sett_bmu_id")):
            for unit in split_ids(row[column]):
                owner = seen.setdefault((unit, kind), row["dictionary_id"])
                if owner != row["dictionary_id"]:
                    raise ValueError(
                        f"BM unit {unit} belongs to plants {owner} and {row['dictionary_id']}"
                    )
    return [
        {"bm_unit_id": unit, "bm_unit_id_kind": kind, "power_station_id": plant}
        for (unit, kind), plant in sorted(seen.items())
    ]


def build_intensity(source: Path = SOURCE) -> list[dict[str, str]]:
    """The plant-level carbon intensity per plant and year, as published."""
    rows = read_rows("plant_carbon_intensity.csv", source)
    return sorted(rows, key=lambda r: (int(r["dictionary_id"]), int(r["year"])))


def to_csv(columns: list[str], rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build(source: Path = SOURCE) -> dict[str, str]:
    """Each seed file's name and content."""
    intensity = [
        {
            "power_station_id": r["dictionary_id"],
            "year": r["year"],
            "carbon_intensity_gco2_per_kwh": r["carbon_intensity_gco2_per_kwh"],
        }
        for r in build_intensity(source)
    ]
    return {
        "power_stations.csv": to_csv(PLANT_COLUMNS, build_plants(source)),
        "bm_unit_power_stations.csv": to_csv(BRIDGE_COLUMNS, build_bridge(source)),
        "power_station_carbon_intensity.csv": to_csv(INTENSITY_COLUMNS, intensity),
    }


def main() -> int:
    for name, content in build().items():
        (SEEDS / name).write_text(content)
        print(f"wrote seeds/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
