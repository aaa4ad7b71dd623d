"""`gridwarehouse check-endpoints`: probe every configured endpoint and the warehouse, keep history.

Each probe is one quick request (no retries, a short timeout). Verdicts: ok, needs token (a
required token is not set), forbidden (401/403), not found (404: a moved dataset), down
(unreachable, timed out, 5xx). Every result is appended to `ops.endpoint_status`, so a user can
see when a refused portal opens up. The exit code is 1 when a required endpoint is down.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from loaders.common.http import redact_url
from loaders.logs import redact
from loaders.settings import Settings

TIMEOUT_S = 10.0


@dataclass
class Probe:
    source: str
    endpoint: str
    url: str
    required: bool = False
    http_status: int | None = None
    latency_ms: float | None = None
    verdict: str = "down"
    detail: str = ""


def _verdict(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "forbidden"
    if status == 404:
        return "not found"
    return "down"


def probe_http(probe: Probe, client: httpx.Client, headers: dict[str, str] | None = None) -> Probe:
    began = time.monotonic()
    try:
        response = client.get(probe.url, headers=headers)
        probe.http_status = response.status_code
        probe.verdict = _verdict(response.status_code)
        if probe.verdict != "ok":
            probe.detail = response.text[:120].replace("\n", " ")
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:  # every httpx class
        probe.verdict, probe.detail = "down", f"{type(exc).__name__}: {exc}"[:200]
    probe.latency_ms = round((time.monotonic() - began) * 1000, 1)
    return probe


def probe_tcp(probe: Probe, host: str, port: int) -> Probe:
    began = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            probe.verdict = "ok"
    except OSError as exc:
        probe.verdict, probe.detail = "down", f"{type(exc).__name__}: {exc}"[:200]
    probe.latency_ms = round((time.monotonic() - began) * 1000, 1)
    return probe


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
            from loaders.common.warehouse import connect_duckdb

            # during a dbt build this answers from the build's snapshot, without waiting
            con = connect_duckdb(settings, read_only=True, ops_only=True)
            try:
                con.execute("select 1").fetchone()
            finally:
                con.close()
        else:
            from loaders.common.bigquery_ops import bigquery_client

            bigquery_client(settings).query("select 1").result()
        probe.verdict = "ok"
    except Exception as exc:  # any failure to answer `select 1` is the verdict, with its reason
        probe.verdict, probe.detail = "down", f"{type(exc).__name__}: {exc}"[:200]
    probe.latency_ms = round((time.monotonic() - began) * 1000, 1)
    return probe


def planned_probes(settings: Settings) -> list[tuple[Probe, Callable[[httpx.Client], Probe]]]:
    """Every configured endpoint, with how to probe it."""
    from loaders.sources.dno.source import load_portals
    from loaders.sources.neso.source import load_datasets

    probes: list[tuple[Probe, Callable[[httpx.Client], Probe]]] = []

    def http(probe: Probe, headers: dict[str, str] | None = None) -> None:
        probes.append((probe, lambda client: probe_http(probe, client, headers)))

    http(Probe("bmrs", "health", f"{settings.base_url('bmrs')}/health", required=True))
    for name, dataset in load_datasets().items():
        http(
            Probe(
                "neso",
                name,
                f"{settings.base_url('neso')}/package_show?id={dataset.package}",
                required=True,
            )
        )
    for dno, portal in load_portals(settings).items():
        token = settings.secret(portal.token_env)
        for kind, ref in portal.datasets.items():
            if portal.platform == "opendatasoft":
                url = f"{portal.base_url}/api/explore/v2.1/catalog/datasets/{ref}"
                headers = {"Authorization": f"Apikey {token}"} if token else None
            else:
                url = f"{portal.base_url}/package_show?id={ref['package']}"
                headers = {"Authorization": token} if token else None
            probe = Probe("dno", f"{dno} {kind}", url)
            if portal.token_required and not token:
                probe.verdict, probe.detail = "needs token", f"set {portal.token_env}"
                probes.append((probe, lambda client, p=probe: p))
            else:
                http(probe, headers)
    probes += _isone_probes(settings)
    iris = _iris_target(settings)
    if iris is not None:
        host, port = iris
        probe = Probe("iris", "namespace", f"amqps://{host}:{port}")
        probes.append((probe, lambda client: probe_tcp(probe, host, port)))
    return probes


def _isone_probes(settings: Settings) -> list[tuple[Probe, Callable[[httpx.Client], Probe]]]:
    """ISO-NE: web services (one cheap call, with credentials) and each website report used."""
    from loaders.common.http import full_url
    from loaders.sources.isone.config import load_config
    from loaders.sources.isone.plan import market_day
    from loaders.sources.isone.source import CREDENTIALS_HELP, auth_headers, request_for

    headers = auth_headers(settings)
    web = Probe("isone", "web services", f"{settings.base_url('isone')}/locations")
    if headers:
        probes = [(web, lambda client: probe_http(web, client, headers))]
    else:
        web.verdict, web.detail = "needs token", CREDENTIALS_HELP
        probes = [(web, lambda client: web)]
    # website reports answer a plain GET (today's); the wsclient form endpoint only a POST
    today = market_day(datetime.now(UTC))
    for dataset in load_config().datasets.values():
        endpoint = dataset.endpoint
        if endpoint.host != "www" or endpoint.form is not None:
            continue
        path, query, _ = request_for(endpoint, None, today if dataset.backfillable else None)
        url = full_url(f"{settings.base_url('isone_www')}{path}", query)
        probe = Probe("isone", dataset.name, url)
        probes.append((probe, lambda client, p=probe: probe_http(p, client)))
    return probes


def _iris_target(settings: Settings) -> tuple[str, int] | None:
    """The IRIS Service Bus host and port, when IRIS is configured."""
    connection = settings.secret("IRIS_CONNECTION_STRING")
    if connection:
        from loaders.sources.iris.receiver import check_connection_string

        check_connection_string(connection)  # a malformed one is bad input (exit 2), not a probe
        endpoint = dict(part.split("=", 1) for part in connection.split(";") if "=" in part).get(
            "Endpoint", ""
        )
        parts = urlsplit(endpoint)
        if parts.hostname:
            emulator = "usedevelopmentemulator=true" in connection.lower()
            return parts.hostname, parts.port or (5672 if emulator else 5671)
    namespace = settings.iris_namespace if settings.secret("IRIS_CLIENT_SECRET") else None
    if namespace:
        host = namespace if "." in namespace else f"{namespace}.servicebus.windows.net"
        return host, 5671
    return None


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
        from loaders.common.bigquery_ops import record_endpoint_status

        record_endpoint_status(settings, rows)
        return
    from loaders.common.ops import ensure_ops_tables
    from loaders.common.warehouse import connect_duckdb, write_lock

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
