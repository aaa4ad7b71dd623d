"""JSON in the API's shape DERIVED from real CSV exports (FUELHH, system prices), for the replay
server: the BMRS site exports the same fields in PascalCase that the JSON API sends in camelCase.
Every value is kept as it is in the CSV: numbers are written with the CSV's own digits (no float
round trip), True/False become JSON booleans, an empty cell becomes null. The derived files are
named `*_derived_from_csv.json`; `python -m tests.python.recorded_csv` rewrites them, and
test_recorded_csv.py checks they still equal this conversion of the committed CSVs.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from loaders.sources.bmrs.catalogue import load_catalogue

RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded"
FUELHH_CSV = RECORDED / "bmrs/FUELHH/fuelhh_csv_2025-02-06_sp2-11.csv"
SYSTEM_PRICES_CSV = (
    RECORDED / "bmrs/system_prices/system_prices_csv_2025-02-05sp33_to_2025-02-06sp31.csv"
)
_NUMERIC = {"integer", "number"}


def camel(name: str) -> str:
    """PascalCase CSV header -> the API's camelCase field name (SettlementDate -> settlementDate)."""
    return name[:1].lower() + name[1:]


def json_token(text: str, logical: str) -> str:
    """One CSV cell as a JSON token of the field's API type, keeping the cell's digits."""
    if text == "":
        return "null"
    if text in ("True", "False") and logical == "boolean":
        return "true" if text == "True" else "false"
    if logical in _NUMERIC:
        float(text)  # a cell that is not a number must not be written as one
        return text
    return json.dumps(text)


def derived_records(csv_text: str, dataset: str) -> list[str]:
    """Each CSV row as one JSON object text, fields in CSV order, typed as the catalogue says."""
    types = {f.name: f.type for f in load_catalogue().get(dataset).fields}
    objects = []
    for row in csv.DictReader(io.StringIO(csv_text)):
        fields = [
            f"{json.dumps(camel(k))}: {json_token(v, types.get(camel(k), 'string'))}"
            for k, v in row.items()
        ]
        objects.append("{" + ", ".join(fields) + "}")
    return objects


def derived_files() -> dict[Path, str]:
    """Every derived file and its content. FUELHH as the /stream array; system prices as the
    {"data": [...]} body of /balancing/settlement/system-prices/{settlementDate}, one file per
    settlement date (the path names the date)."""
    files = {}
    fuelhh = derived_records(FUELHH_CSV.read_text(encoding="utf-8"), "FUELHH")
    files[FUELHH_CSV.with_name("fuelhh_2025-02-06_sp2-11_derived_from_csv.json")] = (
        "[" + ",\n".join(fuelhh) + "]\n"
    )
    prices = derived_records(SYSTEM_PRICES_CSV.read_text(encoding="utf-8"), "SYSTEM_PRICES")
    by_date: dict[str, list[str]] = {}
    for record in prices:
        by_date.setdefault(json.loads(record)["settlementDate"], []).append(record)
    for day, records in by_date.items():
        name = f"system_prices_{day}_derived_from_csv.json"
        files[SYSTEM_PRICES_CSV.with_name(name)] = '{"data": [' + ",\n".join(records) + "]}\n"
    return files


if __name__ == "__main__":
    for path, text in derived_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(RECORDED)}")
