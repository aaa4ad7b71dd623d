"""The ISO-NE source for the shared engine: requests, fallbacks, breaker, records, resources.

For each window the primary endpoint is asked first (JSON); a body that is not JSON is asked
for again as XML; when the endpoint still fails (or an ended day comes back empty) the
configured fallback endpoint is tried. What was used is recorded: status `fallback` and a note.
An endpoint that keeps failing trips its circuit breaker, and later windows are `skipped` with
the reason until the cool-down ends. One rate limiter, shared through a file in the data
folder, paces every request to both hosts.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa

from loaders.common.commit import merge_resource
from loaders.common.engine import FetchResult, Task
from loaders.common.http import HttpClient, RetryPolicy
from loaders.common.jsonrows import Converted, convert
from loaders.common.limits import CircuitBreaker, Limit, SharedRateLimiter
from loaders.common.ops import SchemaChange, field_changes
from loaders.common.records import RecordError
from loaders.errors import (
    BadResponseError,
    HostDownError,
    HttpStatusError,
    SourceError,
    SourceTimeoutError,
    UnreachableError,
    error_kind,
)
from loaders.settings import Settings
from loaders.sources.isone import normalize
from loaders.sources.isone.config import Config, Dataset, Endpoint, Limits, load_config
from loaders.sources.isone.plan import day_bounds, day_of

log = logging.getLogger(__name__)

SOURCE = "isone"
RAW_SCHEMA = "raw_isone"
ACCEPT_XML = {"Accept": "application/xml"}
CREDENTIALS_HELP = (
    "set ISONE_USERNAME and ISONE_PASSWORD (or ISONE_API_KEY) in the environment or .env; "
    "an account is free at https://www.iso-ne.com (ISO Express / web services)"
)


def auth_headers(settings: Settings) -> dict[str, str]:
    """HTTP basic auth from ISONE_USERNAME/ISONE_PASSWORD, and/or the API key header."""
    headers = {}
    user, password = settings.secret("ISONE_USERNAME"), settings.secret("ISONE_PASSWORD")
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    key = settings.secret("ISONE_API_KEY")
    if key:
        headers[settings.isone_api_key_header] = key
    return headers


def has_credentials(settings: Settings) -> bool:
    return bool(auth_headers(settings))


def make_limiter(settings: Settings, limits: Limits) -> SharedRateLimiter | None:
    """One limiter for every ISO-NE request of every process using this data folder."""
    rate = settings.requests_per_s(SOURCE)
    if rate <= 0:
        return None  # GRIDWAREHOUSE_ISONE_REQUESTS_PER_S=0: no limit (a local replay)
    per_minute = min(limits.requests_per_minute, max(1, round(rate * 60)))
    return SharedRateLimiter(
        settings.data_dir / SOURCE / "limiter.json",
        [Limit(per_minute, 60.0), Limit(limits.requests_per_hour, 3600.0)],
    )


def make_breaker(settings: Settings, limits: Limits) -> CircuitBreaker:
    return CircuitBreaker(
        settings.data_dir / SOURCE / "breakers.json",
        limits.breaker_failures,
        limits.breaker_cooldown_minutes * 60,
    )


def request_for(
    endpoint: Endpoint, location: str | None, day: date | None
) -> tuple[str, dict[str, str], dict[str, str] | None]:
    """Path, query and (wsclient) form asking `endpoint` for one market day and location."""
    values = {"location": location or ""}
    if day is not None:
        values |= {
            "day": f"{day:%Y%m%d}",
            "date": f"{day:%m/%d/%Y}",
            "next_date": f"{day + timedelta(days=1):%m/%d/%Y}",
        }
    path = endpoint.path.format(**values)
    query = {k: v.format(**values) for k, v in endpoint.query.items()}
    form = None
    if endpoint.form is not None:
        form = {k: v.format(**values) for k, v in endpoint.form.items()}
        if endpoint.zone_field and location:
            for i, zone in enumerate(location.split(",")):
                form[endpoint.zone_field.format(i=i)] = zone.strip()
    return path, query, form


@dataclass
class _Fetched:
    records: list[dict[str, Any]]
    endpoint: Endpoint
    attempts: int
    note: str | None = None  # how a fallback delivered, None for the primary JSON


class _Failure(Exception):
    """Every way of asking failed (or was not allowed); the reasons, in order."""

    def __init__(
        self,
        reasons: list[str],
        attempts: int,
        last: SourceError | None = None,
        *,
        skipped_only: bool = False,
        empty_only: bool = False,
    ) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons
        self.attempts = attempts
        self.last = last
        self.skipped_only = skipped_only
        self.empty_only = empty_only


class _Requests:
    """Request counts summed over both hosts' clients (for the run summary)."""

    def __init__(self, clients: Mapping[str, HttpClient]) -> None:
        self._clients = clients

    @dataclass
    class _Stats:
        requests: int

    @property
    def stats(self) -> _Requests._Stats:
        return self._Stats(sum(c.stats.requests for c in self._clients.values()))

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


class IsoneAdapter:
    """Fetches ISO-NE windows (market days, or current polls) for the engine."""

    # its circuit breaker (per endpoint, kept across runs) replaces the engine's per-run one
    run_breaker = False

    source = SOURCE
    raw_schema = RAW_SCHEMA

    def __init__(
        self,
        settings: Settings,
        config: Config | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.config = config or load_config()
        self.now = now
        self.loaded_at = now()
        self.credentials = has_credentials(settings)
        limiter = make_limiter(settings, self.config.limits)
        retry = RetryPolicy.from_settings(settings)
        self.clients = {
            "webservices": HttpClient(
                settings.base_url(SOURCE),
                timeout_s=settings.http_timeout_s,
                retry=retry,
                limiter=limiter,
                auth=lambda: auth_headers(settings),
                service="ISO-NE web services",
            ),
            "www": HttpClient(
                settings.base_url("isone_www"),
                timeout_s=settings.http_timeout_s,
                retry=retry,
                limiter=limiter,
                service="iso-ne.com",
            ),
        }
        self.client = _Requests(self.clients)
        self.breaker = make_breaker(settings, self.config.limits)

    def close(self) -> None:
        self.client.close()

    # -- planning help ---------------------------------------------------------------------

    def refusals(self, tasks: list[Task]) -> tuple[list[Task], list[FetchResult]]:
        """Tasks that can run, and `needs_token` results for those that need credentials
        that are not set (and have no public fallback)."""
        runnable, refused = [], []
        for task in tasks:
            dataset, _ = self.config.split(task.dataset)
            if self.credentials or self._public_route(dataset) is not None:
                runnable.append(task)
                continue
            refused.append(
                FetchResult(
                    task=task,
                    status="needs_token",
                    error_kind="token",
                    error=f"{dataset.name}: ISO-NE web services need credentials: {CREDENTIALS_HELP}",
                )
            )
        return runnable, refused

    @staticmethod
    def _public_route(dataset: Dataset) -> Endpoint | None:
        routes = [dataset.endpoint, *([dataset.fallback] if dataset.fallback else [])]
        return next((r for r in routes if r.host == "www"), None)

    # -- fetching --------------------------------------------------------------------------

    def fetch(self, task: Task) -> FetchResult:
        dataset, label = self.config.split(task.dataset)
        location = dataset.locations.get(label) if label else None
        day = day_of(task.window)
        result = FetchResult(task=task, status="ok", started_at=datetime.now(UTC))
        try:
            fetched = self._fetch_records(dataset, location, day)
            result.attempts = fetched.attempts
            self._land(result, dataset, fetched, day)
        except _Failure as failure:
            self._record_failure(result, dataset, day, failure)
        except RecordError as exc:
            result.records_failed(SOURCE, dataset.name, dataset.name, exc)
        result.finished_at = datetime.now(UTC)
        return result

    def _fetch_records(self, dataset: Dataset, location: str | None, day: date | None) -> _Fetched:
        """Records from the first way of asking that works: the endpoint (JSON, then XML),
        then the fallback endpoint. An ended day with no records counts as not working."""
        reasons: list[str] = []
        attempts, last, tried = 0, None, False
        empty: _Fetched | None = None
        routes = [dataset.endpoint, *([dataset.fallback] if dataset.fallback else [])]
        for endpoint in routes:
            blocked = self._blocked(endpoint)
            if blocked:
                reasons.append(blocked)
                continue
            tried = True
            try:
                fetched = self._ask(dataset, endpoint, location, day)
            except SourceError as exc:
                attempts += exc.attempts
                last = exc
                reasons.append(f"{endpoint.key}: {exc}")
                if _counts_against_endpoint(exc):
                    self.breaker.record_failure(endpoint.key, str(exc))
                continue
            self.breaker.record_success(endpoint.key)
            fetched.attempts += attempts
            if endpoint is not dataset.endpoint:
                fetched.note = f"endpoint {endpoint.key}, after {'; '.join(reasons)}"
            if fetched.records or not self._expects_records(dataset, day):
                return fetched
            reasons.append(f"{endpoint.key} returned no records")
            empty = empty or fetched
            attempts = fetched.attempts
        if empty is not None and last is None:
            raise _Failure(reasons, attempts, empty_only=True)
        raise _Failure(reasons, attempts, last, skipped_only=not tried)

    def _blocked(self, endpoint: Endpoint) -> str | None:
        """Why `endpoint` must not be called now: no credentials, or its breaker is open."""
        if endpoint.host == "webservices" and not self.credentials:
            return f"{endpoint.key}: no ISO-NE web services credentials ({CREDENTIALS_HELP})"
        until = self.breaker.open_until(endpoint.key)
        if until is None:
            return None
        state = self.breaker.state(endpoint.key)
        return (
            f"circuit breaker open for {endpoint.key} until "
            f"{datetime.fromtimestamp(until, UTC):%Y-%m-%dT%H:%MZ} after {state.failures} "
            f"consecutive failures; last: {state.reason}"
        )

    def _ask(
        self, dataset: Dataset, endpoint: Endpoint, location: str | None, day: date | None
    ) -> _Fetched:
        """One endpoint's records; a JSON body that is not JSON is asked for again as XML."""
        client = self.clients[endpoint.host]
        path, query, form = request_for(endpoint, location, day)
        try:
            records, attempts = client.fetch(
                path, query, lambda body, url: _decode(endpoint, body, url), form=form
            )
            return _Fetched(records, endpoint, attempts)
        except BadResponseError as exc:
            if not (dataset.xml and endpoint is dataset.endpoint):
                raise
            first = exc
        try:
            records, attempts = client.fetch(
                path,
                query,
                lambda body, url: normalize.xml_records(body, endpoint, url),
                headers=ACCEPT_XML,
            )
        except SourceError as exc:
            error = type(exc)(f"{first}; asked again as XML: {exc}", url=exc.url, status=exc.status)
            error.attempts = first.attempts + exc.attempts
            raise error from None
        note = f"XML (Accept: application/xml) after JSON failed: {first}"
        return _Fetched(records, endpoint, first.attempts + attempts, note)

    def _expects_records(self, dataset: Dataset, day: date | None) -> bool:
        return day is not None and dataset.expect_data and day_bounds(day)[1] <= self.now()

    # -- results ---------------------------------------------------------------------------

    def _land(
        self, result: FetchResult, dataset: Dataset, fetched: _Fetched, day: date | None
    ) -> None:
        """Convert the records into the window's table and set its status."""
        records = normalize.normalise(fetched.records, dataset.fields, fetched.endpoint.rename)
        converted = self._convert(dataset, records, fetched.endpoint)
        result.schema_changes = schema_changes(dataset, converted.keys_seen, converted.received)
        for change in result.schema_changes:
            log.warning(
                "ISO-NE %s: field %s %s (%s); loading continues",
                dataset.name,
                change.field,
                change.change,
                change.detail,
            )
        result.notes += [f"{c.change} field {c.field}" for c in result.schema_changes]
        result.notes += converted.notes
        result.table = converted.table
        result.rows = converted.table.num_rows if converted.table is not None else 0
        if fetched.note:
            result.notes.insert(0, f"fallback: {fetched.note}")
        if result.rows:
            result.status = "fallback" if fetched.note else "ok"
        elif day is not None and day_bounds(day)[1] > self.now():
            result.status = "skipped"
            result.error = f"nothing published yet for market day {day}; asked again next run"
        else:
            result.status = "empty"

    def _convert(
        self, dataset: Dataset, records: list[dict[str, Any]], endpoint: Endpoint
    ) -> Converted:
        return convert(
            orjson.dumps(records),
            normalize.declared_fields(dataset.fields),
            dataset.keys,
            published_field=None,
            source="api",
            loaded_at=self.loaded_at,
            scratch=self.settings.data_dir / "tmp",
            text_notes=endpoint.format == "json",
        )

    def _record_failure(
        self, result: FetchResult, dataset: Dataset, day: date | None, failure: _Failure
    ) -> None:
        result.attempts = max(failure.attempts, 1)
        reasons = "; ".join(failure.reasons)
        if failure.empty_only:
            result.status, result.error_kind = "failed", "empty"
            result.error = (
                f"{dataset.name}: no records for market day {day}, which has ended ({reasons}); "
                "the window is not marked done and is asked again on the next run"
            )
        elif failure.skipped_only:
            result.status, result.error = "skipped", f"{dataset.name}: {reasons}"
            log.warning("ISO-NE %s skipped: %s", dataset.name, reasons)
        else:
            result.status = _status(failure.last)
            result.error_kind = error_kind(failure.last)
            result.error = f"{dataset.name}: {reasons}"
            if result.status == "forbidden":
                result.error += f". ISO-NE refused the credentials: {CREDENTIALS_HELP}"

    def resource(self, dataset: str, tables: list[pa.Table]) -> Any:
        spec, _ = self.config.split(dataset)
        return merge_resource(
            tables, name=re.sub(r"\W+", "_", dataset).lower(), table_name=spec.table
        )

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "snapshot": not dataset.backfillable,
                "refresh_s": int(dataset.refresh.total_seconds()),
            }
            for dataset in self.config.datasets.values()
            for name in dataset.load_names()
        }


def _decode(endpoint: Endpoint, body: bytes, url: str) -> list[dict[str, Any]]:
    """A body's records by the endpoint's format (JSON, wsclient JSON, C/H/D/T CSV)."""
    if endpoint.format == "chdt_seven_day":
        return normalize.seven_day_records(body, url)
    if endpoint.format == "chdt":
        return normalize.chdt_records(body, url)
    return normalize.json_records(body, endpoint, url)


def schema_changes(dataset: Dataset, keys_seen: list[str], received: int) -> list[SchemaChange]:
    """Fields new to the config (landed as text) and configured fields absent from a response."""
    return field_changes(
        SOURCE,
        dataset.name,
        [f.name for f in dataset.fields],
        keys_seen,
        received,
        origin="datasets.toml",
        known={f.name for f in normalize.declared_fields(dataset.fields)},
    )


def _counts_against_endpoint(exc: SourceError) -> bool:
    """Failures that say the endpoint is unwell (not a wrong id or refused credentials); a
    request not sent because its host was already unreachable in this run says nothing new."""
    if isinstance(exc, HostDownError):
        return False
    if isinstance(exc, UnreachableError | BadResponseError | SourceTimeoutError):
        return True
    status = getattr(exc, "status", None)
    return isinstance(exc, HttpStatusError) and (status == 429 or (status or 0) >= 500)


def _status(exc: SourceError | None) -> str:
    status = getattr(exc, "status", None) or 0
    return {401: "forbidden", 403: "forbidden", 404: "not_found"}.get(status, "failed")
