"""`gridwarehouse status`: freshness and health per source and dataset, from the ops tables.

For each dataset that has been loaded (or is scheduled): its last successful window, the lag
behind now, its cadence, rows and failures in the last 24 hours, and the latest error; the IRIS
receiver's message rates, drops and secret expiry. A scheduled dataset is `stale` when its lag
passes the source's threshold (GRIDWAREHOUSE_STALE_AFTER) and `failing` when its latest load
failed; either makes the exit code 3, so cron or monitoring can alert on it. What is known is
gathered in status_report; this module shows it as text (status_page as HTML).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders.operations.status_page import render_html, serve_status
from loaders.operations.status_report import (
    DEFAULT_STALE_AFTER,
    SOURCE_NAMES,
    DatasetStatus,
    IrisStatus,
    Report,
    Shown,
    collect,
    health_line,
    human_lag,
    shown_datasets,
    stale_after,
)
from loaders.settings import Settings

EXIT_UNHEALTHY = 3

# imported from here by the tests, alerts' users and scripts
__all__ = [
    "DEFAULT_STALE_AFTER",
    "EXIT_UNHEALTHY",
    "SOURCE_NAMES",
    "DatasetStatus",
    "IrisStatus",
    "Report",
    "Shown",
    "collect",
    "health_line",
    "human_lag",
    "print_report",
    "shown_datasets",
    "stale_after",
    "status",
]


# -- rendering -------------------------------------------------------------------------------

_COLOURS = {"ok": "32", "stale": "33", "failing": "31", "never": "31", "unscheduled": "90"}


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


# the dataset table's columns: heading, alignment, and the narrowest width (what fits the usual
# values, so a column does not jump about as they change)
_COLUMNS = (
    ("DATASET", "<", 7),
    ("LAST WINDOW END", "<", 17),
    ("LAG", ">", 6),
    ("EVERY", ">", 7),
    ("ROWS 24H", ">", 10),
    ("FAIL 24H", ">", 8),
)


def _cells(d: DatasetStatus) -> tuple[str, ...]:
    """A dataset's row of the table, as text, in the order of _COLUMNS."""
    return (
        d.dataset,
        _when(d.last_window_end or d.last_success_at),
        human_lag(d.lag_s),
        d.cadence or "-",
        f"{d.rows_24h:,}",
        str(d.failures_24h),
    )


def _widths(rows: list[tuple[str, ...]]) -> list[int]:
    """Each column as wide as its widest value (full names, a lag of years): nothing cut off,
    and no value pushes the rest of its row out of line."""
    return [
        max([minimum, len(heading), *(len(row[i]) for row in rows)])
        for i, (heading, _, minimum) in enumerate(_COLUMNS)
    ]


def _table_line(cells: tuple[str, ...], widths: list[int], state: str) -> str:
    padded = (
        f"{c:{align}{w}}" for c, (_, align, _), w in zip(cells, _COLUMNS, widths, strict=True)
    )
    return f"  {' '.join(padded)}  {state}"


def print_report(
    report: Report,
    stream: Any = None,
    colour: bool | None = None,
    *,
    settings: Settings | None = None,
    show_all: bool = False,
) -> None:
    out = stream or sys.stdout
    colour = out.isatty() if colour is None else colour

    def paint(state: str) -> str:
        return f"\033[{_COLOURS.get(state, '0')}m{state}\033[0m" if colour else state

    shown = shown_datasets(report, settings, show_all)
    # one set of widths for every source's table, so they line up with each other too
    widths = _widths([_cells(d) for group in shown.groups.values() for d in group])
    print(f"status at {_when(report.generated_at)} UTC — {report.warehouse}", file=out)
    header = _table_line(tuple(heading for heading, _, _ in _COLUMNS), widths, "STATE")
    for source in sorted(set(shown.groups) | set(shown.hidden)):
        print(f"\n{SOURCE_NAMES.get(source, source)} [{source}]", file=out)
        if shown.groups.get(source):
            print(header, file=out)
        for d in shown.groups.get(source, []):
            print(_table_line(_cells(d), widths, paint(d.state)), file=out)
        if shown.hidden.get(source):
            print(
                f"  + {shown.hidden[source]} more scheduled, never loaded "
                "(`gridwarehouse status --all` lists them)",
                file=out,
            )
    for q in report.iris:
        print(
            f"\nIRIS queue {q.queue}: {paint(q.state)}; receiver last seen {_when(q.last_seen_at)} "
            f"UTC; {q.messages_per_min_1h} msg/min over the last hour; "
            f"{q.connection_drops_24h} connection drops and {q.dead_letters_24h} dead-letters in 24h",
            file=out,
        )
        if q.warning:
            print(f"  warning: {q.warning}", file=out)
        for d in q.datasets:
            print(
                f"  {d.dataset:<20} {d.messages_per_min_1h:>7} msg/min  last message "
                f"{_when(d.last_message_at)}",
                file=out,
            )
    errors = [d for d in report.datasets if d.last_error and d.state == "failing"]
    if errors:
        print("\nerrors:", file=out)
        for d in errors:
            print(f"  {d.source} {d.dataset}: {d.last_error}", file=out)
    print(f"\n{health_line(report)}", file=out)
    if settings is not None and settings.target == "duckdb" and not settings.duckdb_path.exists():
        print(
            f"no warehouse at {settings.duckdb_path} yet: `make demo` or a "
            "`gridwarehouse load` creates it",
            file=out,
        )


def status(
    settings: Settings, *, as_json: bool, html: str | None = None, serve: bool = False,
    port: int = 0, show_all: bool = False,
) -> int:  # fmt: skip
    """`gridwarehouse status`: exit 3 when a scheduled dataset is stale or failing."""
    if serve:
        return serve_status(settings, port, show_all=show_all)
    report = collect(settings)
    if html:
        path = Path(html)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            render_html(report, shown_datasets(report, settings, show_all)), encoding="utf-8"
        )
        print(f"status page written to {path}", file=sys.stderr)
    if as_json:
        json.dump(report.as_json(), sys.stdout, indent=2)
        print()
    elif not html:
        print_report(report, settings=settings, show_all=show_all)
    return EXIT_UNHEALTHY if report.unhealthy else 0
