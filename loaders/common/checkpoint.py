"""How far each dataset is loaded, cached beside the dlt pipelines, so an incremental run with
nothing due answers at CLI start-up speed without opening the warehouse.

`ops.load_log` stays the truth: this file is rewritten from it under the warehouse write lock
after every commit, and ignored when it belongs to another warehouse file (or none). Deleting
it is always safe. Standard library only: it runs before anything heavy is imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Incremental loads stop at "now" rounded down to this step, so a run repeated within the step
# finds nothing due and returns at once.
INCREMENTAL_STEP = timedelta(minutes=5)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_time(instant: datetime, step: timedelta) -> datetime:
    return _EPOCH + ((instant - _EPOCH) // step) * step


def is_due(
    *,
    snapshot: bool,
    refresh: timedelta,
    last_end: datetime | None,
    last_snapshot: datetime | None,
    now: datetime,
) -> bool:
    """Whether an incremental run has new windows to load for a dataset (windows to fetch
    again are asked separately: retry_due)."""
    if snapshot:
        return last_snapshot is None or last_snapshot < floor_time(now, refresh)
    return last_end is None or last_end < floor_time(now, INCREMENTAL_STEP)


def retry_due(
    windows: Sequence[tuple[datetime, datetime]], *, lookback: timedelta, now: datetime
) -> list[tuple[datetime, datetime]]:
    """The windows to fetch again now: those ending within the look-back (or still to end: a
    forecast window is fetched again every cycle until it has ended, so its latest values land)."""
    return [(lo, hi) for lo, hi in windows if hi > now - lookback]


def cache_path(pipelines_dir: Path, source: str) -> Path:
    return pipelines_dir / f"{source}.loaded.json"


def _warehouse_id(duckdb_path: Path) -> str | None:
    try:
        stat = duckdb_path.stat()
    except OSError:
        return None
    return f"{duckdb_path.resolve()}:{stat.st_ino}"


def write_cache(
    pipelines_dir: Path,
    duckdb_path: Path,
    source: str,
    datasets: Mapping[str, Mapping[str, Any]],
    states: Mapping[str, Any],
) -> None:
    """Rewrite the cache: per dataset its kind, refresh and what the load log says is loaded."""
    entries = {}
    for name, info in datasets.items():
        state = states.get(name)
        entries[name] = {
            **info,
            "last_end": state.last_end.isoformat() if state and state.last_end else None,
            "last_snapshot": state.last_snapshot.isoformat()
            if state and state.last_snapshot
            else None,
            # a failed window in the look-back means "not a no-op" (its end is enough to tell)
            "retry_ends": sorted({hi.isoformat() for _, hi in state.retry}) if state else [],
        }
    body = {"warehouse": _warehouse_id(duckdb_path), "datasets": entries}
    path = cache_path(pipelines_dir, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body))
    os.replace(tmp, path)


def nothing_due(
    pipelines_dir: Path,
    duckdb_path: Path,
    source: str,
    names: Sequence[str] | None,
    now: datetime | None = None,
    *,
    lookback: timedelta,
) -> bool:
    """True only when the cache is this warehouse's and no dataset asked for is due
    (`names` None: every dataset of the source). Any doubt answers False."""
    try:
        body = json.loads(cache_path(pipelines_dir, source).read_text())
    except (OSError, ValueError):
        return False
    if body.get("warehouse") is None or body["warehouse"] != _warehouse_id(duckdb_path):
        return False
    # names match case-insensitively (BMRS names are upper-case, ISO-NE's lower-case)
    entries = {name.upper(): entry for name, entry in body.get("datasets", {}).items()}
    wanted = list(entries) if names is None else [n.upper() for n in names]
    if not wanted or any(name not in entries for name in wanted):
        return False
    now = now or datetime.now(UTC)
    for name in wanted:
        entry = entries[name]
        if is_due(
            snapshot=entry["snapshot"],
            refresh=timedelta(seconds=entry["refresh_s"]),
            last_end=_parse(entry["last_end"]),
            last_snapshot=_parse(entry["last_snapshot"]),
            now=now,
        ):
            return False
        if "retry_ends" not in entry:
            return False  # a cache from before retries were tracked: let the load decide
        retries = [(end, end) for end in map(_parse, entry["retry_ends"]) if end is not None]
        if retry_due(retries, lookback=lookback, now=now):
            return False
    return True


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
