"""One HTTP client for every source: timeouts, retries with backoff and jitter, rate limits.

Retries cover what is worth retrying: 429 and 5xx (honouring Retry-After up to a ceiling),
timeouts, dropped connections, and bodies that are not the data (an HTML page, truncated JSON,
a corrupt gzip stream). Every failure of a request — whichever httpx error class, or a body that
is not UTF-8 / JSON — raises a `SourceError` that names the URL, so the engine records the window
as failed with its reason and the run carries on; a bad response never turns into rows.

A host that refuses connections is tried briefly, then not again in this client's run: its
later requests fail at once with `HostDownError` (other hosts, and so other sources and DNO
portals, carry on). A read timeout says nothing about the host as a whole and does not count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

# the body checks live in loaders.common.bodies; sources import them from here too
from loaders.common.bodies import decode_json as decode_json
from loaders.common.bodies import html_page, looks_like_html, snippet
from loaders.common.bodies import malformed as malformed
from loaders.common.bodies import whole_array as whole_array
from loaders.common.pacing import KeyRing, Limiter, RateLimiter, RetryPolicy, parse_retry_after
from loaders.errors import (
    BadResponseError,
    HostDownError,
    HttpStatusError,
    RequestFailedError,
    SourceError,
    SourceTimeoutError,
    UnreachableError,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAMS = ("key", "token", "secret", "password", "apikey", "api_key", "sig")

Params = Mapping[str, str | int | float | Sequence[str]]


def redact_url(url: str) -> str:
    """The URL with secret-looking query values replaced, safe for logs and errors."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = []
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if any(s in name.lower() for s in _SECRET_PARAMS):
            value = "***"
        pairs.append(f"{name}={value}" if _ else name)
    return urlunsplit(parts._replace(query="&".join(pairs)))


def full_url(url: str, params: Params | None) -> str:
    """URL with its query string, as it is requested (lists repeat the parameter)."""
    if not params:
        return url
    return f"{url}?{urlencode(params, doseq=True)}"


class _Retryable(Exception):
    def __init__(
        self,
        error: SourceError,
        retry_after: float | None = None,
        max_retries: int | None = None,
        key: str | None = None,
        down_host: str | None = None,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.max_retries = max_retries
        self.key = key
        self.down_host = down_host  # a connect failure: the host is down if retries run out


# A refused connection or unknown host rarely heals within seconds: retry it briefly only.
CONNECT_RETRIES = 2


@dataclass
class RequestStats:
    """Counts what the client did: requests sent (attempts) and retries among them."""

    requests: int = 0
    retries: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, *, retry: bool) -> None:
        with self._lock:
            self.requests += 1
            self.retries += int(retry)


class HttpClient:
    """A thread-safe JSON client for one service."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        limiter: Limiter | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Mapping[str, str]] | None = None,
        service: str = "",
        keys: KeyRing | None = None,
        key_param: str = "APIKey",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.limiter = limiter
        self.service = service or urlsplit(self.base_url).netloc
        self.stats = RequestStats()
        self._auth = auth
        self.keys = keys if keys else None
        self.key_param = key_param
        # hosts that refused connections in this run, with why: not asked again until the next
        self._down: dict[str, str] = {}
        self._down_lock = threading.Lock()
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            headers={
                "Accept": "application/json",
                "User-Agent": "gridwarehouse",
                **(headers or {}),
            },
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """`path` under the base URL; an absolute URL (a portal's download link) as it is."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, path: str, params: Params | None = None) -> Any:
        """GET `path` and return the decoded JSON body, retrying transient failures."""
        return self.fetch(path, params)[0]

    def fetch_json(self, path: str, params: Params | None = None) -> tuple[Any, int]:
        """Like `get_json`, also returning how many attempts it took."""
        return self.fetch(path, params)

    def fetch(
        self,
        path: str,
        params: Params | None = None,
        decode: Callable[[bytes, str], Any] | None = None,
        *,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Any, int]:
        """GET `path` (POST `form` when given), turn the body into a value with
        `decode(body, url)` (JSON by default), and return it with the number of attempts. A body
        `decode` rejects with BadResponseError is retried like a 5xx; a raised `SourceError`
        carries `.attempts`. `headers` are added to this request only (e.g. another Accept)."""
        url = self.url(path)
        shown = redact_url(full_url(url, params)) + (" (POST form)" if form is not None else "")
        decode = decode or decode_json
        request = _Request(form, dict(headers or {}))
        attempt = 0
        while True:
            try:
                return self._attempt(
                    url, params, shown, decode, retry=attempt > 0, request=request
                ), attempt + 1
            except SourceError as exc:
                exc.attempts = attempt + 1
                raise
            except _Retryable as exc:
                limit = self.retry.max_retries
                if exc.max_retries is not None:
                    limit = min(limit, exc.max_retries)
                if attempt >= limit:
                    exc.error.attempts = attempt + 1
                    if exc.down_host is not None and not self._mark_down(
                        exc.down_host, str(exc.error)
                    ):
                        # another window retrying in parallel gave up first and said why:
                        # this one is skipped like the host's later windows, not a second failure
                        skipped = self._host_down_error(exc.down_host, shown)
                        skipped.attempts = attempt + 1
                        raise skipped from None
                    raise exc.error from None
                wait = self.retry.delay(attempt, exc.retry_after)
                if exc.key is not None and self.keys is not None and self.keys.rest(exc.key, wait):
                    wait = 0.0  # another key is ready: rotate instead of waiting
                elif exc.retry_after is not None and wait > self.retry.retry_after_max_s:
                    raise self._too_long(exc.error, wait, attempt + 1) from None
                # an unreachable host is said once, by the failed window: its short retries
                # are detail (429s and 5xx can go on for minutes, so those are shown)
                level = logging.DEBUG if exc.max_retries is not None else logging.WARNING
                log.log(level, "%s; retry %d/%d in %.1fs", exc.error, attempt + 1, limit, wait)
                time.sleep(wait)
                attempt += 1

    def _attempt(
        self,
        url: str,
        params: Params | None,
        shown: str,
        decode: Callable[[bytes, str], Any],
        *,
        retry: bool,
        request: _Request | None = None,
    ) -> Any:
        host = _host(url)
        if host in self._down:
            raise self._host_down_error(host, shown)
        key = None
        if self.keys is not None:
            key, wait = self.keys.acquire()
            if wait > self.retry.retry_after_max_s:  # every key rests after a long Retry-After
                raise HttpStatusError(
                    f"HTTP 429 from {shown}: every API key is resting for another {wait:.0f} s "
                    "at the server's request, more than GRIDWAREHOUSE_HTTP_RETRY_AFTER_MAX_S "
                    f"({self.retry.retry_after_max_s:.0f} s); the window is tried again on the "
                    "next run",
                    url=shown,
                    status=429,
                )
            if wait > 0:
                time.sleep(wait)
            params = {**(params or {}), self.key_param: key}
        if self.limiter:
            self.limiter.acquire()
        self.stats.add(retry=retry)
        request = request or _Request()
        headers = {**(self._auth() if self._auth else {}), **request.headers} or None
        try:
            if request.form is not None:
                response = self._client.post(url, params=params, data=request.form, headers=headers)
            else:
                response = self._client.get(url, params=params, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise self._request_failure(exc, shown, host) from None
        status = response.status_code
        if status in RETRY_STATUSES:
            error = HttpStatusError(f"HTTP {status} from {shown}", url=shown, status=status)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(error, retry_after, key=key if status == 429 else None)
        if status >= 400:
            raise HttpStatusError(
                f"HTTP {status} from {shown}: {snippet(response.content)}",
                url=shown,
                status=status,
            )
        body = response.content
        # a body in angle brackets is an HTML page, unless this request asked for XML; the
        # Content-Type alone decides nothing (valid JSON served as text/html is still data)
        markup_ok = "xml" in request.headers.get("Accept", "")
        if looks_like_html(body, markup_ok=markup_ok):
            raise _Retryable(html_page(shown, body))
        try:
            return decode(body, shown)
        except BadResponseError as exc:
            if "html" in response.headers.get("Content-Type", "").lower():
                raise _Retryable(html_page(shown, body)) from None
            raise _Retryable(exc) from None
        except UnicodeDecodeError as exc:
            raise _Retryable(
                BadResponseError(
                    f"{shown} returned a body that is not valid UTF-8 ({len(body)} bytes, "
                    f"{exc.reason} at byte {exc.start}); no rows were taken from it",
                    url=shown,
                )
            ) from None

    def _request_failure(self, exc: Exception, shown: str, host: str) -> Exception:
        """The error (retryable or not) for an exception httpx raised while sending a request
        or reading its response; every class of httpx's hierarchy lands in one branch."""
        name = type(exc).__name__
        detail = str(exc) or name
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            error: SourceError = UnreachableError(
                f"cannot reach {shown}: {detail}. The service (or this machine) may be offline; "
                "check the base URL setting and the network",
                url=shown,
            )
            # a refused connection or unknown host rarely heals within seconds: retry briefly
            return _Retryable(error, max_retries=CONNECT_RETRIES, down_host=host)
        if isinstance(exc, httpx.TimeoutException):  # read, write or pool: not "unreachable"
            return _Retryable(
                SourceTimeoutError(
                    f"timed out after {self._client.timeout.read}s waiting for {shown} ({name})",
                    url=shown,
                )
            )
        if isinstance(exc, httpx.TooManyRedirects):
            return RequestFailedError(
                f"{shown} redirected too many times (a redirect loop?): {detail}", url=shown
            )
        if isinstance(exc, httpx.DecodingError):  # e.g. Content-Encoding: gzip, body not gzip
            return _Retryable(
                BadResponseError(
                    f"{shown} sent a body that could not be decoded ({name}: {detail}); "
                    "no rows were taken from it",
                    url=shown,
                )
            )
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            # the request itself cannot be sent (e.g. a redirect to ftp://): asking again
            # would fail the same way
            return RequestFailedError(f"cannot send the request for {shown}: {detail}", url=shown)
        if isinstance(exc, httpx.TransportError):  # dropped connection, broken HTTP exchange
            return _Retryable(
                RequestFailedError(
                    f"the connection to {shown} failed: {detail} ({name})", url=shown
                )
            )
        # InvalidURL, StreamError and anything httpx adds later: a failed request, not a crash
        return RequestFailedError(f"request for {shown} failed: {detail} ({name})", url=shown)

    def _mark_down(self, host: str, reason: str) -> bool:
        """Record `host` as unreachable for the rest of the run; False when it already was."""
        with self._down_lock:
            if host in self._down:
                return False
            log.warning("%s is unreachable: its other requests in this run are skipped", host)
            self._down[host] = reason
            return True

    @staticmethod
    def _host_down_error(host: str, shown: str) -> HostDownError:
        return HostDownError(
            f"not attempted: {host} could not be reached earlier in this run (see its failed window)",
            url=shown,
        )

    def _too_long(self, error: SourceError, wait: float, attempts: int) -> SourceError:
        """The error for a Retry-After beyond the ceiling: the window fails now, with the wait."""
        failed = type(error)(
            f"{error}: the server asked to retry after {wait:.0f} s, more than "
            f"GRIDWAREHOUSE_HTTP_RETRY_AFTER_MAX_S ({self.retry.retry_after_max_s:.0f} s); "
            "the window is tried again on the next run",
            url=error.url,
            status=error.status,
        )
        failed.attempts = attempts
        return failed


def _host(url: str) -> str:
    """host[:port] of a URL, without any user:password."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a malformed port: httpx reports it when the request is sent
        return parts.netloc.rpartition("@")[2]
    return f"{parts.hostname or ''}{f':{port}' if port else ''}"


@dataclass(frozen=True)
class _Request:
    """What one request adds to the client's defaults: a POST form, extra headers."""

    form: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


# the pacing classes (pacing.py) and body checks (bodies.py): sources import them from here
__all__ = [
    "HttpClient",
    "KeyRing",
    "Limiter",
    "RateLimiter",
    "RetryPolicy",
    "decode_json",
    "full_url",
    "malformed",
    "parse_retry_after",
    "redact_url",
    "whole_array",
]
