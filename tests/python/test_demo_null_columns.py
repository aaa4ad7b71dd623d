"""The demo names the columns its recordings leave NULL (constraint costs without Elexon's
cashflows, balancing carbon without acceptance volumes) and the dataset that would fill each,
from the columns' `meta.filled_by` in the mart YAML (issue 18 §5)."""

from __future__ import annotations

import duckdb
import yaml

from loaders import demo

from .conftest import ROOT


def yaml_columns_filled_by() -> dict[tuple[str, str], str]:
    """(mart, column) -> meta.filled_by, read from the committed mart YAML files."""
    nodes = []
    for path in sorted((ROOT / "models" / "marts").rglob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            columns = {c["name"]: c for c in model.get("columns", [])}
            nodes.append({"name": model["name"], "columns": columns})
    return demo.columns_filled_by(nodes)


def test_cost_volume_and_carbon_columns_name_the_dataset_that_fills_them():
    filled_by = yaml_columns_filled_by()
    expected = {
        ("fct_constraint_actions_daily", "indicative_cashflow_gbp"): ("EBOCF",),
        ("fct_constraint_actions_daily", "estimated_cost_gbp"): ("EBOCF", "BOD"),
        ("fct_constraint_actions_daily", "accepted_volume_mwh"): ("BOAV",),
        ("fct_top_constrained_units", "estimated_cost_gbp"): ("EBOCF", "BOD"),
        ("fct_constraint_daily_by_region", "neso_thermal_cost_gbp"): ("constraint_breakdown",),
        ("fct_balancing_carbon_daily", "co2_added_by_offers_tonnes"): ("BOAV",),
        ("fct_balancing_carbon_daily", "net_co2_tonnes"): ("BOAV",),
        ("fct_battery_daily_activity", "estimated_revenue_gbp"): ("BOD",),
    }
    for column, datasets in expected.items():
        assert column in filled_by, column
        assert all(dataset in filled_by[column] for dataset in datasets), filled_by[column]


def test_only_columns_null_in_every_row_of_a_mart_with_rows_are_named():
    # synthetic rows in a real DuckDB: a cost column never filled, a volume column filled once
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.synthetic_costs as select * from (values "
        "(1, null::double, null::double), (2, null, 4.5)) as t(id, cost_gbp, volume_mwh)"
    )
    con.execute("create table marts.synthetic_empty (id integer, cost_gbp double)")
    filled_by = {
        ("synthetic_costs", "cost_gbp"): "EBOCF",
        ("synthetic_costs", "volume_mwh"): "BOAV",
        ("synthetic_empty", "cost_gbp"): "EBOCF",  # an empty mart is reported on its own
    }
    named = demo.null_columns(con, filled_by, ["synthetic_costs"])
    assert named == {"EBOCF": ["synthetic_costs.cost_gbp"]}


def test_column_meta_is_read_from_the_column_or_its_config():
    nodes = [
        {
            "name": "m",
            "columns": {
                "a": {"meta": {"filled_by": "BOD,\n   bid-offer data"}},
                "b": {"config": {"meta": {"filled_by": "BOAV"}}},
                "c": {"meta": {}},
            },
        }
    ]
    assert demo.columns_filled_by(nodes) == {("m", "a"): "BOD, bid-offer data", ("m", "b"): "BOAV"}
