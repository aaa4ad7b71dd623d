"""A load's summary as text: the lines the CLI, `run` and the demo's log show."""

from __future__ import annotations

import re
from collections.abc import Sequence

from loaders.common.engine import RunSummary


def group_errors(errors: Sequence[str]) -> list[tuple[str, int]]:
    """Window errors that differ only in the window (its label, the URL's query) grouped into
    one, keeping the first as it was: an offline service is one line, not one per window."""
    groups: dict[str, list[str]] = {}
    for error in errors:
        what = error.split(": ", 1)[-1]  # without the window label
        key = re.sub(r"\?[^\s:;,]*", "", what)
        groups.setdefault(key, []).append(error)
    return [(alike[0], len(alike)) for alike in groups.values()]


def summary_lines(summary: RunSummary) -> list[str]:
    """The headline (rows, windows, requests), then per dataset its windows and first errors."""
    windows = sum(
        d.windows_ok + d.windows_empty + d.windows_failed for d in summary.datasets.values()
    )
    lines = [
        f"{summary.source.upper()} load {'finished' if not summary.failed else 'finished with failures'} "
        f"in {summary.elapsed_s:.1f}s: {summary.rows:,} rows from {windows} window"
        f"{'s' if windows != 1 else ''} ({summary.requests} HTTP requests)"
    ]
    for name, d in sorted(summary.datasets.items()):
        parts = [f"{d.windows_ok} ok", f"{d.windows_empty} empty"]
        if d.windows_skipped:
            parts.append(f"{d.windows_skipped} skipped")
        if d.windows_failed:
            parts.append(f"{d.windows_failed} FAILED")
        lines.append(f"  {name:<24} {d.rows:>10,} rows   {', '.join(parts)}")
        groups = group_errors(d.errors)
        for error, count in groups[:3]:
            alike = (
                f" (and {count - 1} more window{'s' if count > 2 else ''} alike)"
                if count > 1
                else ""
            )
            lines.append(f"      {error}{alike}")
        if len(groups) > 3:
            lines.append(f"      … and {len(groups) - 3} more errors (see ops.load_log)")
    return lines


def stopped_line(not_attempted: int) -> str:
    """What an interrupted resumable load says: how to pick up the rest."""
    return f"stopped: run the same command again to load the remaining {not_attempted:,} windows"
