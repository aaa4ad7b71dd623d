"""The BMRS source: windows, requests and records for each catalogue endpoint, as dlt resources."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from loaders.common.commit import merge_resource
from loaders.common.engine import FetchResult, Task
from loaders.common.http import (
    HttpClient,
    KeyRing,
    RateLimiter,
    RetryPolicy,
    decode_json,
    malformed,
    whole_array,
)
from loaders.common.jsonrows import Converted, convert
from loaders.common.ops import SchemaChange, field_changes
from loaders.common.records import RecordError
from loaders.errors import BadResponseError, SourceError, error_kind
from loaders.settings import Settings
from loaders.sources.bmrs.catalogue import (
    SCALAR_FIELD,
    SNAPSHOT,
    Catalogue,
    Endpoint,
    load_catalogue,
)
from loaders.sources.bmrs.windows import by_settlement_date, request_for

log = logging.getLogger(__name__)

SOURCE = "bmrs"
RAW_SCHEMA = "raw_bmrs"


def extract_records(body: Any, endpoint: Endpoint, url: str) -> list[Any]:
    """Records from either body shape the API uses: {"data": [...]} or a bare array."""
    records = body["data"] if isinstance(body, dict) and "data" in body else body
    if not isinstance(records, list):
        # `null` and {"data": null} included: only a well-formed empty list means "no records"
        got = "null" if records is None else type(records).__name__
        raise BadResponseError(
            f"{url} returned JSON without a list of records (got {got}); "
            "no rows were taken from it",
            url=url,
        )
    if endpoint.scalar_items:
        return [{SCALAR_FIELD: value} for value in records]
    bad = next((r for r in records if not isinstance(r, dict)), None)
    if bad is not None:
        raise BadResponseError(
            f"{url} returned a record that is not an object: {bad!r:.80}", url=url
        )
    return records


def records_array(body: bytes, endpoint: Endpoint, url: str) -> bytes:
    """The body as a JSON array of record objects: bare arrays pass through untouched (the
    common, large case); {"data": [...]} envelopes and lists of plain values are unwrapped."""
    if not body.strip():
        raise malformed(url, body, "empty body")
    if body.lstrip()[:1] == b"[" and not endpoint.scalar_items:
        return whole_array(body, url)
    return orjson.dumps(extract_records(decode_json(body, url), endpoint, url))


def schema_changes(endpoint: Endpoint, keys_seen: list[str], received: int) -> list[SchemaChange]:
    """Fields new to the catalogue (landed as text) and catalogue fields absent from a response."""
    return field_changes(
        SOURCE, endpoint.name, endpoint.field_names, keys_seen, received, origin="the catalogue"
    )


class BmrsAdapter:
    """Fetches BMRS windows for the engine."""

    source = SOURCE
    raw_schema = RAW_SCHEMA

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue | None = None,
        client: HttpClient | None = None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue or load_catalogue()
        self.client = client or make_client(settings)
        self.loaded_at = datetime.now(UTC)

    def close(self) -> None:
        self.client.close()

    def fetch(self, task: Task) -> FetchResult:
        endpoint = self.catalogue.get(task.dataset)
        path, params = request_for(endpoint, task.window, settlement_days=by_settlement_date(task))
        result = FetchResult(task=task, status="ok", started_at=datetime.now(UTC))
        try:
            converted, result.attempts = self.client.fetch(
                path, params, lambda body, url: self.decode(endpoint, body, url)
            )
            changes = schema_changes(endpoint, converted.keys_seen, converted.received)
            result.schema_changes = changes
            result.notes += [f"{c.change} field {c.field}" for c in changes] + converted.notes
            result.table = converted.table
            result.rows = converted.table.num_rows if converted.table is not None else 0
            result.status = "ok" if result.rows else "empty"
        except RecordError as exc:
            # a renamed key field also shows as one field added and one missing
            result.schema_changes = schema_changes(endpoint, exc.keys_seen, exc.received)
            result.records_failed(SOURCE, endpoint.name, endpoint.name, exc)
        except SourceError as exc:
            result.status, result.error, result.error_kind = "failed", str(exc), error_kind(exc)
            result.attempts = exc.attempts
        result.finished_at = datetime.now(UTC)
        return result

    def decode(self, endpoint: Endpoint, body: bytes, url: str) -> Converted:
        """A response body as a typed table; a body that is not well-formed JSON is a
        BadResponseError (retried); a value of the wrong type (TypeDrift), records without their
        key or a new field's name clash (RecordError) fail the window (not retried now)."""
        import duckdb

        array = records_array(body, endpoint, url)
        try:
            return convert(
                array,
                endpoint.fields,
                endpoint.keys,
                published_field=endpoint.published_field,
                source="api",
                loaded_at=self.loaded_at,
                scratch=self.settings.data_dir / "tmp",
                required_keys=endpoint.required_keys,
            )
        except duckdb.Error as exc:
            raise malformed(url, body, str(exc).split("\n")[0]) from None

    def resource(self, dataset: str, tables: list[pa.Table]) -> Any:
        return dataset_resource(self.catalogue.get(dataset), tables, target=self.settings.target)

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            e.name: {"snapshot": e.window == SNAPSHOT, "refresh_s": int(e.refresh.total_seconds())}
            for e in self.catalogue
        }


def dataset_resource(endpoint: Endpoint, data: Any, *, target: str = "duckdb") -> Any:
    """The dlt resource for one dataset: merge on the natural key into raw_bmrs.<dataset>. On
    BigQuery, tables with a settlement date are partitioned by it (and clustered by BM unit),
    so the big ones (BOD, BOALF, PN) are scanned only for the days a query asks for."""
    resource = merge_resource(data, name=endpoint.table)
    types = {f.name: f.type for f in endpoint.fields}
    if target == "bigquery" and types.get("settlementDate") == "date":
        from dlt.destinations.adapters import bigquery_adapter

        cluster = ["national_grid_bm_unit"] if "nationalGridBmUnit" in types else None
        resource = bigquery_adapter(resource, partition="settlement_date", cluster=cluster)
    return resource


def make_client(settings: Settings) -> HttpClient:
    return HttpClient(
        settings.base_url(SOURCE),
        timeout_s=settings.http_timeout_s,
        retry=RetryPolicy.from_settings(settings),
        limiter=RateLimiter(settings.bmrs_requests_per_s, burst=max(1, settings.bmrs_concurrency)),
        service="BMRS",
        keys=KeyRing((settings.secret("BMRS_API_KEYS") or "").split(",")),
        key_param=settings.bmrs_api_key_param,
    )
