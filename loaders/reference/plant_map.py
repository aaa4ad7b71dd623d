"""A static SVG map of the power stations: plants coloured by fuel and sized by registered
capacity, over the DNO licence boundaries and the GSP points the project ships. Drawn offline
from files in the project (no tile server, no network): the power_stations seeds, the recorded
BM unit registry (capacities) and GSP points, and the recorded UKPN licence-boundary GeoJSON.

`python -m loaders.reference.plant_map OUT.svg` writes it; `make docs` writes it into the docs site.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "data" / "recorded" / "reference"
BOUNDARIES = REFERENCE / "dno_licence_boundaries" / "licence_boundaries.geojson"
REGISTRY = REFERENCE / "bmu_registration" / "bmu_registration_data.csv"
SEEDS = ROOT / "seeds"

# Great Britain's extent (degrees) and the drawing's size (px)
LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = -8.7, 3.0, 49.8, 61.0
WIDTH = 560
# an equirectangular projection scaled by cos(mid-latitude) keeps GB's shape close enough
X_SCALE = WIDTH / (LON_MAX - LON_MIN)
Y_SCALE = X_SCALE / math.cos(math.radians((LAT_MIN + LAT_MAX) / 2))
HEIGHT = round((LAT_MAX - LAT_MIN) * Y_SCALE)
LEGEND_WIDTH = 170
FUEL_COLOURS = {
    "WIND": "#2b8cbe",
    "CCGT": "#e6550d",
    "OCGT": "#fd8d3c",
    "COAL": "#252525",
    "NUCLEAR": "#756bb1",
    "BIOMASS": "#31a354",
    "NPSHYD": "#6baed6",
    "PS": "#08519c",
    "CHP": "#a63603",
    "RECIPROCATING": "#bcbddc",
}
UNKNOWN_COLOUR = "#969696"


@dataclass(frozen=True)
class Plant:
    name: str
    fuel: str
    latitude: float
    longitude: float
    capacity_mw: float


def project(lon: float, lat: float) -> tuple[float, float]:
    """Degrees to SVG pixels (y grows southwards)."""
    return round((lon - LON_MIN) * X_SCALE, 1), round((LAT_MAX - lat) * Y_SCALE, 1)


def radius(capacity_mw: float) -> float:
    """Circle area proportional to capacity (2 px minimum so a small or unknown plant shows)."""
    return round(max(2.0, math.sqrt(max(capacity_mw, 0.0)) * 0.35), 2)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def plant_capacities() -> dict[int, float]:
    """Registered generation capacity per plant: its BM units in the registry, matched on the
    National Grid id, else the Elexon id (as int_bm_units_matched_to_power_stations does)."""
    bridge = {
        (r["bm_unit_id"], r["bm_unit_id_kind"]): int(r["power_station_id"])
        for r in read_csv(SEEDS / "bm_unit_power_stations.csv")
    }
    capacity: dict[int, float] = defaultdict(float)
    seen: set[str] = set()
    for row in read_csv(REGISTRY):
        unit = row["nationalGridBmUnit"]
        plant = bridge.get((unit, "national_grid")) or bridge.get((row["elexonBmUnit"], "elexon"))
        if plant is None or unit in seen:
            continue  # the registry lists a few units twice
        seen.add(unit)
        capacity[plant] += max(float(row["generationCapacity"] or 0), 0.0)
    return capacity


def located_plants() -> list[Plant]:
    """The plants with a location, largest first (so small ones are drawn on top)."""
    capacity = plant_capacities()
    plants = [
        Plant(
            name=row["common_name"] or row["power_station_name"] or row["power_station_id"],
            fuel=row["fuel_type"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            capacity_mw=capacity.get(int(row["power_station_id"]), 0.0),
        )
        for row in read_csv(SEEDS / "power_stations.csv")
        if row["latitude"] and row["longitude"]
    ]
    return sorted(plants, key=lambda p: -p.capacity_mw)


def boundary_paths(step: int = 25) -> list[tuple[str, str]]:
    """(licence area, SVG path) per boundary ring, keeping every `step`-th vertex (the map is
    small; the full rings hold tens of thousands)."""
    features = json.loads(BOUNDARIES.read_text())["features"]
    paths = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        for polygon in polygons:
            for ring in polygon:
                points = [project(lon, lat) for lon, lat in ring[::step]]
                d = "M" + " L".join(f"{x},{y}" for x, y in points) + " Z"
                paths.append((feature["properties"].get("name", ""), d))
    return paths


def gsp_points() -> list[tuple[float, float]]:
    return [
        project(float(r["longitude"]), float(r["latitude"])) for r in read_csv(SEEDS / "gsps.csv")
    ]


def legend(fuels: list[str]) -> list[str]:
    x = WIDTH + 10
    parts = [f'<text x="{x}" y="20" font-size="13" font-weight="bold">Fuel</text>']
    for i, fuel in enumerate(fuels):
        y = 40 + i * 18
        colour = FUEL_COLOURS.get(fuel, UNKNOWN_COLOUR)
        parts.append(f'<circle cx="{x + 6}" cy="{y - 4}" r="5" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 16}" y="{y}" font-size="12">{escape(fuel or "unknown")}</text>'
        )
    y = 60 + len(fuels) * 18
    parts.append(f'<text x="{x}" y="{y}" font-size="13" font-weight="bold">Capacity</text>')
    for j, mw in enumerate((100, 500, 2000)):
        cy = y + 25 + j * 40
        parts.append(
            f'<circle cx="{x + 20}" cy="{cy}" r="{radius(mw)}" fill="none" stroke="#333"/>'
        )
        parts.append(f'<text x="{x + 45}" y="{cy + 4}" font-size="12">{mw} MW</text>')
    return parts


def render() -> str:
    """The map as an SVG document."""
    plants = located_plants()
    fuels = sorted({p.fuel for p in plants}, key=lambda f: (f == "", f))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + LEGEND_WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH + LEGEND_WIDTH} {HEIGHT}" font-family="sans-serif">',
        "<title>GB power stations by fuel and registered capacity</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f7fbff"/>',
    ]
    for area, d in boundary_paths():
        parts.append(
            f'<path class="licence-area" data-area="{escape(area)}" d="{d}" '
            'fill="#deebf7" stroke="#6baed6" stroke-width="0.8"/>'
        )
    for x, y in gsp_points():
        parts.append(f'<circle class="gsp" cx="{x}" cy="{y}" r="1" fill="#bdbdbd"/>')
    for p in plants:
        x, y = project(p.longitude, p.latitude)
        colour = FUEL_COLOURS.get(p.fuel, UNKNOWN_COLOUR)
        parts.append(
            f'<circle class="plant" data-fuel="{escape(p.fuel)}" data-capacity-mw="{p.capacity_mw:.1f}" '
            f'cx="{x}" cy="{y}" r="{radius(p.capacity_mw)}" fill="{colour}" fill-opacity="0.75" '
            f'stroke="#fff" stroke-width="0.4"><title>{escape(p.name)} ({escape(p.fuel or "fuel unknown")}, '
            f"{p.capacity_mw:.0f} MW)</title></circle>"
        )
    parts.extend(legend(fuels))
    parts.append(
        f'<text x="6" y="{HEIGHT - 8}" font-size="10" fill="#555">Plants: Power Station Dictionary, '
        "OSUKED (CC BY 4.0). Boundaries: UKPN licence areas (UKPN open data). GSPs: Sheffield Solar "
        "PV_Live. Capacity: Elexon BM unit registry.</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render())
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = write(Path(args[0]) if args else ROOT / "target" / "plants_map.svg")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
