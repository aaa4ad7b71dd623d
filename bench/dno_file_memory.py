"""DNO file memory benchmark: peak RSS loading a 10x larger `--file` vs the smaller one.

    uv run python bench/dno_file_memory.py             # 12 MB and 120 MB CSV files
    uv run python bench/dno_file_memory.py --mb 3      # a quicker look (3 MB and 30 MB)

The files are SYNTHETIC (write_synthetic_ecr_csv): the Embedded Capacity Register's real
column names (tests/data/synthetic/dno/synthetic_UKPN_connection_queue.csv) with invented,
all-distinct rows, written once to bench/.cache/. Each size loads into a fresh warehouse with
`gridwarehouse load dno --file F --dno UKPN --dataset connection_queue` in its own process, and
the process's own peak RSS (VmHWM) is measured. A file streams from disk in bounded batches, so
the 10x file should need about the same memory: target ratio <= 1.5x. The second line is the
larger file's peak RSS over its size (the issue's 126 MB file peaked at 20x).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import GRIDWAREHOUSE, Session, environment, run_measured  # noqa: E402

HEADER_FILE = ROOT / "tests" / "data" / "synthetic" / "dno" / "synthetic_UKPN_connection_queue.csv"
CACHE = ROOT / "bench" / ".cache" / "dno"
TARGET = 1.5


def write_synthetic_ecr_csv(path: Path, megabytes: float) -> int:
    """A SYNTHETIC register of about `megabytes` MB (real header, invented rows); its rows."""
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            return sum(1 for _ in handle) - 1
    with HEADER_FILE.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    rows = 0
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        while handle.tell() < megabytes * 1_000_000:
            writer.writerow(_synthetic_row(rows, len(header)))
            rows += 1
    partial.rename(path)
    return rows


def _synthetic_row(n: int, width: int) -> list[str]:
    base = [
        f"SYNTHETIC{n:010d}",
        "not applicable",
        f"Synthetic Energy {n % 997} Ltd",
        f"Synthetic Site {n}",
        f"{n % 300} Made Up Road",
        "",
        f"Synthtown {n % 1500}",
        f"County {n % 40}",
        f"ZZ{n % 99} {n % 9}ZZ",
        "England",
        str(400000 + n % 200000),
        str(100000 + n % 500000),
        f"Synthetic GSP {n % 350}",
        f"Synthetic BSP {n % 1200}",
        f"Synthetic Primary {n % 5000}",
        ("0.4", "11", "33", "132")[n % 4],
        ("EPN", "LPN", "SPN")[n % 3],
        ("Solar", "Wind", "Stored Energy", "Fossil - Gas")[n % 4],
        ("Photovoltaic", "Onshore", "Battery", "Reciprocating engine")[n % 4],
        ("No", "Yes")[n % 7 == 0],
        str(n % 50),
        str(n % 4),
        f"{(n % 4990) / 100:.2f}",
    ]
    return (base + [""] * width)[:width]


def load_peak(data_dir: Path, path: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of loading the file into a fresh warehouse."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    args = [GRIDWAREHOUSE, "load", "dno", "--file", path, "--dno", "UKPN"]
    args += ["--dataset", "connection_queue"]
    elapsed, peak, _ = run_measured([str(a) for a in args], environment(data_dir, ""))
    return elapsed, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=12.0, help="size of the smaller file (MB)")
    args = parser.parse_args()
    session = Session("bench/dno_file_memory.py")
    small = CACHE / f"synthetic_ecr_{args.mb:g}mb.csv"
    large = CACHE / f"synthetic_ecr_{args.mb * 10:g}mb.csv"
    measured = []
    for path, megabytes in ((small, args.mb), (large, args.mb * 10)):
        rows = write_synthetic_ecr_csv(path, megabytes)
        seconds, peak = load_peak(CACHE / "warehouse", path)
        size_mb = path.stat().st_size / 1e6
        measured.append((size_mb, peak))
        print(
            f"{size_mb:7.1f} MB file, {rows:>9,} rows: {seconds:6.1f}s, peak RSS "
            f"{peak / 1024:7.1f} MB"
        )
    shutil.rmtree(CACHE / "warehouse", ignore_errors=True)
    (small_mb, small_peak), (large_mb, large_peak) = measured
    ratio = large_peak / small_peak
    verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
    print(f"memory: peak RSS {large_mb / small_mb:.0f}x file / 1x file = {ratio:.2f}x "
          f"(target <= {TARGET}x) {verdict}")  # fmt: skip
    print(f"peak RSS / file size for the larger file: {large_peak * 1024 / (large_mb * 1e6):.1f}x")
    session.finish()
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
