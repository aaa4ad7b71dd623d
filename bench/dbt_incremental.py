"""dbt incremental benchmark: an incremental build after one new day vs a full refresh, as a ratio
measured in the same run (target <= 0.1 at 30 days; issue 21).

    uv run python bench/dbt_incremental.py              # 30 days at ~250k BOALF rows a day
    uv run python bench/dbt_incremental.py --days 3     # a quicker look

The volume is SYNTHETIC (bench/synthetic_data.py via bench/bmrs_load.py): the 1000 recorded real
BOALF records repeated 250 times a day with shifted times and renumbered acceptances, loaded by the
real loader from the replay server on 127.0.0.1. Steps: load `days` days, `gridwarehouse build
--full-refresh` (timed), load one more day, `gridwarehouse build` (incremental, timed), then
`gridwarehouse build --full-refresh` again on the same data (timed: the baseline). The machine's
load average is printed with the figures; figures taken under load are marked.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bmrs_load import (  # noqa: E402
    FIRST_DAY,
    GRIDWAREHOUSE,
    environment,
    run_measured,
    serve,
    write_synthetic_bodies,
)

CACHE = ROOT / "bench" / ".cache"
TARGET_RATIO = 0.1


def load_days(env: dict[str, str], first: int, last: int) -> None:
    """Load synthetic BOALF days [first, last) (0 = FIRST_DAY) with the real loader."""
    start, end = FIRST_DAY + timedelta(days=first), FIRST_DAY + timedelta(days=last)
    run_measured(
        [str(GRIDWAREHOUSE), "load", "bmrs", "--dataset", "BOALF",
         "--from", start.isoformat(), "--to", end.isoformat()],
        env,
    )  # fmt: skip


def timed_build(env: dict[str, str], *args: str) -> tuple[float, dict[str, float]]:
    """Wall seconds of one `gridwarehouse build`, and the slowest nodes from run_results.json."""
    elapsed, _, _ = run_measured([str(GRIDWAREHOUSE), "build", *args], env)
    results = json.loads((Path(env["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    nodes = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]}
    return elapsed, dict(sorted(nodes.items(), key=lambda kv: -kv[1])[:5])


def load_note() -> str:
    one, five, _ = os.getloadavg()
    busy = one > 0.5 * (os.cpu_count() or 1)
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)" + (
        " — UNDER LOAD: figures taken on a busy machine" if busy else ""
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--copies-per-day", type=int, default=250)
    parser.add_argument("--keep", action="store_true", help="keep the warehouse for a look")
    opts = parser.parse_args()

    bodies = write_synthetic_bodies(CACHE, opts.days + 1, opts.copies_per_day)
    server = serve(bodies)
    workdir = Path(tempfile.mkdtemp(prefix="dbt_incremental_"))
    try:
        data_dir = workdir / "data"
        data_dir.mkdir()
        env = {**environment(data_dir, server.base_url("bmrs")),
               "DBT_TARGET_PATH": str(workdir / "target"), "DBT_LOG_PATH": str(workdir / "logs")}  # fmt: skip
        print(f"loading {opts.days} SYNTHETIC days ({opts.copies_per_day} x 1000 BOALF rows a day)")
        load_days(env, 0, opts.days)
        print("  " + load_note())
        first_full, _ = timed_build(env, "--full-refresh")
        print(f"full refresh, {opts.days} days: {first_full:.1f} s")
        load_days(env, opts.days, opts.days + 1)
        print("  " + load_note())
        incremental, slowest_incremental = timed_build(env)
        full, slowest_full = timed_build(env, "--full-refresh")
        print(f"incremental build after one new day: {incremental:.1f} s")
        print(f"full refresh, {opts.days + 1} days (baseline, same run): {full:.1f} s")
        ratio = incremental / full
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"incremental / full refresh = {ratio:.3f} ({verdict} the target <= {TARGET_RATIO})")
        print(
            "slowest nodes, incremental: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in slowest_incremental.items())
        )
        print(
            "slowest nodes, full refresh: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in slowest_full.items())
        )
        print("  " + load_note())
    finally:
        server.stop()
        if opts.keep:
            print(f"warehouse kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
