"""Build `seeds/gsps.csv` from the recorded real GSP list (Sheffield Solar PV_Live GSP lookup).

`python -m loaders.reference.gsp_seed` rewrites the seed; a test checks the committed seed is
exactly what this produces from tests/data/recorded/reference/gsp_points.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = (
    ROOT
    / "tests"
    / "data"
    / "recorded"
    / "reference"
    / "gsp_points"
    / "sheffield_solar_gsp_points.csv"
)
SEED = ROOT / "seeds" / "gsps.csv"
COLUMNS = [
    "gsp_id",
    "gsp_name",
    "gsp_group_id",
    "distributor_id",
    "region_name",
    "grid_nodes",
    "latitude",
    "longitude",
]


def build(source: Path = SOURCE) -> str:
    """One row per GSP: its GSP group (the file's pes_name) and grid supply nodes."""
    gsps: dict[str, dict[str, object]] = {}
    with source.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["gsp_id"]:
                continue  # grid nodes without a GSP (direct connections) carry no GSP group
            entry = gsps.setdefault(
                row["gsp_id"],
                {
                    "gsp_id": int(row["gsp_id"]),
                    "gsp_name": row["gsp_name"],
                    "gsp_group_id": row["pes_name"] or None,
                    "distributor_id": row["pes_id"] or None,
                    "region_name": row["region_name"],
                    "grid_nodes": [],
                    "latitude": row["gsp_lat"],
                    "longitude": row["gsp_lon"],
                },
            )
            if row["pes_name"] and entry["gsp_group_id"] not in (None, row["pes_name"]):
                raise ValueError(f"GSP {row['gsp_id']} lies in two GSP groups")
            entry["grid_nodes"].append(row["gnode_name"])  # type: ignore[union-attr]
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in sorted(gsps.values(), key=lambda e: e["gsp_id"]):
        writer.writerow({**entry, "grid_nodes": " ".join(sorted(set(entry["grid_nodes"])))})  # type: ignore[arg-type]
    return out.getvalue()


def main() -> int:
    SEED.write_text(build())
    print(f"wrote {SEED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
