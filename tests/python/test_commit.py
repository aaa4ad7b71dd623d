"""The one committer (loaders/common/commit.py) that API loads and the IRIS flush share: merge on
the natural key, the load log in the same lock hold, right after the rows; and the shared pieces
(the dlt merge resource, the ops writes, file locks) defined once across loaders/."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from loaders.common.commit import Batch, Committer, OpsRows
from loaders.common.ops import LoadLogRow
from loaders.settings import Settings, load_settings
from loaders.sources.bmrs.source import RAW_SCHEMA, BmrsAdapter, dataset_resource

from .conftest import RECORDED, ROOT

FUELHH = RECORDED / "bmrs" / "FUELHH" / "fuelhh_2025-02-06_sp2-11_derived_from_csv.json"
LOG_TABLES = (
    "select table_name from information_schema.tables where table_schema = 'ops' "
    "and table_name = 'load_log'"
)
WINDOW = (datetime(2025, 2, 6, tzinfo=UTC), datetime(2025, 2, 7, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return load_settings(
        {
            "GRIDWAREHOUSE_DATA_DIR": str(data),
            "GRIDWAREHOUSE_DUCKDB_PATH": str(data / "gridwarehouse.duckdb"),
            "GRIDWAREHOUSE_BMRS_BASE_URL": "http://127.0.0.1:9/bmrs",  # never requested
        },
        cwd=tmp_path,
    )


@pytest.fixture
def adapter(settings: Settings) -> Iterator[BmrsAdapter]:
    adapter = BmrsAdapter(settings)
    yield adapter
    adapter.close()


def fuelhh_batch(adapter: BmrsAdapter, fail_ops: bool = False) -> Batch:
    """The recorded FUELHH body, typed by the loader's own conversion, as one batch."""
    endpoint = adapter.catalogue.get("FUELHH")
    table = adapter.decode(endpoint, FUELHH.read_bytes(), str(FUELHH)).table
    started = datetime.now(UTC)

    def ops(load_id: str | None) -> OpsRows:
        if fail_ops:
            raise RuntimeError("killed between the rows and the load log")
        row = LoadLogRow("bmrs", "FUELHH", *WINDOW, table.num_rows, "ok", started, started)
        row.load_id = load_id
        return OpsRows([row])

    resource = dataset_resource(endpoint, [table], target=adapter.settings.target)
    return Batch(purpose="bmrs load", resources=[resource], ops=ops)


def query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_committing_the_same_records_twice_keeps_one_row_per_key_and_logs_each_commit(
    settings: Settings, adapter: BmrsAdapter
) -> None:
    committer = Committer(settings, "bmrs", RAW_SCHEMA, "test-run")
    first = committer.commit(fuelhh_batch(adapter))
    second = committer.commit(fuelhh_batch(adapter))

    records = query(settings, f"select count(*) from {RAW_SCHEMA}.fuelhh")[0][0]
    keys = query(settings, f"select count(distinct _natural_key) from {RAW_SCHEMA}.fuelhh")
    assert records == keys[0][0] > 0
    logged = query(settings, "select rows, status, load_id from ops.load_log order by finished_at")
    assert logged == [(records, "ok", first), (records, "ok", second)]
    assert first and second and first != second


def test_a_commit_cut_before_its_load_log_leaves_the_window_not_done_and_the_lock_free(
    settings: Settings, adapter: BmrsAdapter
) -> None:
    committer = Committer(settings, "bmrs", RAW_SCHEMA, "test-run")
    with pytest.raises(RuntimeError, match="killed between"):
        committer.commit(fuelhh_batch(adapter, fail_ops=True))
    # the rows are stored, but no load-log row says the window is done: it is fetched again
    assert query(settings, f"select count(*) > 0 from {RAW_SCHEMA}.fuelhh") == [(True,)]
    assert query(settings, LOG_TABLES) == []
    # and the write lock was released: the retry commits (merging over the same keys)
    committer.commit(fuelhh_batch(adapter))
    assert query(settings, "select status from ops.load_log") == [("ok",)]
    records = query(
        settings, f"select count(*), count(distinct _natural_key) from {RAW_SCHEMA}.fuelhh"
    )
    assert records[0][0] == records[0][1]


def _calls_and_imports() -> Iterator[tuple[str, str]]:
    """(file relative to loaders/, called or imported name) for every call and import."""
    for path in sorted((ROOT / "loaders").rglob("*.py")):
        name = str(path.relative_to(ROOT / "loaders"))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                yield name, ast.unparse(node.func)
            elif isinstance(node, ast.Import):
                yield from ((name, alias.name) for alias in node.names)


def test_the_merge_resource_the_ops_writes_and_the_file_locks_exist_once() -> None:
    where: dict[str, set[str]] = {}
    for file, called in _calls_and_imports():
        where.setdefault(called, set()).add(file)
    # besides the committer's merge resource, only the dlt sources a user runs in their own
    # pipeline declare resources (each source's dlt_source.py)
    user_sources = {f for f in where["dlt.resource"] if f.endswith("/dlt_source.py")}
    assert user_sources == {f"sources/{s}/dlt_source.py" for s in ("bmrs", "neso", "dno", "isone")}
    assert where["dlt.resource"] - user_sources == {"common/commit.py"}
    assert where["write_load_log"] == {"common/commit.py"}
    assert where["write_schema_changes"] == {"common/commit.py"}
    assert where["load_package"] == {"common/commit.py"}
    assert where["fcntl.flock"] == {"common/locks.py"}
    assert where["fcntl"] == {"common/locks.py"}
