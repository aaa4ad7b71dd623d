"""The static plants map: drawn offline from the project's seeds and recorded reference files,
one circle per located plant, coloured by its fuel and sized by its registered capacity."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

from loaders.reference import plant_map

from .conftest import RECORDED, ROOT

SVG = "{http://www.w3.org/2000/svg}"


def parsed() -> ET.Element:
    return ET.fromstring(plant_map.render())


def test_map_has_a_circle_per_located_plant_coloured_by_fuel():
    with (ROOT / "seeds" / "power_stations.csv").open(newline="") as fh:
        located = [r for r in csv.DictReader(fh) if r["latitude"] and r["longitude"]]
    circles = [c for c in parsed().iter(f"{SVG}circle") if c.get("class") == "plant"]
    assert len(circles) == len(located) == 240
    for circle in circles:
        fuel = circle.get("data-fuel")
        assert circle.get("fill") == plant_map.FUEL_COLOURS.get(fuel, plant_map.UNKNOWN_COLOUR)
        x, y = float(circle.get("cx")), float(circle.get("cy"))
        assert 0 <= x <= plant_map.WIDTH and 0 <= y <= plant_map.HEIGHT


def test_circle_size_follows_registered_capacity():
    circles = [c for c in parsed().iter(f"{SVG}circle") if c.get("class") == "plant"]
    by_capacity = sorted(circles, key=lambda c: float(c.get("data-capacity-mw")))
    radii = [float(c.get("r")) for c in by_capacity]
    assert radii == sorted(radii) and radii[-1] > radii[0]
    # Drax: the six DRAXX units and its OCGTs, summed from the recorded registry
    with (RECORDED / "reference" / "bmu_registration" / "bmu_registration_data.csv").open() as fh:
        drax = sum(
            float(r["generationCapacity"])
            for r in csv.DictReader(fh)
            if r["nationalGridBmUnit"].startswith("DRAXX-")
        )
    assert plant_map.plant_capacities()[10004] == drax


def test_map_draws_the_recorded_licence_boundaries_and_fetches_nothing():
    svg = plant_map.render()
    areas = {p.get("data-area") for p in parsed().iter(f"{SVG}path")}
    assert areas == {"EPN", "LPN", "SPN"}
    # no tile server or other remote resource: the only URL is the SVG namespace
    assert svg.count("http") == 1 and "http://www.w3.org/2000/svg" in svg
