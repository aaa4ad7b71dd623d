"""The status page: one self-contained HTML file (inline CSS and SVG, nothing fetched), and a
live server on 127.0.0.1 that rebuilds it on request and tells the browser to reload every 30 s.
"""

from __future__ import annotations

import html
import json
import math
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from loaders.common.runner import graceful_stop
from loaders.operations.status_report import (
    SOURCE_NAMES,
    Report,
    Shown,
    collect,
    human_lag,
    shown_datasets,
)
from loaders.settings import Settings

REFRESH_S = 30
STATE_COLOURS = {
    "ok": "#1a7f37",
    "stale": "#bf8700",
    "failing": "#cf222e",
    "never": "#cf222e",
    "unscheduled": "#6e7781",
}
SOURCE_COLOURS = {
    "bmrs": "#0969da",
    "neso": "#8250df",
    "dno": "#1a7f37",
    "isone": "#bc4c00",
    "iris": "#bf3989",
}

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#59636e}.badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #d1d9e0;
text-align:left;white-space:nowrap}th{background:#f6f8fa}td.num{text-align:right}
.state{font-weight:600}tr.group th{background:#eaeef2;font-size:15px;padding-top:10px}.err{color:#cf222e;white-space:normal;font-size:12px}
svg text{font:11px system-ui,sans-serif;fill:#59636e}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def freshness_table(report: Report, shown: Shown | None = None) -> str:
    """The freshness table, one titled group of rows per source; datasets left out are counted."""
    shown = shown or shown_datasets(report, None, show_all=True)
    rows = []
    for source in sorted(set(shown.groups) | set(shown.hidden)):
        rows.append(
            f'<tr class="group"><th colspan="8">{_e(SOURCE_NAMES.get(source, source))} '
            f"[{_e(source)}]</th></tr>"
        )
        for d in shown.groups.get(source, []):
            rows.append(_freshness_row(d))
        if shown.hidden.get(source):
            rows.append(
                f'<tr><td colspan="8" class="meta">+ {shown.hidden[source]} more scheduled, '
                "never loaded (<code>gridwarehouse status --all</code> lists them)</td></tr>"
            )
    return (
        '<table id="freshness"><thead><tr><th>source</th><th>dataset</th>'
        "<th>last window end (UTC)</th><th>lag</th><th>stale after</th><th>rows 24h</th>"
        f"<th>failures 24h</th><th>state</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _freshness_row(d: Any) -> str:
    colour = STATE_COLOURS.get(d.state, "#1f2328")
    error = f'<div class="err">{_e(d.last_error[:300])}</div>' if d.last_error else ""
    return (
        f'<tr id="ds-{_e(d.source)}-{_e(d.dataset)}"><td>{_e(d.source)}</td>'
        f"<td>{_e(d.dataset)}{error}</td>"
        f"<td>{_when(d.last_window_end or d.last_success_at)}</td>"
        f'<td class="num">{human_lag(d.lag_s)}</td>'
        f'<td class="num">{human_lag(d.threshold_s)}</td>'
        f'<td class="num">{d.rows_24h:,}</td><td class="num">{d.failures_24h}</td>'
        f'<td class="state" style="color:{colour}">{_e(d.state)}</td></tr>'
    )


def _short(rows: int) -> str:
    """A count that fits a heatmap cell: 950, 12k, 3.4M."""
    if rows >= 1_000_000:
        return f"{rows / 1_000_000:.1f}M"
    if rows >= 1000:
        return f"{rows // 1000}k"
    return str(rows)


def rows_heatmap(report: Report, days: int = 14) -> str:
    """Rows loaded per day per dataset: one row of cells per dataset, shaded by volume, each
    cell labelled with its count (a reader should not need to hover)."""
    end = report.generated_at.date()
    dates = [(end - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    volume: dict[str, dict[str, int]] = defaultdict(dict)
    for r in report.daily_rows:
        volume[f"{r['source']}.{r['dataset']}"][r["day"]] = int(r["rows_loaded"] or 0)
    names = sorted(volume)
    if not names:
        return '<p class="meta">No rows loaded in the last 14 days.</p>'
    top = max(max(v.values()) for v in volume.values()) or 1
    label_w = 16 + 7 * max(len(n) for n in names)  # full names, ~7 px a character
    cell, gap = 40, 2
    width = label_w + days * (cell + gap)
    height = 20 + len(names) * (16 + gap)
    parts = [f'<svg id="rows-chart" width="{width}" height="{height}" role="img">']
    for i, day in enumerate(dates):
        parts.append(f'<text x="{label_w + i * (cell + gap) + 4}" y="12">{day[5:]}</text>')
    for j, name in enumerate(names):
        y = 20 + j * (16 + gap)
        parts.append(f'<text x="0" y="{y + 12}">{_e(name)}</text>')
        for i, day in enumerate(dates):
            rows = volume[name].get(day, 0)
            share = math.log1p(rows) / math.log1p(top) if rows else 0.0
            fill = f"rgba(9,105,218,{0.12 + 0.88 * share:.2f})" if rows else "#f6f8fa"
            x = label_w + i * (cell + gap)
            ink = "#fff" if share > 0.55 else "#1f2328"
            label = (
                f'<text x="{x + cell / 2}" y="{y + 12}" text-anchor="middle" '
                f'style="fill:{ink}">{_short(rows)}</text>'
                if rows
                else ""
            )
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="16" fill="{fill}">'
                f"<title>{_e(name)} {day}: {rows:,} rows</title></rect>{label}"
            )
    parts.append("</svg>")
    return "".join(parts)


def durations_chart(report: Report, limit: int = 30) -> str:
    """Load durations: a horizontal bar per recent run, coloured by source, labelled with the
    source, start time, seconds, rows and failures."""
    runs = sorted(report.runs, key=lambda r: r["started_at"])[-limit:]
    if not runs:
        return '<p class="meta">No loads in the last 3 days.</p>'
    top = max(r["seconds"] for r in runs) or 1.0
    label_w, plot_w, row_h = 150, 360, 18
    width = label_w + plot_w + 330
    parts = [
        f'<svg id="durations-chart" width="{width}" height="{len(runs) * row_h + 8}" role="img">'
    ]
    for i, r in enumerate(runs):
        y = 4 + i * row_h
        w = max(1.0, plot_w * r["seconds"] / top)
        colour = SOURCE_COLOURS.get(r["source"], "#59636e")
        failed = f", {r['failed']} failed" if r["failed"] else ""
        parts.append(
            f'<text x="0" y="{y + 12}">{_e(r["source"])} {_when(r["started_at"])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 4}" fill="{colour}">'
            f"<title>{_e(r['source'])} run {_e(r['run_id'])}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 12}">{r["seconds"]:.1f}s · '
            f"{int(r['rows_loaded'] or 0):,} rows · {r['windows']} window{'s' if r['windows'] != 1 else ''}"
            f"{failed}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def iris_section(report: Report) -> str:
    if not report.iris:
        return ""
    blocks = []
    for q in report.iris:
        rows = "".join(
            f"<tr><td>{_e(d.dataset)}</td><td class='num'>{d.messages_per_min_1h}</td>"
            f"<td>{_when(d.last_message_at)}</td><td class='num'>{d.dead_letters_24h}</td></tr>"
            for d in q.datasets
        )
        warning = f'<p class="err">{_e(q.warning)}</p>' if q.warning else ""
        blocks.append(
            f"<h2>IRIS queue {_e(q.queue)} — <span style='color:"
            f"{STATE_COLOURS.get(q.state, '#1f2328')}'>{_e(q.state)}</span></h2>"
            f'<p class="meta">receiver last seen {_when(q.last_seen_at)} UTC · '
            f"{q.messages_per_min_1h} msg/min over the last hour · {q.connection_drops_24h} "
            f"connection drops and {q.dead_letters_24h} dead-letters in 24h</p>{warning}"
            "<table><thead><tr><th>dataset</th><th>msg/min (1h)</th><th>last message (UTC)</th>"
            f"<th>dead-letters 24h</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(blocks)


def _bad_counts(report: Report) -> str:
    """What the badge says is wrong, by state: "2 stale · 1 never loaded" (a scheduled dataset
    never loaded is a problem, but not a stale one)."""
    words = {"stale": "stale", "failing": "failing", "never": "never loaded"}
    counts = {state: 0 for state in words}
    for d in report.datasets:
        if d.state in counts:
            counts[d.state] += 1
    counts["stale"] += sum(1 for i in report.iris if i.state == "stale")
    return " · ".join(f"{n} {words[state]}" for state, n in counts.items() if n)


def render_html(report: Report, shown: Shown | None = None, *, live: bool = False) -> str:
    bad = report.unhealthy
    badge = (
        f'<span class="badge" style="background:{STATE_COLOURS["ok"]}">healthy</span>'
        if not bad
        else f'<span class="badge" style="background:{STATE_COLOURS["failing"]}">'
        f"{_bad_counts(report)}</span>"
    )
    refresh = f'<meta http-equiv="refresh" content="{REFRESH_S}">' if live else ""
    note = f" · refreshes every {REFRESH_S}s" if live else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{refresh}'
        f"<title>gridwarehouse status</title><style>{_CSS}</style></head><body>"
        f"<h1>gridwarehouse status {badge}</h1>"
        f'<p class="meta">generated {_when(report.generated_at)} UTC · {_e(report.warehouse)}'
        f"{note}</p>"
        f"<h2>Freshness</h2>{freshness_table(report, shown)}{iris_section(report)}"
        f"<h2>Rows loaded per day (last 14 days)</h2>{rows_heatmap(report)}"
        f"<h2>Load durations (last 3 days)</h2>{durations_chart(report)}"
        "</body></html>"
    )


class _Page:
    """The page, rebuilt at most every few seconds however often it is asked for."""

    def __init__(self, settings: Settings, show_all: bool = False) -> None:
        self.settings = settings
        self.show_all = show_all
        self._lock = threading.Lock()
        self._html = ""
        self._json = b"{}"
        self._built = 0.0

    def get(self) -> tuple[str, bytes]:
        with self._lock:
            if time.monotonic() - self._built > 5:
                report = collect(self.settings)
                shown = shown_datasets(report, self.settings, self.show_all)
                self._html = render_html(report, shown, live=True)
                self._json = json.dumps(report.as_json(), indent=2).encode()
                self._built = time.monotonic()
            return self._html, self._json


def serve_status(settings: Settings, port: int = 0, *, show_all: bool = False) -> int:
    """`gridwarehouse status --serve`: the live page on 127.0.0.1 until Ctrl-C or SIGTERM."""
    page = _Page(settings, show_all)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path not in ("/", "/index.html", "/status.json"):
                self.send_error(404)
                return
            try:
                text, data = page.get()
            except Exception as exc:  # a locked or missing warehouse: say so, keep serving
                self.send_error(503, f"status unavailable: {exc}")
                return
            body = data if path == "/status.json" else text.encode()
            kind = "application/json" if path == "/status.json" else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"status page: {url} (refreshes every {REFRESH_S}s; Ctrl-C to stop)", flush=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with graceful_stop() as stop:
        stop.wait()
    server.shutdown()
    server.server_close()
    print("status page stopped", file=sys.stderr)
    return 0
