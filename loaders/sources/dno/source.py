"""DNO open-data portals (OpenDataSoft and CKAN), one config file, one raw table per kind.

Each DNO group publishes its datasets under its own ids and column names (portals.toml). A
dataset lands in raw_dno.<kind> with a `dno` column; staging maps the column names to one shape
per kind. A portal that refuses (401/403) or lacks a required token is recorded as forbidden /
needs_token with the variable to set and the DNO's data contact, and is not asked again for a
week (or until `--force`); a moved dataset (404) is recorded as not_found with its URL.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from loaders.common.commit import merge_resource
from loaders.common.engine import FetchResult, Task, Window
from loaders.common.http import HttpClient, RateLimiter, RetryPolicy, whole_array
from loaders.common.jsonrows import convert, csv_array
from loaders.common.keyhash import key_columns
from loaders.common.portals import ods_export_path, package_resources, raw_bytes
from loaders.common.records import RecordError
from loaders.common.text import not_utf8
from loaders.errors import (
    BadResponseError,
    HttpStatusError,
    SourceError,
    UsageError,
    error_kind,
)
from loaders.settings import Settings
from loaders.sources.dno.files import StreamedTable, convert_file

SOURCE = "dno"
RAW_SCHEMA = "raw_dno"
KINDS = ("headroom", "flexibility", "outages", "connection_queue", "powerflow")
CONFIG = Path(__file__).with_name("portals.toml")
CONTACTS = Path(__file__).resolve().parents[3] / "seeds" / "dno_contacts.csv"
REFUSED_RETRY = timedelta(days=7)  # a refusing portal is asked again after this long


@dataclass(frozen=True)
class Portal:
    dno: str
    platform: str
    base_url: str
    token_env: str
    token_required: bool
    datasets: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)


@cache
def _config(path: Path = CONFIG) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def load_portals(settings: Settings) -> dict[str, Portal]:
    """The portal config, with GRIDWAREHOUSE_DNO_<DNO>_BASE_URL overrides applied."""
    portals = {}
    for dno, entry in _config().items():
        unknown = set(entry.get("datasets", {})) - set(KINDS)
        if unknown:
            raise UsageError(
                f"{CONFIG}: {dno} lists unknown kinds {sorted(unknown)}; kinds are {', '.join(KINDS)}"
            )
        portals[dno] = Portal(
            dno=dno,
            platform=entry["platform"],
            base_url=settings.dno_base_urls.get(dno.upper(), entry["base_url"]).rstrip("/"),
            token_env=entry.get("token_env", f"{dno.upper()}_API_TOKEN"),
            token_required=bool(entry.get("token_required", False)),
            datasets=dict(entry.get("datasets", {})),
            keys=dict(entry.get("keys", {})),
        )
    return portals


@cache
def contacts() -> dict[str, str]:
    with CONTACTS.open(newline="") as fh:
        return {row["dno_group"]: row["data_contact_email"] for row in csv.DictReader(fh)}


def contact_text(dno: str) -> str:
    email = contacts().get(dno, "")
    return (
        f"ask {dno}'s data contact ({email})"
        if email
        else f"ask {dno} (no data contact address is known)"
    )


def dataset_name(dno: str, kind: str) -> str:
    """The load log's name for one DNO's dataset of one kind, e.g. UKPN.powerflow."""
    return f"{dno}.{kind}"


def split_name(name: str) -> tuple[str, str]:
    dno, _, kind = name.partition(".")
    return dno, kind


class DnoAdapter:
    """Fetches DNO datasets (portal or file) for the engine."""

    source = SOURCE
    raw_schema = RAW_SCHEMA

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.portals = load_portals(settings)
        self.loaded_at = datetime.now(UTC)
        self.clients: dict[str, HttpClient] = {}
        self.client = _Requests(self.clients)
        self.files: dict[str, tuple[StreamedTable, list[str]]] = {}

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        for streamed, _ in self.files.values():
            streamed.discard()  # converted files a run did not get to commit

    def _client(self, portal: Portal) -> HttpClient:
        if portal.dno not in self.clients:
            token = self.settings.secret(portal.token_env)
            header = "Authorization"
            value = (
                (f"Apikey {token}" if portal.platform == "opendatasoft" else token)
                if token
                else None
            )
            self.clients[portal.dno] = HttpClient(
                portal.base_url,
                timeout_s=self.settings.http_timeout_s,
                retry=RetryPolicy.from_settings(self.settings),
                limiter=RateLimiter(self.settings.requests_per_s(SOURCE)),
                headers={header: value} if value else None,
                service=portal.dno,
            )
        return self.clients[portal.dno]

    def plan(
        self,
        dnos: list[str],
        kinds: list[str],
        refused: dict[str, datetime],
        *,
        force: bool,
        now: datetime | None = None,
    ) -> tuple[list[Task], list[FetchResult]]:
        """Tasks for each configured (DNO, kind); refusals known in advance as results."""
        now = now or datetime.now(UTC)
        tasks, known = [], []
        for dno in dnos:
            portal = self.portals[dno]
            for kind in kinds:
                if kind not in portal.datasets:
                    continue
                task = Task(dataset_name(dno, kind), Window(None, None))
                since = refused.get(task.dataset)
                if not force and since is not None and now - since < REFUSED_RETRY:
                    known.append(
                        FetchResult(
                            task=task,
                            status="skipped",
                            error=f"refused on {since:%Y-%m-%d}; asked again from {since + REFUSED_RETRY:%Y-%m-%d} "
                            "(or use --force)",
                        )
                    )
                elif portal.token_required and not self.settings.secret(portal.token_env):
                    known.append(
                        FetchResult(
                            task=task,
                            status="needs_token",
                            error_kind="token",
                            error=f"{dno} {kind}: the {portal.platform} portal needs an API token: set "
                            f"{portal.token_env} (in the environment or .env); {contact_text(dno)}",
                        )
                    )
                else:
                    tasks.append(task)
        return tasks, known

    def add_file(self, dno: str, kind: str, path: Path) -> Task:
        """A task loading a file a user downloaded by hand from a portal. The file is checked
        and converted now, so a bad file is bad input (exit 2) before anything is written."""
        portal = self.portals.get(dno)
        converted, notes = convert_file(
            path,
            dno=dno,
            kind=kind,
            keys=portal.keys.get(kind, []) if portal else [],
            scratch=self.settings.data_dir / "tmp",
            loaded_at=self.loaded_at,
        )
        task = Task(dataset_name(dno, kind), Window(None, None), part=str(path))
        self.files[str(path)] = (converted, notes)
        return task

    def fetch(self, task: Task) -> FetchResult:
        dno, kind = split_name(task.dataset)
        result = FetchResult(task=task, status="ok")
        if task.part in self.files:
            streamed, notes = self.files[task.part]
            result.table, result.rows, result.notes = streamed, streamed.num_rows, list(notes)
            result.status = "ok" if result.rows else "empty"
            return result
        try:
            array, result.attempts = self._portal_records(self.portals[dno], kind)
            # no keys configured: every field identifies a record (portals.toml's default)
            converted = convert(
                array,
                (),
                self.portals[dno].keys.get(kind, []),
                published_field=None,
                source="api",
                loaded_at=self.loaded_at,
                scratch=self.settings.data_dir / "tmp",
                text_notes=False,
            )
            result.notes += converted.notes
            if converted.table is not None:
                result.table = with_dno(converted.table, dno)
                result.rows = converted.table.num_rows
            result.status = "ok" if result.rows else "empty"
        except SourceError as exc:
            result.status, result.error, result.error_kind = self._refusal(dno, kind, exc)
            result.attempts = exc.attempts
        except RecordError as exc:  # records without their key, a field name clash, drift
            result.records_failed(SOURCE, task.dataset, f"{dno} {kind}", exc)
        result.finished_at = datetime.now(UTC)
        return result

    def _refusal(self, dno: str, kind: str, exc: SourceError) -> tuple[str, str, str]:
        status = getattr(exc, "status", None)
        portal = self.portals.get(dno)
        if status in (401, 403) and portal is not None:
            return (
                "forbidden",
                f"{dno} refused {kind} ({exc.url}: HTTP {status}). Set {portal.token_env} "
                f"to an API token for {portal.base_url}, or {contact_text(dno)}",
                "forbidden",
            )
        if status == 404:
            return (
                "not_found",
                f"{dno} {kind}: no dataset at {exc.url} (HTTP 404): the id in loaders/sources/dno/portals.toml may have moved",
                "not_found",
            )
        return "failed", str(exc), error_kind(exc)

    def _portal_records(self, portal: Portal, kind: str) -> tuple[bytes, int]:
        client = self._client(portal)
        ref = portal.datasets[kind]
        if portal.platform == "opendatasoft":
            # checked inside the fetch, so a cut body is retried like a 5xx
            return client.fetch(ods_export_path(ref), decode=whole_array)
        records: list[dict[str, Any]] = []
        attempts = 0
        for resource in package_resources(client, ref["package"], ref.get("resources", ["*"])):
            url = urljoin(client.base_url + "/", resource.url)
            body, tries = client.fetch(url, decode=raw_bytes)
            attempts += tries
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError as exc:  # a failed window with its reason, not a crash
                raise BadResponseError(
                    f"{url} is {not_utf8(exc, end=len(body))}; no rows were taken from it",
                    url=url,
                ) from None
            try:
                records.extend(orjson.loads(csv_array(text)))
            except ValueError as exc:  # cut off mid-row: a failed window, not a crash
                raise BadResponseError(
                    f"{url} is not a whole CSV file ({exc}); no rows were taken from it", url=url
                ) from None
        return orjson.dumps(records), max(attempts, 1)

    def resource(self, dataset: str, tables: list[pa.Table]) -> Any:
        dno, kind = split_name(dataset)
        resource = merge_resource(_stream(tables), name=f"{dno}_{kind}".lower(), table_name=kind)
        # streamed, so the committer cannot read the key columns off the data (keyhash.py)
        resource.gw_key_columns = (kind, key_columns(tables))
        return resource

    def describe(self) -> dict[str, dict[str, Any]]:
        return {}


class _Requests:
    """Sums request counts over the per-portal clients (for the run summary)."""

    def __init__(self, clients: dict[str, HttpClient]) -> None:
        self._clients = clients

    class _Stats:
        def __init__(self, n: int) -> None:
            self.requests = n

    @property
    def stats(self) -> _Requests._Stats:
        return self._Stats(sum(c.stats.requests for c in self._clients.values()))

    def close(self) -> None:
        pass


def with_dno(table: pa.Table, dno: str) -> pa.Table:
    """Add the `dno` column and make the natural key unique across DNOs (the DNO leads it)."""
    n = table.num_rows
    if "dno" in table.column_names:  # the portal's own field (UKPN's licence area), as for files
        table = table.rename_columns(
            ["source_dno" if c == "dno" else c for c in table.column_names]
        )
    index = table.schema.get_field_index("_natural_key")
    keys = pc.binary_join_element_wise(
        f'["{dno}",', pc.utf8_slice_codeunits(table.column(index), 1), ""
    )
    table = table.set_column(index, pa.field("_natural_key", pa.string(), nullable=False), keys)
    return table.add_column(0, "dno", pa.array([dno] * n, pa.string()))


def _stream(tables: list[Any]) -> Iterator[pa.Table]:
    """The tables to load; a converted file is read back in bounded batches and removed."""
    for table in tables:
        if isinstance(table, StreamedTable):
            try:
                yield from table.batches()
            finally:
                table.discard()
        else:
            yield table


def latest_refusals(settings: Settings) -> dict[str, datetime]:
    """When each DNO dataset was last refused, if its latest attempt was a refusal."""
    if settings.target != "duckdb" or not settings.duckdb_path.exists():
        return {}
    from loaders.common.warehouse import connect_duckdb

    con = connect_duckdb(settings, read_only=True, ops_only=True)
    try:
        exists = con.execute(
            "select 1 from information_schema.tables where table_schema = 'ops' "
            "and table_name = 'load_log'"
        ).fetchall()
        if not exists:
            return {}
        rows = con.execute(
            """select dataset, status, finished_at from (
                   select dataset, status, finished_at,
                          row_number() over (partition by dataset order by finished_at desc) as rn
                   from ops.load_log where source = 'dno' and status != 'skipped')
               where rn = 1 and status in ('forbidden', 'needs_token')"""
        ).fetchall()
        return {dataset: finished.astimezone(UTC) for dataset, _, finished in rows}
    finally:
        con.close()


__all__ = ["KINDS", "DnoAdapter", "HttpStatusError", "latest_refusals", "load_portals"]
