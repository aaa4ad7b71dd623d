"""BMRS loader benchmark: four figures, each a ratio against a baseline measured in the same run.

    uv run python bench/bmrs_load.py            # 30 days at ~250k rows/day (BOD-like volume)
    uv run python bench/bmrs_load.py --days 3   # a quicker look

The volume is SYNTHETIC: the 1000 recorded real BOALF records repeated 250 times a day with
shifted times and renumbered acceptances (bench/synthetic_data.py), one JSON body per hourly
window, written once to bench/.cache/ and served through the replay server on 127.0.0.1.

1. throughput: loader rows/s end to end (HTTP, parse, type, merge into DuckDB) vs DuckDB's
   own `read_json` rows/s on the same bytes (target >= 0.3x);
2. no-op incremental: `gridwarehouse load bmrs --dataset BOALF` with nothing due vs
   `gridwarehouse --version` (target <= 2x);
3. memory: peak RSS loading all days vs one day (target <= 1.5x: windows stream, batches commit);
4. requests: HTTP requests the loader issued vs the windows the range needs (target 1.0x).

A fifth, diagnostic line (no target) times the loader's strict record conversion on its own, on
every core, against the same baseline: the ceiling for figure 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synthetic_data import BOALF_FILE, _load, _shift  # noqa: E402
from loaders.common.timeutil import floor_to, parse_api_timestamp, rfc3339, to_settlement_period  # noqa: E402
from loaders.testing.replay import RecordSet, ReplayServer, canonical_query  # noqa: E402

GRIDWAREHOUSE = Path(sys.executable).with_name("gridwarehouse")
FIRST_DAY = date(2024, 6, 1)
HOUR = timedelta(hours=1)


def write_synthetic_bodies(folder: Path, days: int, copies_per_day: int) -> dict[datetime, Path]:
    """One body per hourly window of SYNTHETIC BOALF records (cached by size)."""
    stamp = folder / f"v3_{days}d_{copies_per_day}x"
    done = stamp / "COMPLETE"
    bodies: dict[datetime, Path] = {}
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC)
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
    earliest = min(parse_api_timestamp(r["timeFrom"]) for r in base)
    start_offset = start - earliest
    for day in range(days):
        print(f"  generating synthetic day {day + 1}/{days}", end="\r", flush=True)
        # hours before this day are complete: write them and free their records
        for hour in [h for h in buckets if h < start + timedelta(days=day)]:
            bodies[hour].write_bytes(orjson.dumps(buckets.pop(hour)))
        for copy in range(copies_per_day):
            offset = start_offset + timedelta(days=day, seconds=copy * 86_400 // copies_per_day)
            serial = (day * copies_per_day + copy + 1) * 100_000
            for r in base:
                time_from = parse_api_timestamp(r["timeFrom"]) + offset
                hour = floor_to(time_from, HOUR)
                if hour not in buckets:
                    continue
                settlement_date, period = to_settlement_period(time_from)
                _, period_to = to_settlement_period(parse_api_timestamp(r["timeTo"]) + offset)
                buckets[hour].append(
                    {
                        **r,
                        "timeFrom": rfc3339(time_from),
                        "timeTo": _shift(r["timeTo"], offset),
                        "acceptanceTime": _shift(r["acceptanceTime"], offset),
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


def environment(data_dir: Path, bmrs_base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWAREHOUSE_")}
    env.update(
        {
            "GRIDWAREHOUSE_DATA_DIR": str(data_dir),
            "GRIDWAREHOUSE_DUCKDB_PATH": str(data_dir / "gridwarehouse.duckdb"),
            "GRIDWAREHOUSE_BMRS_BASE_URL": bmrs_base_url,
            "GRIDWAREHOUSE_BMRS_REQUESTS_PER_S": "0",
            "GRIDWAREHOUSE_BMRS_WINDOWS": "BOALF=1h",  # BOD-like volume, BOD's window
        }
    )
    return env


def _peak_rss_kib(pid: int) -> int:
    """The process's own RSS high-water mark (VmHWM resets at exec, unlike rusage's maxrss,
    which a child inherits from the parent it was forked from)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stdout of one command in its own process."""
    began = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as out_file:
        proc = subprocess.Popen(
            args, env=env, stdout=out_file, stderr=subprocess.DEVNULL, text=True
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _peak_rss_kib(proc.pid))
            time.sleep(0.02)
        elapsed = time.monotonic() - began
        out_file.seek(0)
        out = out_file.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out}")
    return elapsed, peak, out


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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--copies-per-day", type=int, default=250, help="x1000 rows a day")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args()

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
        json_s, json_rows = duckdb_read_json(files, workdir)
        before = len(server.state.requests)
        load_s, rss_all, rows = load_range(workdir / "all", server, args.days)
        requests = len(server.state.requests) - before
        _, rss_one, _ = load_range(workdir / "one", server, 1)
        noop_s, version_s = noop_incremental(workdir, server)
        convert_s, convert_rows = conversion_only(files, os.cpu_count() or 1)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    windows = args.days * 24
    figures = [
        (
            "throughput: loader vs DuckDB read_json",
            (rows / load_s) / (json_rows / json_s),
            ">= 0.3x",
            f"{rows / load_s:,.0f} vs {json_rows / json_s:,.0f} rows/s ({rows:,} rows in {load_s:.1f}s)",
        ),
        (
            "no-op incremental vs --version",
            noop_s / version_s,
            "<= 2x",
            f"{noop_s:.2f}s vs {version_s:.2f}s",
        ),
        (
            f"peak RSS {args.days} days vs 1 day",
            rss_all / rss_one,
            "<= 1.5x",
            f"{rss_all / 1024:,.0f} vs {rss_one / 1024:,.0f} MiB",
        ),
        ("HTTP requests vs windows needed", requests / windows, "1.0x", f"{requests} vs {windows}"),
    ]
    print()
    for name, ratio, target, detail in figures:
        print(f"{name:<42} {ratio:6.2f}x  (target {target:>7})  {detail}")
    convert_rate = convert_rows / convert_s
    print(
        f"{'diagnostic: strict conversion alone':<42} {convert_rate / (json_rows / json_s):6.2f}x"
        f"  (no target)  {convert_rate:,.0f} rows/s on {os.cpu_count()} threads, "
        "no HTTP and no warehouse: the most the loader could reach"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
