"""dbt benchmark: cost follows new data, not history (issue 21). Three figures, ratios measured in
the same run, with the slowest nodes and the machine's load average:

1. an incremental `gridwarehouse build` after one new day ÷ `--full-refresh` of the same days, at
   30 days (target <= 0.1);
2. the incremental build after one new day at 90 days ÷ at 30 days (target <= 1.3);
3. one whole `gridwarehouse run` cycle with one new 15-minute window at 90 days (target <= 60 s).

    uv run python bench/dbt_incremental.py            # 30 and 90 days at ~250k BOALF rows a day
    uv run python bench/dbt_incremental.py --quick    # 3 and 9 days at 20k rows a day

The volume is SYNTHETIC: the 1000 recorded real BOALF records repeated 250 times a day with
shifted times and renumbered acceptances (bench/bmrs_load.py's generator), served by the replay
server on 127.0.0.1. The first 30 days and every new day go through the real loader; the 60
earlier days that make the 90-day history are copies of those 30 loaded days made in DuckDB SQL
(bench/synthetic_data.py, `synthetic_copy_shift_boalf`), because loading them takes many minutes.
The days end just before today, so the `run` cycle's new window is a real "now".
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bmrs_load import serve, write_synthetic_bodies  # noqa: E402
from bench.common import (  # noqa: E402
    GRIDWAREHOUSE,
    Session,
    Span,
    environment,
    marked,
    run_measured,
    timed,
)
from bench.run_cycle import serve_recent, timed_cycle  # noqa: E402
from bench.synthetic_data import synthetic_copy_shift_boalf  # noqa: E402
from loaders.testing.replay import ReplayServer  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
TARGET_INCREMENTAL_VS_FULL = 0.1
TARGET_90_VS_30 = 1.3
TARGET_RUN_S = 60.0


def at_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def load_days(env: dict[str, str], start: date, end: date) -> None:
    """Load synthetic BOALF days [start, end) with the real loader (untimed)."""
    args = [
        "load",
        "bmrs",
        "--dataset",
        "BOALF",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
    ]
    run_measured([str(GRIDWAREHOUSE), *args], env)


def timed_build(env: dict[str, str], label: str, *args: str) -> tuple[Span, dict[str, float]]:
    """One `gridwarehouse build`, timed, and its five slowest nodes from run_results.json."""
    _, span = timed(label, lambda: run_measured([str(GRIDWAREHOUSE), "build", *args], env))
    results = json.loads((Path(env["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    # unique_id: model.<project>.<name>, or test.<project>.<name>.<hash>
    nodes = {r["unique_id"].split(".")[2]: r["execution_time"] for r in results["results"]}
    print(f"  {span.line()}")
    return span, dict(sorted(nodes.items(), key=lambda kv: -kv[1])[:5])


def print_slowest(label: str, nodes: dict[str, float]) -> None:
    print(f"  slowest nodes, {label}: " + ", ".join(f"{k} {v:.1f}s" for k, v in nodes.items()))


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "misses"


def extend_history(env: dict[str, str], first: date, days: int, history: int) -> None:
    """Copy-shift the loaded days [first, first + days) back to make `history` days (SYNTHETIC)."""
    import duckdb

    con = duckdb.connect(env["GRIDWAREHOUSE_DUCKDB_PATH"])
    try:
        template = (at_midnight(first), at_midnight(first + timedelta(days=days)))
        start = at_midnight(first - timedelta(days=history - days))
        rows = synthetic_copy_shift_boalf(con, template, start)
    finally:
        con.close()
    print(
        f"  {history - days} earlier days made in DuckDB SQL from the {days} loaded days "
        f"(copy-shifted, keys renumbered; NOT through the loader): {rows:,} rows"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30, help="the first history, loaded")
    parser.add_argument("--history-days", type=int, default=90, help="the longer history")
    parser.add_argument("--copies-per-day", type=int, default=250, help="x1000 rows a day")
    parser.add_argument("--quick", action="store_true", help="3 and 9 days x 20k rows a day")
    parser.add_argument("--no-run-cycle", action="store_true", help="skip the `run` figure")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse for a look")
    opts = parser.parse_args()
    if opts.quick:
        opts.days, opts.history_days, opts.copies_per_day = 3, 9, 20
    return opts


def main() -> int:
    opts = parse_args()
    session = Session("bench/dbt_incremental.py")
    today = datetime.now(UTC).date()
    # days: [first, first + days) loaded, then one new day at 30, one at 90, then up to now
    first = today - timedelta(days=opts.days + 3)
    print(
        f"SYNTHETIC data: {opts.copies_per_day * 1000:,} BOALF rows a day (recorded real records "
        f"shifted and renumbered), {opts.days} days from {first} loaded by the real loader"
    )
    bodies = write_synthetic_bodies(CACHE, opts.days + 4, opts.copies_per_day, first)
    server = serve(bodies)
    workdir = Path(tempfile.mkdtemp(prefix="dbt_incremental_"))
    try:
        data_dir = workdir / "data"
        data_dir.mkdir()
        env = environment(
            data_dir,
            server.base_url("bmrs"),
            DBT_TARGET_PATH=str(workdir / "target"),
            DBT_LOG_PATH=str(workdir / "logs"),
        )
        measure(opts, env, server, bodies, first)
    finally:
        server.stop()
        if opts.keep:
            print(f"warehouse kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    session.finish()
    return 0


def measure(
    opts: argparse.Namespace,
    env: dict[str, str],
    server: ReplayServer,
    bodies: dict[datetime, Path],
    first: date,
) -> None:
    """The whole sequence; prints each figure as soon as it is known (a stopped run keeps them)."""
    days, history = opts.days, opts.history_days
    new_30, new_90 = first + timedelta(days=days), first + timedelta(days=days + 1)
    load_days(env, first, new_30)
    timed_build(env, f"full refresh, {days} days (first build)", "--full-refresh")
    load_days(env, new_30, new_30 + timedelta(days=1))
    inc_30, slow_inc_30 = timed_build(
        env,
        f"incremental after one new day, {days} days",
    )
    full_30, slow_full_30 = timed_build(
        env, f"full refresh, same {days + 1} days", "--full-refresh"
    )
    ratio = inc_30.seconds / full_30.seconds
    print(
        f"FIGURE incremental / full refresh at {days} days = {ratio:.3f}{marked(inc_30, full_30)} "
        f"({verdict(ratio, TARGET_INCREMENTAL_VS_FULL)} the target <= {TARGET_INCREMENTAL_VS_FULL})"
    )
    print_slowest("incremental", slow_inc_30)
    print_slowest("full refresh", slow_full_30)

    extend_history(env, first, days, history)
    timed_build(env, f"full refresh, {history + 1} days", "--full-refresh")
    load_days(env, new_90, new_90 + timedelta(days=1))
    inc_90, slow_inc_90 = timed_build(env, f"incremental after one new day, {history + 2} days")
    growth = inc_90.seconds / inc_30.seconds
    print(
        f"FIGURE incremental at {history} days / at {days} days = {growth:.2f}"
        f"{marked(inc_30, inc_90)} ({verdict(growth, TARGET_90_VS_30)} the target <= {TARGET_90_VS_30})"
    )
    print_slowest(f"incremental at {history} days", slow_inc_90)
    if opts.no_run_cycle:
        return
    record_set = server.state.routes["/bmrs/datasets/BOALF/stream"]
    held = serve_recent(record_set, bodies, datetime.now(UTC))
    print(f"  serving {held:,} SYNTHETIC records of the last hours for windows near now")
    span, requests, out = timed_cycle(env, server.state.requests, new_90 + timedelta(days=1))
    print(f"  {span.line()}; {requests} BOALF requests (the new window + the trailing re-fetch)")
    print("  " + "\n  ".join(line for line in out.splitlines() if line.startswith("run:")))
    print(
        f"FIGURE one `gridwarehouse run` cycle at {history} days = {span.seconds:.1f} s{span.mark} "
        f"({verdict(span.seconds, TARGET_RUN_S)} the target <= {TARGET_RUN_S:.0f} s)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
