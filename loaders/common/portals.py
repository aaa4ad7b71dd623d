"""Open-data portals: CKAN (NESO, NGED, SSEN) and OpenDataSoft (UKPN, SPEN, NPg, ENWL).

Each portal lists datasets of records; these helpers find a dataset's resources and page through
its records with the shared HTTP client (retries, rate limit), leaving conversion to jsonrows.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from loaders.common.http import HttpClient, decode_json, malformed
from loaders.errors import BadResponseError


@dataclass(frozen=True)
class Resource:
    """One downloadable part of a CKAN dataset (a yearly CSV, a live table)."""

    id: str
    name: str
    url: str
    format: str
    last_modified: datetime | None
    datastore_active: bool


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # CKAN writes UTC, unmarked


def ckan_result(body: Any, url: str) -> Any:
    """The `result` of a CKAN action response, or a BadResponseError naming the URL."""
    if not isinstance(body, dict) or "result" not in body:
        raise BadResponseError(f"{url} did not return a CKAN action response", url=url)
    if not body.get("success", True):
        raise BadResponseError(f"{url} reported failure: {body.get('error')}", url=url)
    return body["result"]


def package_resources(
    client: HttpClient, package: str, patterns: Sequence[str] = ("*",)
) -> list[Resource]:
    """A CKAN package's resources whose name (or URL file name) matches one of `patterns`."""
    body = client.get_json("package_show", {"id": package})
    result = ckan_result(body, client.url("package_show"))
    resources = []
    for item in result.get("resources", []):
        name = item.get("name") or item.get("url", "").rsplit("/", 1)[-1]
        file_name = item.get("url", "").rsplit("/", 1)[-1]
        if not any(
            fnmatch.fnmatch(name.lower(), p.lower())
            or fnmatch.fnmatch(file_name.lower(), p.lower())
            for p in patterns
        ):
            continue
        resources.append(
            Resource(
                id=item["id"],
                name=name,
                url=item.get("url", ""),
                format=(item.get("format") or "").upper(),
                last_modified=_when(item.get("last_modified") or item.get("metadata_modified")),
                datastore_active=bool(item.get("datastore_active")),
            )
        )
    return resources


def datastore_pages(
    client: HttpClient, resource_id: str, page_size: int = 10_000
) -> Iterator[list[Any]]:
    """Every record of a CKAN datastore resource, a page at a time."""
    offset = 0
    while True:
        body = client.get_json(
            "datastore_search", {"resource_id": resource_id, "limit": page_size, "offset": offset}
        )
        result = ckan_result(body, client.url("datastore_search"))
        records = result.get("records", [])
        if records:
            yield [{k: v for k, v in r.items() if k != "_id"} for r in records]
        offset += len(records)
        if not records or offset >= int(result.get("total", offset)):
            return


def ods_export_path(dataset: str) -> str:
    """An OpenDataSoft (Explore API v2.1) dataset's full export: one JSON array of every record
    (the paged records endpoint stops at 10,000)."""
    return f"api/explore/v2.1/catalog/datasets/{dataset}/exports/json"


def raw_bytes(body: bytes, url: str) -> bytes:
    """A decoder that keeps the body as it is (files: CSV, XLSX), rejecting only empty bodies."""
    if not body.strip():
        raise malformed(url, body, "empty body")
    return body


def records_json(records: list[Any]) -> bytes:
    return orjson.dumps(records)


__all__ = [
    "Resource",
    "ckan_result",
    "datastore_pages",
    "decode_json",
    "ods_export_path",
    "package_resources",
    "raw_bytes",
    "records_json",
]
