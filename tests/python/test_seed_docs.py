"""Every seed is documented column by column in seeds/_seeds.yml (issue 22: "every new table
documented column by column"), and the factor seed says which interconnectors have no factor."""

from __future__ import annotations

import csv

import yaml

from .conftest import ROOT

SEEDS = ROOT / "seeds"


def seed_docs() -> dict[str, dict]:
    return {s["name"]: s for s in yaml.safe_load((SEEDS / "_seeds.yml").read_text())["seeds"]}


def test_every_seed_column_is_described():
    docs = seed_docs()
    csvs = sorted(SEEDS.glob("*.csv"))
    assert {p.stem for p in csvs} <= set(docs), "a seed without an entry in _seeds.yml"
    for path in csvs:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        entry = docs[path.stem]
        assert entry.get("description", "").strip(), path.stem
        described = {c["name"]: c.get("description", "").strip() for c in entry["columns"]}
        assert [c for c in header if not described.get(c)] == [], path.stem
        assert set(described) <= set(header), f"{path.stem}: documents columns it does not have"


def test_the_factor_seed_says_which_links_have_no_factor():
    with (SEEDS / "carbon_intensity_factors.csv").open(newline="") as fh:
        factored = {r["fuel_type"] for r in csv.DictReader(fh)}
    description = " ".join(seed_docs()["carbon_intensity_factors"]["description"].split())
    for link in ("INTNSL", "INTVKL"):  # North Sea Link (Norway), Viking Link (Denmark)
        assert link not in factored
        assert link in description
    assert "unfactored_import_mwh" in description
