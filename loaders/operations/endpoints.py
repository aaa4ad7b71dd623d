"""`gridwarehouse check-endpoints`: probe every configured endpoint and the warehouse, keep history.

Each probe is one quick request (no retries, a short timeout). Verdicts: ok, needs token (a
required token is not set), forbidden (401/403), not found (404: a moved dataset), down
(unreachable, timed out, 5xx). Every result is appended to `ops.endpoint_status`, so a user can
see when a refused portal opens up. The exit code is 1 when a required endpoint is down.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime

import httpx

from loaders.common.bigquery_ops import bigquery_client, record_endpoint_status
from loaders.common.http import redact_url
from loaders.common.ops import ensure_ops_tables
from loaders.common.probes import TIMEOUT_S, Planned, Probe, probe_http, probe_tcp
from loaders.common.warehouse import connect_duckdb, write_lock
from loaders.logs import redact
from loaders.settings import Settings
from loaders.sources import registry

# the probes moved to loaders.common.probes (sources describe their endpoints with them)
__all__ = ["Probe", "check", "planned_probes", "probe_http", "probe_tcp", "probe_warehouse"]


def probe_warehouse(settings: Settings) -> Probe:
    probe = Probe(
        "warehouse",
        settings.target,
        str(settings.duckdb_path)
        if settings.target == "duckdb"
        else f"bigquery:{settings.bq_project}",
        required=True,
    )
    began = time.monotonic()
    try:
        if settings.target == "duckdb":
            # during a dbt build this answers from the build's snapshot, without waiting
            con = connect_duckdb(settings, read_only=True, ops_only=True)
            try:
                con.execute("select 1").fetchone()
            finally:
                con.close()
        else:
            bigquery_client(settings).query("select 1").result()
        probe.verdict = "ok"
    except Exception as exc:  # any failure to answer `select 1` is the verdict, with its reason
        probe.verdict, probe.detail = "down", f"{type(exc).__name__}: {exc}"[:200]
    probe.latency_ms = round((time.monotonic() - began) * 1000, 1)
    return probe


def planned_probes(settings: Settings) -> list[Planned]:
    """Every configured endpoint of every source, with how to probe it."""
    return [planned for source in registry.every() for planned in source.probes(settings)]


def check(settings: Settings, *, as_json: bool) -> int:
    """Probe everything, print the table (or JSON), record history; 1 if a required one is down."""
    probes = []
    with httpx.Client(
        timeout=TIMEOUT_S,
        follow_redirects=True,
        headers={"Accept": "application/json", "User-Agent": "gridwarehouse"},
    ) as client:
        for _, run in planned_probes(settings):
            probes.append(run(client))
    probes.append(probe_warehouse(settings))
    for p in probes:  # a probe's detail may quote an upstream body that echoes a key
        p.detail = redact(p.detail) or ""
    checked_at = datetime.now(UTC)
    _record(settings, probes, checked_at)
    down = [p for p in probes if p.required and p.verdict == "down"]
    if as_json:
        json.dump(
            {
                "checked_at": checked_at.isoformat(),
                "required_down": len(down),
                "endpoints": [{**asdict(p), "url": redact_url(p.url)} for p in probes],
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        _print_table(probes)
        if down:
            print(
                f"\n{len(down)} required endpoint(s) down: "
                + ", ".join(f"{p.source} {p.endpoint}" for p in down)
            )
    return 1 if down else 0


def _print_table(probes: list[Probe]) -> None:
    tty = sys.stdout.isatty()
    colours = {"ok": "32", "needs token": "33", "forbidden": "33", "not found": "33", "down": "31"}
    print(f"{'SOURCE':<10} {'ENDPOINT':<34} {'HTTP':>5} {'LATENCY':>9}  VERDICT")
    for p in probes:
        verdict = f"\033[{colours[p.verdict]}m{p.verdict}\033[0m" if tty else p.verdict
        latency = f"{p.latency_ms:.0f} ms" if p.latency_ms is not None else "-"
        status = str(p.http_status) if p.http_status is not None else "-"
        detail = f"  ({p.detail})" if p.detail and p.verdict != "ok" else ""
        print(
            f"{p.source:<10} {p.endpoint[:34]:<34} {status:>5} {latency:>9}  {verdict}{detail[:100]}"
        )


ENDPOINT_STATUS_DDL = """create table if not exists ops.endpoint_status (
    checked_at timestamptz not null, source varchar not null, endpoint varchar not null,
    url varchar, required boolean, http_status integer, latency_ms double, verdict varchar not null,
    detail varchar
)"""


def _record(settings: Settings, probes: list[Probe], checked_at: datetime) -> None:
    rows = [
        (
            checked_at,
            p.source,
            p.endpoint,
            redact_url(p.url),
            p.required,
            p.http_status,
            p.latency_ms,
            p.verdict,
            p.detail,
        )
        for p in probes
    ]
    if settings.target != "duckdb":
        record_endpoint_status(settings, rows)
        return
    with write_lock(settings, "check-endpoints"):
        con = connect_duckdb(settings)
        try:
            ensure_ops_tables(con)
            con.execute(ENDPOINT_STATUS_DDL)
            con.executemany(
                "insert into ops.endpoint_status values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        finally:
            con.close()
