"""`_record_hash`: the stable 64-bit hash of a record's typed key, and the in-place migration
of raw tables an older release wrote with an MD5 text of every field."""

from __future__ import annotations

import tarfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest

from loaders.common.jsonrows import convert
from loaders.common.keyhash import key_columns, key_hash, migrate_table
from loaders.sources.bmrs.catalogue import load_catalogue

from .conftest import make_cli, recorded_records

CATALOGUE = load_catalogue()
NOW = datetime(2024, 5, 2, tzinfo=UTC)
# a raw warehouse written by the release before this change (commit 5c6b2e0), from the recorded
# real responses of BOALF, MILS and NOU2T3YW 2024-05-01; how it was made: its README.md
LEGACY = Path(__file__).parents[1] / "data/legacy/md5_record_hash_warehouse.tar.gz"
LEGACY_TABLES = {"boalf": 1000, "mils": 1000, "nou2t3yw": 155}


def converted(name: str, records: list[dict]) -> object:
    endpoint = CATALOGUE.get(name)
    return convert(
        orjson.dumps(records),
        endpoint.fields,
        endpoint.keys,
        published_field=endpoint.published_field,
        source="api",
        loaded_at=NOW,
        required_keys=endpoint.required_keys,
    ).table


def boalf_records() -> list[dict]:
    return recorded_records("bmrs/BOALF/boalf_stream_2024-05-01.json")


def test_record_hash_is_the_64_bit_hash_of_the_typed_key_and_nothing_else():
    record = boalf_records()[0]
    revised = dict(record, levelTo=record["levelTo"] + 7)
    other_unit = dict(record, nationalGridBmUnit=record["nationalGridBmUnit"] + "X")
    table = converted("BOALF", [record])
    hashes = [
        converted("BOALF", [r]).column("_record_hash")[0].as_py() for r in (revised, other_unit)
    ]
    mine = table.column("_record_hash")[0].as_py()
    assert table.schema.field("_record_hash").type == "int64"
    assert hashes[0] == mine  # a revision of the same record: same key, same hash
    assert hashes[1] != mine
    # the definition, in Python: the typed key's canonical text (a timestamp in epoch us)
    time_from = datetime.fromisoformat(record["timeFrom"].replace("Z", "+00:00"))
    micros = int(time_from.timestamp()) * 1_000_000
    expected = [record["nationalGridBmUnit"], str(record["acceptanceNumber"]), str(micros)]
    assert mine == key_hash(expected)


def test_the_hash_is_pinned_so_a_stored_hash_stays_comparable():
    """A stored hash is compared with later loads' hashes: any change to its definition (or a
    DuckDB release computing it differently) must fail here, not silently split records."""
    assert key_hash(["abc"]) == -8070080442485551184
    assert key_hash([None, "1714604400000000", "3"]) == -5828865427673822557
    table = converted("BOALF", [boalf_records()[0]])  # SGRWO-1, 6182, 2024-05-01T23:59:00Z
    assert table.column("_record_hash")[0].as_py() == -6448795452263028198


def test_the_same_typed_key_in_other_json_text_hashes_the_same():
    """The hash is of typed values: a timestamp written with milliseconds, or a number sent as
    text, is the same key."""
    record = boalf_records()[0]
    stamp = datetime.fromisoformat(record["timeFrom"].replace("Z", "+00:00"))
    respelled = dict(
        record,
        timeFrom=stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        acceptanceNumber=str(record["acceptanceNumber"]),
    )
    first, second = (converted("BOALF", [r]) for r in (record, respelled))
    assert first.column("_record_hash") == second.column("_record_hash")


def test_a_null_key_part_hashes_apart_from_every_value():
    """NOU2T3YW's systemZone may be null: null is its own key part, not the text 'null'."""
    rows = [r for r in recorded_records("bmrs/NOU2T3YW/nou2t3yw_2024-05-01.json")][:1]
    assert rows and rows[0].get("systemZone") is None
    spelled = dict(rows[0], systemZone="null")
    first, second = (converted("NOU2T3YW", [r]) for r in (rows[0], spelled))
    assert first.column("_record_hash") != second.column("_record_hash")


def test_a_converted_table_names_its_key_columns_for_the_migration():
    table = converted("MILS", recorded_records("bmrs/MILS/mils_2024-05-01T10-11Z.json")[:5])
    assert key_columns([table]) == [
        ("national_grid_bm_unit", "string"),
        ("notification_sequence", "integer"),
        ("time_from", "timestamp"),
    ]


def legacy_warehouse(tmp_path: Path) -> Path:
    with tarfile.open(LEGACY) as archive:
        archive.extractall(tmp_path, filter="data")
    return tmp_path / "data"


def test_migrating_a_legacy_table_gives_the_hash_a_new_load_computes(tmp_path):
    """The stored columns alone reproduce the converter's hash, row for row."""
    data = legacy_warehouse(tmp_path)
    fresh = converted("BOALF", boalf_records())
    con = duckdb.connect(str(data / "gridwarehouse.duckdb"))
    try:
        assert migrate_table(con, "raw_bmrs", "boalf", key_columns([fresh]))
        assert not migrate_table(con, "raw_bmrs", "boalf", key_columns([fresh]))  # once
        stored = dict(
            con.execute("select _natural_key, _record_hash from raw_bmrs.boalf").fetchall()
        )
        kind = con.execute(
            "select data_type from information_schema.columns where table_schema = 'raw_bmrs' "
            "and table_name = 'boalf' and column_name = '_record_hash'"
        ).fetchone()
    finally:
        con.close()
    assert kind == ("BIGINT",)
    expected = dict(
        zip(fresh["_natural_key"].to_pylist(), fresh["_record_hash"].to_pylist(), strict=True)
    )
    assert stored == expected


@pytest.mark.slow
def test_a_legacy_warehouse_migrates_on_its_first_load_without_duplicates(tmp_path, replay):
    """A warehouse of the previous release, loaded again by this one: every raw table it loads
    is converted in place, no row is added twice, and the hashes equal a fresh warehouse's."""
    (tmp_path / "legacy").mkdir()
    cli = make_cli(tmp_path / "legacy", replay)
    cli.data_dir.rmdir()
    legacy_warehouse(tmp_path / "legacy")
    (tmp_path / "fresh").mkdir()
    fresh = make_cli(tmp_path / "fresh", replay)
    flags = ["--from", "2024-05-01", "--to", "2024-05-03"]
    for c in (cli, fresh):
        for name in ("BOALF", "MILS", "NOU2T3YW"):
            result = c.run("load", "bmrs", "--dataset", name, *flags)
            assert result.returncode == 0, result.stdout + result.stderr
    for table, rows in LEGACY_TABLES.items():
        query = (
            f"select count(*), count(distinct _natural_key), typeof(any_value(_record_hash)) "
            f"from raw_bmrs.{table}"
        )
        assert cli.query(query) == [(rows, rows, "BIGINT")], table
        pairs = f"select _natural_key, _record_hash from raw_bmrs.{table} order by 1"
        assert cli.query(pairs) == fresh.query(pairs), table


def test_records_whose_hashes_collide_are_both_kept_in_a_batch():
    """A batch's keys are checked by hash first; equal hashes of different keys (made here by
    overwriting one hash: a synthetic collision) must not drop a record."""
    import pyarrow as pa

    from loaders.common.engine import one_row_per_key

    table = converted("BOALF", boalf_records()[:4])
    hashes = table.column("_record_hash").to_pylist()
    collided = table.set_column(
        table.schema.get_field_index("_record_hash"),
        table.schema.field("_record_hash"),
        pa.array([hashes[0], hashes[0], *hashes[2:]], pa.int64()),
    )
    kept = pa.concat_tables(one_row_per_key([collided]))
    assert sorted(kept["_natural_key"].to_pylist()) == sorted(table["_natural_key"].to_pylist())


@pytest.mark.slow
def test_a_migration_killed_before_its_commit_leaves_the_old_table_whole(tmp_path, replay):
    """kill -9 inside the migration's transaction: the table is as the old release left it, and
    the next load converts it, with every row once."""
    cli = make_cli(tmp_path, replay)
    cli.data_dir.rmdir()
    legacy_warehouse(tmp_path)
    flags = ["load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-03"]
    query = (
        "select count(*), count(distinct _natural_key), typeof(any_value(_record_hash)) "
        "from raw_bmrs.boalf"
    )
    killed = cli.run(*flags, GRIDWAREHOUSE_FAILPOINT="keyhash.before_migration_commit:1")
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert cli.query(query) == [(1000, 1000, "VARCHAR")]
    again = cli.run(*flags)
    assert again.returncode == 0, again.stdout + again.stderr
    assert cli.query(query) == [(1000, 1000, "BIGINT")]
