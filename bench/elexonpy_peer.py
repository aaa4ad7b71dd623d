"""Side by side with a peer: gridwarehouse's BMRS loader vs the Elexonpy client (openclimatefix,
1.0.16) on the same served bytes, rows/s of "fetch + land in DuckDB" for each, measured in the
same run (no target: it makes the README's claim against a peer a measured one).

    uv sync --group bench-peers                          # once: installs elexonpy==1.0.16
    uv run --group bench-peers python bench/elexonpy_peer.py           # 1 day x 250k rows
    uv run --group bench-peers python bench/elexonpy_peer.py --quick   # 1 day x 20k rows

Both fetch the same SYNTHETIC hourly BOALF bodies (bench/bmrs_load.py's generator: the recorded
real records shifted and renumbered) from the replay server on 127.0.0.1, with the same queries
(`from`/`to`, one hour each). Elexonpy is pointed at it through its Configuration host.
- gridwarehouse: `gridwarehouse load bmrs --dataset BOALF --from --to` into a fresh warehouse
  (typed and checked records, merged on the natural key, a load-log row per window).
- Elexonpy: `DatasetsApi.datasets_boalf_stream_get` per window, its model objects turned into a
  pandas DataFrame (`to_dict()` per object, the client's documented way to read them) and
  appended with DuckDB's from-DataFrame insert into a fresh DuckDB file, in one process,
  one window after another as its API is called. It does no key merge, type checks or load log:
  less work than the loader does, which the figure does not hide.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bmrs_load import HOUR, load_range, serve, write_synthetic_bodies  # noqa: E402
from bench.common import Session, marked, timed  # noqa: E402
from loaders.common.timeutil import rfc3339  # noqa: E402

ELEXONPY_VERSION = "1.0.16"


def elexonpy_api(base_url: str) -> Any:
    """Elexonpy's datasets API pointed at `base_url`; exits with the reason when it cannot be."""
    try:
        from elexonpy.api.datasets_api import DatasetsApi
        from elexonpy.api_client import ApiClient
        from elexonpy.configuration import Configuration
    except ImportError as exc:
        raise SystemExit(
            f"elexonpy is not installed ({exc}): run `uv sync --group bench-peers` "
            f"(elexonpy=={ELEXONPY_VERSION}), then this command with `uv run --group bench-peers`"
        ) from exc
    version = metadata.version("elexonpy")
    print(f"  elexonpy {version}, host {base_url}")
    configuration = Configuration()
    configuration.host = base_url  # the public API's base path is replaced whole
    return DatasetsApi(ApiClient(configuration))


def elexonpy_fetch_and_land(base_url: str, hours: list[datetime], path: Path) -> int:
    """Fetch each hourly window with Elexonpy and append it to a DuckDB table; returns rows."""
    import duckdb
    import pandas as pd

    api = elexonpy_api(base_url)
    con = duckdb.connect(str(path))
    try:
        for hour in hours:
            # the same query text the loader sends (a datetime would be sent as +00:00)
            records = api.datasets_boalf_stream_get(rfc3339(hour), rfc3339(hour + HOUR))
            frame = pd.DataFrame([r.to_dict() for r in records])  # noqa: F841  (read by name)
            if not con.execute(
                "select count(*) from duckdb_tables() where table_name = 'boalf'"
            ).fetchone()[0]:
                con.execute("create table boalf as select * from frame")
            else:
                con.execute("insert into boalf by name select * from frame")
        return con.execute("select count(*) from boalf").fetchone()[0]
    finally:
        con.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=1, help="Elexonpy lands ~100x slower")
    parser.add_argument("--copies-per-day", type=int, default=250, help="x1000 rows a day")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--quick", action="store_true", help="1 day x 20k rows: a quick look")
    args = parser.parse_args()
    if args.quick:
        args.days, args.copies_per_day = 1, 20
    return args


def main() -> int:
    args = parse_args()
    session = Session("bench/elexonpy_peer.py")
    print(
        f"SYNTHETIC data: {args.days} days x {args.copies_per_day * 1000:,} BOALF rows/day "
        "(recorded real records, shifted and renumbered), hourly bodies"
    )
    bodies = write_synthetic_bodies(args.cache, args.days, args.copies_per_day)
    server = serve(bodies)
    workdir = Path(tempfile.mkdtemp(prefix="gw-bench-peer-"))
    try:
        peer_rows, peer = timed(
            "Elexonpy fetch + DataFrame + DuckDB insert",
            lambda: elexonpy_fetch_and_land(
                server.base_url("bmrs"), sorted(bodies), workdir / "elexonpy.duckdb"
            ),
        )
        print(f"  {peer.line()}: {peer_rows:,} rows")
        (_, _, rows), ours = timed(
            "gridwarehouse load bmrs", lambda: load_range(workdir / "gw", server, args.days)
        )
        print(f"  {ours.line()}: {rows:,} rows")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if peer_rows != rows:
        print(f"  note: the two landed different row counts ({rows:,} vs {peer_rows:,})")
    ours_rate, peer_rate = rows / ours.seconds, peer_rows / peer.seconds
    print(
        f"\nFIGURE gridwarehouse vs Elexonpy, fetch + land in DuckDB: {ours_rate / peer_rate:.2f}x"
        f"{marked(ours, peer)}  ({ours_rate:,.0f} vs {peer_rate:,.0f} rows/s, same bytes)"
    )
    session.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
