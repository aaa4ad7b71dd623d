"""BMRS loader benchmark: four figures, each a ratio against a baseline measured in the same run.

    uv run python bench/bmrs_load.py            # 30 days at ~250k rows/day (BOD-like volume)
    uv run python bench/bmrs_load.py --quick    # 3 days at 50k rows/day: a quick look

The volume is SYNTHETIC: the 1000 recorded real BOALF records repeated 250 times a day with
shifted times and renumbered acceptances (bench/synthetic_data.py), one JSON body per hourly
window, written once to bench/.cache/ and served through the replay server on 127.0.0.1.

1. throughput: loader rows/s end to end (HTTP, parse, type, merge into DuckDB) vs DuckDB's
   own `read_json` rows/s on the same bytes, timed before and after the load and averaged
   (target >= 0.15x, dlt's ceiling here);
2. no-op incremental: `gridwarehouse load bmrs --dataset BOALF` with nothing due vs
   `gridwarehouse --version` (target <= 2x);
3. memory: peak RSS loading all days vs one day (target <= 1.5x: windows stream, batches commit);
4. requests: HTTP requests the loader issued vs the windows the range needs (target 1.0x).

A fifth, diagnostic line (no target) times the loader's strict record conversion on its own, on
every core, against the same baseline: the ceiling for figure 1. Every step prints the load
average around it, figures taken on a busy machine are marked "(under load)" (bench/common.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    GRIDWAREHOUSE,
    Session,
    Span,
    environment,
    marked,
    run_measured,
    timed,
)
from bench.synthetic_data import BOALF_FILE, _load  # noqa: E402
from loaders.common.timeutil import floor_to, parse_api_timestamp, rfc3339, to_settlement_period  # noqa: E402
from loaders.testing.replay import RecordSet, ReplayServer, canonical_query  # noqa: E402

FIRST_DAY = date(2024, 6, 1)
HOUR = timedelta(hours=1)


def write_synthetic_bodies(
    folder: Path, days: int, copies_per_day: int, first_day: date = FIRST_DAY
) -> dict[datetime, Path]:
    """One body per hourly window of SYNTHETIC BOALF records (cached by first day and size)."""
    stamp = folder / f"v3_{first_day:%Y%m%d}_{days}d_{copies_per_day}x"
    done = stamp / "COMPLETE"
    bodies: dict[datetime, Path] = {}
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    hours = [start + i * HOUR for i in range(days * 24)]
    for hour in hours:
        bodies[hour] = stamp / f"{hour:%Y%m%dT%H}.json"
    if done.exists():
        return bodies
    shutil.rmtree(stamp, ignore_errors=True)
    stamp.mkdir(parents=True)
    base = _load(BOALF_FILE)
    buckets: dict[datetime, list[dict]] = {h: [] for h in hours}
    # copy 0 of each day starts at that day's midnight, so every day carries the full volume
    # parsed once: the copies only add an offset (generating 30 days took minutes otherwise)
    parsed = [
        (r, *(parse_api_timestamp(r[f]) for f in ("timeFrom", "timeTo", "acceptanceTime")))
        for r in base
    ]
    earliest = min(time_from for _, time_from, _, _ in parsed)
    start_offset = start - earliest
    for day in range(days):
        print(f"  generating synthetic day {day + 1}/{days}", end="\r", flush=True)
        # hours before this day are complete: write them and free their records
        for hour in [h for h in buckets if h < start + timedelta(days=day)]:
            bodies[hour].write_bytes(orjson.dumps(buckets.pop(hour)))
        for copy in range(copies_per_day):
            offset = start_offset + timedelta(days=day, seconds=copy * 86_400 // copies_per_day)
            serial = (day * copies_per_day + copy + 1) * 100_000
            for r, base_from, base_to, base_accepted in parsed:
                time_from = base_from + offset
                hour = floor_to(time_from, HOUR)
                if hour not in buckets:
                    continue
                settlement_date, period = to_settlement_period(time_from)
                time_to = base_to + offset
                _, period_to = to_settlement_period(time_to)
                buckets[hour].append(
                    {
                        **r,
                        "timeFrom": rfc3339(time_from),
                        "timeTo": rfc3339(time_to),
                        "acceptanceTime": rfc3339(base_accepted + offset),
                        "acceptanceNumber": r["acceptanceNumber"] + serial,
                        "settlementDate": settlement_date.isoformat(),
                        "settlementPeriodFrom": period,
                        "settlementPeriodTo": period_to,
                    }
                )
    print()
    for hour, records in buckets.items():
        bodies[hour].write_bytes(orjson.dumps(records))
    done.write_text("ok")
    return bodies


def serve(bodies: dict[datetime, Path]) -> ReplayServer:
    server = ReplayServer(routes_file=None).start()
    record_set = RecordSet(records=[], shape="array")
    for hour, path in bodies.items():
        key = canonical_query({"from": rfc3339(hour), "to": rfc3339(hour + HOUR)})
        record_set.exact[key] = path
    server.state.add("/bmrs/datasets/BOALF/stream", record_set)
    return server


def load_range(data_dir: Path, server: ReplayServer, days: int) -> tuple[float, int, int]:
    """Seconds, peak RSS and rows for loading `days` days into a fresh warehouse."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    end = FIRST_DAY + timedelta(days=days)
    elapsed, rss, _ = run_measured(
        [
            str(GRIDWAREHOUSE),
            "load",
            "bmrs",
            "--dataset",
            "BOALF",
            "--from",
            FIRST_DAY.isoformat(),
            "--to",
            end.isoformat(),
        ],
        environment(data_dir, server.base_url("bmrs")),
    )
    import duckdb

    con = duckdb.connect(str(data_dir / "gridwarehouse.duckdb"), read_only=True)
    rows = con.execute("select count(*) from raw_bmrs.boalf").fetchone()[0]
    con.close()
    return elapsed, rss, rows


def duckdb_read_json(files: list[Path], workdir: Path) -> tuple[float, int]:
    import duckdb

    for f in files:  # from the page cache, as the replay server serves them: no disk in the figure
        f.read_bytes()
    path = workdir / "read_json.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    began = time.monotonic()
    rows = con.execute(
        "create table boalf as select * from read_json(?, format = 'array')",
        [[str(f) for f in files]],
    ).fetchone()
    elapsed = time.monotonic() - began
    rows = con.execute("select count(*) from boalf").fetchone()[0]
    con.close()
    return elapsed, rows


def convert_body(path: Path, loaded_at: datetime) -> Any:
    """One body typed by the loader's own conversion, as a BOALF window's table."""
    from loaders.common.jsonrows import convert
    from loaders.sources.bmrs.catalogue import load_catalogue

    endpoint = load_catalogue().get("BOALF")
    return convert(
        path.read_bytes(),
        endpoint.fields,
        endpoint.keys,
        published_field=endpoint.published_field,
        source="api",
        loaded_at=loaded_at,
    ).table


def conversion_only(files: list[Path], threads: int) -> tuple[float, int]:
    """The loader's strict per-body conversion (types checked, keys, hashes) on its own, in
    this process on `threads` threads: no HTTP, no warehouse. Not a target: it shows how much
    of the loader's time the conversion alone needs."""
    from concurrent.futures import ThreadPoolExecutor

    loaded_at = datetime.now(UTC)

    def rows(path: Path) -> int:
        table = convert_body(path, loaded_at)
        return table.num_rows if table is not None else 0

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        total = sum(pool.map(rows, files))
    return time.monotonic() - began, total


def best_of(n: int, args: list[str], env: dict[str, str]) -> float:
    return min(run_measured(args, env)[0] for _ in range(n))


def noop_incremental(workdir: Path, server: ReplayServer) -> tuple[float, float]:
    """(no-op incremental seconds, --version seconds), best of 5 each."""
    data_dir = workdir / "noop"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = environment(data_dir, server.base_url("bmrs"))
    now = floor_to(datetime.now(UTC), timedelta(minutes=5))
    run_measured(
        [
            str(GRIDWAREHOUSE),
            "load",
            "bmrs",
            "--dataset",
            "BOALF",
            "--from",
            rfc3339(now - HOUR),
            "--to",
            rfc3339(now),  # a range may not end after now, and a window not yet ended is not done
        ],
        env,
    )
    incremental = [str(GRIDWAREHOUSE), "load", "bmrs", "--dataset", "BOALF"]
    _, _, out = run_measured(incremental, env)
    if "up to date" not in out:
        raise SystemExit(f"the incremental run was not a no-op:\n{out}")
    return best_of(5, incremental, env), best_of(5, [str(GRIDWAREHOUSE), "--version"], env)


def read_json_baseline(files: list[Path], workdir: Path, when: str) -> tuple[float, Span]:
    """DuckDB `read_json` rows/s on the bodies, timed with the load average around it."""
    (elapsed, rows), span = timed(
        f"read_json baseline {when}", lambda: duckdb_read_json(files, workdir)
    )
    print(f"  {span.line()}: {rows / elapsed:,.0f} rows/s")
    return rows / elapsed, span


def mean_baseline(before: float, after: float) -> float:
    """The baseline the ratio uses: the mean of the runs before and after the load. The load ran
    between them, so on a machine whose load changes their mean is the nearest estimate of what
    `read_json` would have reached during it; on a quiet machine the two agree anyway."""
    spread = abs(before - after) / max(before, after)
    if spread > 0.2:
        print(
            f"  note: the baselines before and after differ by {spread:.0%}: the machine's load changed"
        )
    return (before + after) / 2


def parse_args() -> argparse.Namespace:
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
    return args


def main() -> int:
    args = parse_args()
    session = Session("bench/bmrs_load.py")
    print(
        f"SYNTHETIC data: {args.days} days x {args.copies_per_day * 1000:,} rows/day "
        "(recorded real BOALF records, shifted and renumbered)"
    )
    bodies = write_synthetic_bodies(args.cache, args.days, args.copies_per_day)
    files = list(bodies.values())
    size = sum(f.stat().st_size for f in files)
    print(f"  {len(files)} hourly bodies, {size / 1e6:,.0f} MB")
    workdir = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    server = serve(bodies)
    try:
        json_before, before_span = read_json_baseline(files, workdir, "before the load")
        before = len(server.state.requests)
        (load_s, rss_all, rows), load_span = timed(
            f"loader, {args.days} days", lambda: load_range(workdir / "all", server, args.days)
        )
        print(f"  {load_span.line()}")
        requests = len(server.state.requests) - before
        json_after, after_span = read_json_baseline(files, workdir, "after the load")
        _, rss_one, _ = load_range(workdir / "one", server, 1)
        (noop_s, version_s), noop_span = timed("no-op", lambda: noop_incremental(workdir, server))
        (convert_s, convert_rows), convert_span = timed(
            "conversion", lambda: conversion_only(files, os.cpu_count() or 1)
        )
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    baseline = mean_baseline(json_before, json_after)
    rate = rows / load_s
    print_figures(
        [
            (
                "throughput: loader vs DuckDB read_json",
                rate / baseline,
                ">= 0.15x",
                f"{rate:,.0f} vs {baseline:,.0f} rows/s, the mean of read_json before "
                f"({json_before:,.0f}) and after ({json_after:,.0f}): "
                f"{rate / json_before:.2f}x and {rate / json_after:.2f}x of each; "
                f"{rows:,} rows in {load_s:.1f}s{marked(before_span, load_span, after_span)}",
            ),
            (
                "no-op incremental vs --version",
                noop_s / version_s,
                "<= 2x",
                f"{noop_s:.2f}s vs {version_s:.2f}s{noop_span.mark}",
            ),
            (
                f"peak RSS {args.days} days vs 1 day",
                rss_all / rss_one,
                "<= 1.5x",
                f"{rss_all / 1024:,.0f} vs {rss_one / 1024:,.0f} MiB{load_span.mark}",
            ),
            (
                "HTTP requests vs windows needed",
                requests / (args.days * 24),
                "1.0x",
                f"{requests} vs {args.days * 24}",
            ),
        ]
    )
    convert_rate = convert_rows / convert_s
    print(
        f"{'diagnostic: strict conversion alone':<42} {convert_rate / baseline:6.2f}x"
        f"  (no target)  {convert_rate:,.0f} rows/s on {os.cpu_count()} threads, "
        f"no HTTP and no warehouse: the most the loader could reach{convert_span.mark}"
    )
    session.finish()
    return 0


def print_figures(figures: list[tuple[str, float, str, str]]) -> None:
    print()
    for name, ratio, target, detail in figures:
        print(f"{name:<42} {ratio:6.2f}x  (target {target:>8})  {detail}")


if __name__ == "__main__":
    raise SystemExit(main())
