"""NESO data portal (CKAN): datasets by package, resources by name, loaded when they change.

A dataset (datasets.toml) is a CKAN package; each matching resource (a yearly file, a live
table) is fetched as CSV or through the datastore API and merged on the dataset's natural key.
A resource is loaded again only when its `last_modified` moves past the version already loaded,
which the raw table itself records (`_resource_id`, `_resource_modified`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import orjson
import pyarrow as pa

from loaders.common.commit import merge_resource
from loaders.common.engine import FetchResult, Task, Window
from loaders.common.http import HttpClient, RateLimiter, RetryPolicy, malformed
from loaders.common.jsonrows import convert, csv_array
from loaders.common.ops import SchemaChange, field_changes
from loaders.common.portals import Resource, datastore_pages, package_resources, raw_bytes
from loaders.common.records import FieldSpec, RecordError
from loaders.errors import (
    SourceError,
    UsageError,
    error_kind,
    unknown_names_error,
)
from loaders.settings import Settings

SOURCE = "neso"
RAW_SCHEMA = "raw_neso"
CONFIG = Path(__file__).with_name("datasets.toml")


@dataclass(frozen=True)
class NesoDataset:
    name: str
    package: str
    title: str
    resources: tuple[str, ...]
    via: str
    keys: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = field(default=())

    @property
    def table(self) -> str:
        return self.name


@cache
def load_datasets(path: Path = CONFIG) -> dict[str, NesoDataset]:
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    datasets = {}
    for name, entry in config.items():
        formats = tuple(entry.get("date_formats", ()))
        fields = tuple(
            FieldSpec(col, kind, formats if kind in ("date", "timestamp") else ())
            for col, kind in entry.get("fields", {}).items()
        )
        datasets[name] = NesoDataset(
            name=name,
            package=entry["package"],
            title=entry.get("title", name),
            resources=tuple(entry.get("resources", ["*"])),
            via=entry.get("via", "csv"),
            keys=tuple(entry.get("keys", ())),
            fields=fields,
        )
    return datasets


def resolve(names: list[str], all_: bool) -> list[NesoDataset]:
    datasets = load_datasets()
    if all_:
        return list(datasets.values())
    if not names:
        raise UsageError(
            "name at least one --dataset (or --all); `gridwarehouse datasets list neso` shows them"
        )
    unknown = [n for n in names if n.lower() not in datasets]
    if unknown:
        raise unknown_names_error(
            "NESO dataset", unknown, list(datasets), "gridwarehouse datasets list neso"
        )
    return [datasets[n.lower()] for n in dict.fromkeys(names)]


def make_client(settings: Settings) -> HttpClient:
    return HttpClient(
        settings.base_url(SOURCE),
        timeout_s=settings.http_timeout_s,
        retry=RetryPolicy.from_settings(settings),
        limiter=RateLimiter(settings.requests_per_s(SOURCE)),
        service="NESO",
    )


class NesoAdapter:
    """Plans resource tasks from the portal and fetches them for the engine."""

    source = SOURCE
    raw_schema = RAW_SCHEMA

    def __init__(self, settings: Settings, client: HttpClient | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.loaded_at = datetime.now(UTC)
        self.resources: dict[str, Resource] = {}

    def close(self) -> None:
        self.client.close()

    def plan(
        self, datasets: list[NesoDataset], loaded: dict[str, dict[str, datetime]]
    ) -> tuple[list[Task], list[FetchResult]]:
        """Tasks for resources new or changed since loaded; failures to list a package as results."""
        tasks, failures = [], []
        for dataset in datasets:
            try:
                resources = package_resources(self.client, dataset.package, dataset.resources)
            except SourceError as exc:
                failures.append(
                    FetchResult(
                        task=Task(dataset.name, Window(None, None)),
                        status=_status(exc),
                        error=f"listing package {dataset.package}: {exc}",
                        error_kind=error_kind(exc),
                    )
                )
                continue
            done = loaded.get(dataset.name, {})
            for resource in resources:
                previous = done.get(resource.id)
                if (
                    previous is not None
                    and resource.last_modified is not None
                    and previous >= resource.last_modified
                ):
                    continue  # this version is loaded already
                self.resources[resource.id] = resource
                tasks.append(Task(dataset.name, Window(None, None), part=resource.id))
        return tasks, failures

    def fetch(self, task: Task) -> FetchResult:
        dataset = load_datasets()[task.dataset]
        resource = self.resources[task.part or ""]
        result = FetchResult(
            task=task, status="ok", notes=[f"resource {resource.name} ({resource.id})"]
        )
        try:
            array, result.attempts = self._records(dataset, resource)
            converted = convert(
                array,
                dataset.fields,
                dataset.keys,
                published_field=None,
                source="api",
                loaded_at=self.loaded_at,
                scratch=self.settings.data_dir / "tmp",
                text_notes=False,
            )
            result.notes += converted.notes
            result.schema_changes = _changes(dataset, converted.keys_seen, converted.received)
            if converted.table is not None:
                n = converted.table.num_rows
                modified = resource.last_modified or self.loaded_at
                result.table = converted.table.append_column(
                    "_resource_id", pa.array([resource.id] * n, pa.string())
                ).append_column(
                    "_resource_modified", pa.array([modified] * n, pa.timestamp("us", tz="UTC"))
                )
                result.rows = n
            result.status = "ok" if result.rows else "empty"
        except RecordError as exc:
            result.records_failed(SOURCE, dataset.name, dataset.name, exc)
        except SourceError as exc:
            result.status, result.error, result.error_kind = _status(exc), str(exc), error_kind(exc)
            result.attempts = exc.attempts
        result.finished_at = datetime.now(UTC)
        return result

    def _records(self, dataset: NesoDataset, resource: Resource) -> tuple[bytes, int]:
        """The resource's records as a JSON array, and the HTTP attempts it took."""
        if dataset.via == "datastore" and resource.datastore_active:
            records: list[Any] = []
            for page in datastore_pages(self.client, resource.id):
                records.extend(page)
            return orjson.dumps([{k.upper(): v for k, v in r.items()} for r in records]), 1
        # CKAN gives absolute download links; a host-relative one is resolved against the portal
        url = urljoin(self.client.base_url + "/", resource.url)
        body, attempts = self.client.fetch(url, decode=raw_bytes)
        try:
            return csv_array(body.decode("utf-8-sig"), upper=True), attempts
        except (UnicodeDecodeError, ValueError) as exc:
            raise malformed(resource.url, body, f"not a CSV file: {exc}") from None

    def resource(self, dataset: str, tables: list[pa.Table]) -> Any:
        return merge_resource(tables, name=dataset)

    def describe(self) -> dict[str, dict[str, Any]]:
        return {}  # whole-resource loads: no incremental windows to cache


def _changes(dataset: NesoDataset, keys_seen: list[str], received: int) -> list[SchemaChange]:
    if not dataset.fields:
        return []  # no declared columns: every column lands as text, nothing to compare
    declared = sorted(f.name for f in dataset.fields)
    return field_changes(
        SOURCE, dataset.name, declared, keys_seen, received, origin="the declared fields"
    )


def _status(exc: SourceError) -> str:
    return {401: "forbidden", 403: "forbidden", 404: "not_found"}.get(
        getattr(exc, "status", None) or 0, "failed"
    )


def loaded_versions(
    settings: Settings, datasets: list[NesoDataset]
) -> dict[str, dict[str, datetime]]:
    """Per dataset, the latest loaded `last_modified` of each resource (from the raw tables)."""
    if settings.target != "duckdb" or not settings.duckdb_path.exists():
        return {}
    from loaders.common.warehouse import connect_duckdb

    con = connect_duckdb(settings, read_only=True)
    try:
        present = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [RAW_SCHEMA],
            ).fetchall()
        }
        versions: dict[str, dict[str, datetime]] = {}
        for dataset in datasets:
            if dataset.table in present:
                rows = con.execute(
                    f'select _resource_id, max(_resource_modified) from {RAW_SCHEMA}."{dataset.table}" '
                    "group by 1"
                ).fetchall()
                versions[dataset.name] = {rid: modified.astimezone(UTC) for rid, modified in rows}
        return versions
    finally:
        con.close()
