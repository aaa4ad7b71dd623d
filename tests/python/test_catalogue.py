"""The catalogue generated from Elexon's OpenAPI spec, and record conversion on spec examples.

FUELINST, FUELHH, BOD, system prices and full REMIT messages have no recorded real response
(tests/data/recorded/SHARED_INDEX.md, "Gaps"): their parsing is tested on the example response
the spec itself publishes for the endpoint.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from loaders.common.engine import one_row_per_key
from loaders.common.jsonrows import convert
from loaders.common.records import TypeDrift
from loaders.settings import load_settings
from loaders.sources.bmrs.catalogue import DATETIME, PATH_DATE, SNAPSHOT, load_catalogue
from loaders.sources.bmrs.plan import range_tasks
from loaders.sources.bmrs.source import BmrsAdapter, schema_changes
from loaders.sources.bmrs.windows import by_settlement_date, plan_windows, request_for

CATALOGUE = load_catalogue()
NOW = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "name, path, window, keys",
    [
        (
            "BOALF",
            "/datasets/BOALF/stream",
            DATETIME,
            ("nationalGridBmUnit", "acceptanceNumber", "timeFrom"),
        ),
        (
            "MILS",
            "/datasets/MILS/stream",
            DATETIME,
            ("nationalGridBmUnit", "notificationSequence", "timeFrom"),
        ),
        ("REMIT", "/datasets/REMIT/stream", DATETIME, ("mrid", "revisionNumber")),
        ("FUELINST", "/datasets/FUELINST/stream", DATETIME, ("startTime", "fuelType")),
        (
            "FUELHH",
            "/datasets/FUELHH/stream",
            DATETIME,
            ("settlementDate", "settlementPeriod", "fuelType"),
        ),
        (
            "BOD",
            "/datasets/BOD/stream",
            DATETIME,
            ("nationalGridBmUnit", "settlementDate", "settlementPeriod", "pairId", "timeFrom"),
        ),
        (
            "SYSTEM_PRICES",
            "/balancing/settlement/system-prices/{settlementDate}",
            PATH_DATE,
            ("settlementDate", "settlementPeriod"),
        ),
        (
            "BMUNITS",
            "/reference/bmunits/all",
            SNAPSHOT,
            ("nationalGridBmUnit", "elexonBmUnit", "eic"),
        ),
    ],
)
def test_required_datasets_come_from_the_spec_with_natural_keys(name, path, window, keys):
    endpoint = CATALOGUE.get(name)
    assert (endpoint.path, endpoint.window, endpoint.keys) == (path, window, keys)
    assert endpoint.table == name.lower()


def test_window_limits_from_the_spec_are_respected():
    assert CATALOGUE.get("FREQ").window_size <= timedelta(hours=24)
    assert CATALOGUE.get("INDGEN").max_window == timedelta(days=1)
    assert CATALOGUE.get("DEMAND_ACTUAL_TOTAL").max_window == timedelta(days=7)


def test_windows_are_aligned_and_cover_the_range():
    bod = CATALOGUE.get("BOD")
    windows = plan_windows(bod, NOW + timedelta(minutes=20), NOW + timedelta(hours=3))
    assert [w.start.minute for w in windows] == [20, 0, 0]
    assert windows[-1].end == NOW + timedelta(hours=3) and len(windows) == 3


def test_requests_per_window_shape():
    boalf, prices = CATALOGUE.get("BOALF"), CATALOGUE.get("SYSTEM_PRICES")
    window = plan_windows(boalf, NOW, NOW + timedelta(days=1))[0]
    assert request_for(boalf, window) == (
        "/datasets/BOALF/stream",
        {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"},
    )
    path, params = request_for(prices, plan_windows(prices, NOW, NOW + timedelta(days=1))[0])
    assert path == "/balancing/settlement/system-prices/2024-05-01" and params == {"format": "json"}
    outturn = CATALOGUE.get("DEMAND_OUTTURN_DAILY")
    _, params = request_for(outturn, plan_windows(outturn, NOW, NOW + timedelta(days=7))[0])
    assert params == {"settlementDateFrom": "2024-05-01", "settlementDateTo": "2024-05-07"}


def convert_records(endpoint, records, **kw):
    return convert(
        orjson.dumps(records),
        endpoint.fields,
        endpoint.keys,
        published_field=endpoint.published_field,
        source="api",
        loaded_at=NOW,
        **kw,
    )


def test_a_date_range_of_fuelhh_asks_for_whole_settlement_days():
    """SP1 of a BST day starts at 23:00 UTC the day before: a publish window of the UTC day
    misses it, so a date range asks by settlement date, one day per task, and the task's window
    is the day's UTC span (46 periods on the spring clock change)."""
    fuelhh = load_catalogue().get("FUELHH")
    tasks = range_tasks(
        [fuelhh], datetime(2024, 3, 31, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC)
    )
    assert [(t.window.start, t.window.end) for t in tasks] == [
        (datetime(2024, 3, 31, 0, tzinfo=UTC), datetime(2024, 3, 31, 23, tzinfo=UTC)),
        (datetime(2024, 3, 31, 23, tzinfo=UTC), datetime(2024, 4, 1, 23, tzinfo=UTC)),
    ]
    assert [
        request_for(fuelhh, t.window, settlement_days=by_settlement_date(t)) for t in tasks
    ] == [
        ("/datasets/FUELHH/stream", {"settlementDateFrom": d, "settlementDateTo": d})
        for d in ("2024-03-31", "2024-04-01")
    ]


def test_a_range_with_times_or_without_a_settlement_filter_keeps_publish_windows():
    catalogue = load_catalogue()
    at_times = range_tasks(
        [catalogue.get("FUELHH")],
        datetime(2024, 5, 1, 6, tzinfo=UTC),
        datetime(2024, 5, 1, 9, tzinfo=UTC),
    )
    atl = range_tasks(
        [catalogue.get("ATL")], datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)
    )
    for task in at_times + atl:
        assert not by_settlement_date(task)
        _, params = request_for(catalogue.get(task.dataset), task.window)
        assert "publishDateTimeFrom" in params


@pytest.mark.parametrize(
    "name", ["FUELINST", "FUELHH", "BOD", "SYSTEM_PRICES", "REMIT", "BOALF", "MILS"]
)
def test_spec_example_response_converts_to_typed_columns(name):
    endpoint = CATALOGUE.get(name)
    body = orjson.dumps(
        endpoint.example if endpoint.shape == "array" else {"data": endpoint.example}
    )
    converted = BmrsAdapter(load_settings(env={})).decode(endpoint, body, "spec-example")
    table = converted.table
    assert table.num_rows == converted.received == len(endpoint.example) >= 1
    assert not schema_changes(endpoint, converted.keys_seen, converted.received)
    for field in endpoint.fields:
        expected = {
            "timestamp": pa.timestamp("us", tz="UTC"),
            "date": pa.date32(),
            "integer": pa.int64(),
            "number": pa.float64(),
            "boolean": pa.bool_(),
        }.get(field.type, pa.string())
        assert table.schema.field(field.column).type == expected
    assert set(table.column("_source").to_pylist()) == {"api"}


def test_remit_outage_profile_lands_as_json_text():
    table = convert_records(CATALOGUE.get("REMIT"), CATALOGUE.get("REMIT").example).table
    assert table.column("outage_profile")[0].as_py().startswith('[{"startTime"')


def test_a_new_field_is_reported_and_landed_as_text():
    endpoint = CATALOGUE.get("FUELINST")
    converted = convert_records(endpoint, [dict(endpoint.example[0], newField=1.5)])
    changes = schema_changes(endpoint, converted.keys_seen, converted.received)
    assert [(c.field, c.change) for c in changes] == [("newField", "added")]
    assert converted.table.column("new_field").to_pylist() == ["1.5"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("not a number", "an integer but got 'not a number'"),
        (1.5, "an integer but got 1.5"),  # never rounded
        (True, "an integer but got True"),  # never read as 1
    ],
)
def test_a_type_change_is_an_error_never_a_coercion(value, expected):
    endpoint = CATALOGUE.get("FUELINST")
    with pytest.raises(TypeDrift, match=f"'generation' expected {expected}"):
        convert_records(endpoint, [dict(endpoint.example[0], generation=value)])


def test_numeric_text_in_a_numeric_field_parses_and_is_noted():
    endpoint = CATALOGUE.get("FUELINST")
    converted = convert_records(endpoint, [dict(endpoint.example[0], generation="1234")])
    assert converted.table.column("generation").to_pylist() == [1234]
    assert "generation" in converted.notes[0]


def test_natural_keys_keep_nulls_distinct_and_the_latest_published_wins():
    endpoint = CATALOGUE.get("MILS")
    record = endpoint.example[0]
    newer = dict(record, levelFrom=99, notificationTime="2030-01-01T00:00:00Z")
    converted = convert_records(endpoint, [record, newer, dict(record, nationalGridBmUnit=None)])
    keys = converted.table.column("_natural_key").to_pylist()
    assert len(keys) == 2 and any(k.startswith("[null,") for k in keys)
    assert 99 in converted.table.column("level_from").to_pylist()
    assert 5 not in converted.table.column("level_from").to_pylist()[:1] or len(keys) == 2
    assert "1 records repeated a natural key" in converted.notes[0]


def test_a_batch_keeps_one_row_per_key_and_the_later_window_wins():
    """Two windows of one commit that both carry a key (recorded real BOALF records): the row
    from the later window is the one staged, every other row once, nothing else lost."""
    endpoint = CATALOGUE.get("BOALF")
    path = Path(__file__).parents[1] / "data/recorded/bmrs/BOALF/boalf_stream_2024-05-01.json"
    records = orjson.loads(path.read_bytes())
    records = records["data"] if isinstance(records, dict) else records
    first = convert_records(endpoint, records[:600]).table
    revised = dict(records[10], levelTo=records[10]["levelTo"] + 7)
    second = convert_records(endpoint, [revised, *records[600:]]).table
    unique = one_row_per_key([first])
    assert unique == [first]  # already unique: passed through untouched
    (merged,) = one_row_per_key([first, second])
    keys = merged.column("_natural_key").to_pylist()
    assert merged.num_rows == len(records) == len(set(keys))
    row = merged.filter(pc.equal(merged["_natural_key"], second["_natural_key"][0]))
    assert row.column("level_to").to_pylist() == [records[10]["levelTo"] + 7]


def test_the_catalogue_lists_every_dataset_endpoint_of_the_spec():
    import json

    from loaders.sources.bmrs.catalogue import SPEC_PATH

    spec = json.loads(SPEC_PATH.read_text())
    dataset_codes = {
        p.split("/")[2]
        for p in spec["paths"]
        if p.startswith("/datasets/") and p != "/datasets/metadata/latest"
    }
    missing = dataset_codes - {e.name for e in CATALOGUE}
    assert not missing, f"dataset endpoints not loadable: {sorted(missing)}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("FUELHH", "per_period"),
        ("SYSTEM_PRICES", "per_period"),
        ("FUELINST", "per_5_minutes"),
        ("DEMAND_PEAK", "per_day"),
        ("FORECAST_GENERATION_WIND_PEAK", "per_day"),
        ("BOALF", "events"),
        ("NTB", "events"),
        ("DISBSAD", "events"),
    ],
)
def test_each_dataset_has_the_cardinality_of_a_complete_settlement_day(name, expected):
    """What fct_dataset_completeness_daily expects of a day (macros/generated lists it)."""
    assert CATALOGUE.get(name).cardinality == expected
