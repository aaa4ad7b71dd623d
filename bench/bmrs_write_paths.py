"""Diagnostic (no target): how fast can a batch be written, through dlt's merge and without it?

    uv run python bench/bmrs_write_paths.py            # 30 days, ~7.5M rows (as bmrs_load.py)
    uv run python bench/bmrs_write_paths.py --days 3

The same SYNTHETIC bodies as bench/bmrs_load.py (recorded real BOALF records, shifted and
renumbered) are typed by the loader's own conversion, untimed, one day at a time; each day is
then written twice, timed, into two fresh DuckDB files:

1. the loader's commit: `engine.commit_windows` through the shared `Committer` (dlt extract to
   parquet, normalize, load into dlt's staging table, delete-insert merge on `_natural_key`,
   load log, checkpoint on close);
2. a direct write: one DuckDB transaction deleting the batch's keys and inserting its Arrow rows.

Both rates are printed against DuckDB's `read_json` on the same bytes, measured in the same run
(the baseline of bench/bmrs_load.py's throughput figure): the write path alone bounds what the
loader's end-to-end figure can reach, before any HTTP or conversion.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bmrs_load import (  # noqa: E402
    HOUR,
    convert_body,
    mean_baseline,
    read_json_baseline,
    write_synthetic_bodies,
)
from bench.common import Session, environment, marked, timed  # noqa: E402


def convert_day(bodies: list[tuple[datetime, Path]], loaded_at: datetime) -> list[Any]:
    """The loader's own typed tables for one day's hourly bodies, as fetched windows."""
    from loaders.common.engine import FetchResult, Task, Window

    def one(item: tuple[datetime, Path]) -> FetchResult:
        hour, path = item
        table = convert_body(path, loaded_at)
        return FetchResult(
            task=Task("BOALF", Window(hour, hour + HOUR)),
            status="ok",
            rows=table.num_rows,
            table=table,
        )

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, bodies))


def direct_write(path: Path, tables: list[Any], memory_limit: str) -> None:
    """Delete the batch's keys and insert its rows in one transaction, then close (checkpoint)."""
    import duckdb
    import pyarrow as pa

    batch = pa.concat_tables(tables)  # noqa: F841  (read by name in the SQL below)
    con = duckdb.connect(str(path), config={"memory_limit": memory_limit})
    try:
        con.execute("create table if not exists boalf as select * from batch limit 0")
        con.execute("begin")
        con.execute("delete from boalf where _natural_key in (select _natural_key from batch)")
        con.execute("insert into boalf select * from batch")
        con.execute("commit")
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--copies-per-day", type=int, default=250, help="x1000 rows a day")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--quick", action="store_true", help="3 days x 50k rows: a quick look")
    args = parser.parse_args()
    if args.quick:
        args.days, args.copies_per_day = 3, 50

    session = Session("bench/bmrs_write_paths.py")
    print(
        f"SYNTHETIC data: {args.days} days x {args.copies_per_day * 1000:,} rows/day "
        "(recorded real BOALF records, shifted and renumbered)"
    )
    bodies = sorted(write_synthetic_bodies(args.cache, args.days, args.copies_per_day).items())
    files = [p for _, p in bodies]
    workdir = Path(tempfile.mkdtemp(prefix="gw-bench-write-"))
    try:
        json_before, before_span = read_json_baseline(files, workdir, "before the writes")
        (dlt_s, direct_s, rows), write_span = timed(
            "writes", lambda: write_both(bodies, workdir, args.days)
        )
        json_after, after_span = read_json_baseline(files, workdir, "after the writes")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    baseline = mean_baseline(json_before, json_after)
    mark = marked(before_span, write_span, after_span)
    print(f"\nbaseline: read_json {baseline:,.0f} rows/s (mean of before and after)")
    for name, seconds in (("loader commit (dlt merge)", dlt_s), ("direct DuckDB write", direct_s)):
        rate = rows / seconds
        print(
            f"{'write path: ' + name:<42} {rate / baseline:6.2f}x of read_json  "
            f"({rate:,.0f} vs {baseline:,.0f} rows/s; {rows:,} rows in {seconds:.1f}s){mark}"
        )
    print(f"{'loader commit vs direct write (time)':<42} {dlt_s / direct_s:6.2f}x{mark}")
    session.finish()
    return 0


def write_both(
    bodies: list[tuple[datetime, Path]], workdir: Path, days: int
) -> tuple[float, float, int]:
    """Seconds spent by each write path on the same batches (one day each), and the rows."""
    from loaders.common.commit import Committer
    from loaders.common.engine import commit_windows
    from loaders.settings import load_settings
    from loaders.sources.bmrs.source import BmrsAdapter

    data_dir = workdir / "loader"
    env = environment(data_dir, "http://127.0.0.1:9/bmrs")  # never requested
    settings = load_settings(env)
    adapter = BmrsAdapter(settings)
    committer = Committer(settings, "bmrs", adapter.raw_schema, "bench")
    direct_path = workdir / "direct.duckdb"
    loaded_at = datetime.now(UTC)
    dlt_s = direct_s = 0.0
    rows = 0
    per_day = len(bodies) // days
    try:
        for day in range(days):
            print(f"  writing day {day + 1}/{days}", end="\r", flush=True)
            batch = convert_day(bodies[day * per_day : (day + 1) * per_day], loaded_at)
            tables = [r.table for r in batch]
            rows += sum(t.num_rows for t in tables)
            began = time.monotonic()
            direct_write(direct_path, tables, settings.duckdb_memory_limit)
            direct_s += time.monotonic() - began
            began = time.monotonic()
            commit_windows(committer, adapter, batch)  # releases the tables
            dlt_s += time.monotonic() - began
    finally:
        adapter.close()
    print()
    return dlt_s, direct_s, rows


if __name__ == "__main__":
    raise SystemExit(main())
