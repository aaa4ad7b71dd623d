"""Mart column types (issue 18 §3): the dbt test that enforces them sees every mart, and no model
reaches for DuckDB's 32-bit FLOAT. The types themselves are asserted on a built warehouse by
assert_mart_column_types (every `dbt build`) and test_completeness.py."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TYPE_TEST = ROOT / "tests" / "dbt" / "assert_mart_column_types.sql"


def test_type_check_depends_on_every_mart():
    """dbt runs a singular test after the models it refs: a mart missing from the depends_on
    list could be checked before it is built, or with its previous types."""
    marts = {p.stem for p in (ROOT / "models" / "marts").rglob("*.sql")}
    referenced = set(re.findall(r"depends_on: \{\{ ref\('(\w+)'\) \}\}", TYPE_TEST.read_text()))
    assert marts and referenced == marts


def test_no_model_or_macro_uses_the_32_bit_float():
    """dbt.type_float() is FLOAT (32-bit) on DuckDB: 122.17 reads back as 122.16999817."""
    users = [
        str(p.relative_to(ROOT))
        for folder in ("models", "macros", "snapshots", "tests/dbt")
        for p in (ROOT / folder).rglob("*.sql")
        if "dbt.type_float()" in p.read_text() and p.name != "types.sql"
    ]
    assert users == []
