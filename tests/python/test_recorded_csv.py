"""The JSON derived from the real CSV exports (recorded_csv.py) is what the conversion gives today
and keeps every CSV value: same rows, same cells, digits unchanged."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

from .recorded_csv import FUELHH_CSV, SYSTEM_PRICES_CSV, camel, derived_files


def test_committed_derived_files_equal_the_conversion():
    for path, text in derived_files().items():
        assert path.read_text(encoding="utf-8") == text, path.name


def test_every_csv_cell_survives_in_the_derived_json():
    files = derived_files()
    for source in (FUELHH_CSV, SYSTEM_PRICES_CSV):
        derived = []
        for path, text in files.items():
            if path.parent == source.parent:
                body = json.loads(text, parse_float=Decimal, parse_int=Decimal)
                derived += body["data"] if isinstance(body, dict) else body
        with source.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert len(derived) == len(rows) > 0
        for row, record in zip(rows, derived, strict=True):
            for key, cell in row.items():
                value = record[camel(key)]
                if cell == "":
                    assert value is None
                elif isinstance(value, bool):
                    assert cell == str(value)
                elif isinstance(value, Decimal):
                    assert value == Decimal(cell)  # the exact decimal, not a float's rounding
                else:
                    assert value == cell
