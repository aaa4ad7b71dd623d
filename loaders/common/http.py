"""One HTTP client for every source: timeouts, retries with backoff and jitter, rate limits.

Retries cover what is worth retrying: 429 and 5xx (honouring Retry-After), timeouts, dropped
connections, and bodies that are not the data (an HTML page, truncated JSON). Anything else
raises a `SourceError` that names the URL, so a bad response never turns into rows.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import orjson

from loaders.errors import BadResponseError, HttpStatusError, SourceError, UnreachableError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAMS = ("key", "token", "secret", "password", "apikey", "api_key", "sig")

Params = Mapping[str, str | int | float | Sequence[str]]


class Limiter(Protocol):
    """Anything that blocks until one more request may be sent (RateLimiter, a shared one)."""

    def acquire(self) -> None: ...


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


class RateLimiter:
    """Token bucket shared by threads: at most `rate` requests per second, bursts of `burst`."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.rate = rate
        self.capacity = max(1, burst)
        self._tokens = float(self.capacity)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate <= 0:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)


class KeyRing:
    """API keys used in turn; a key that drew a 429 rests for its Retry-After while others work."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = [k for k in keys if k]
        self._next = 0
        self._resting: dict[str, float] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.keys)

    def acquire(self) -> tuple[str, float]:
        """The next key and how long to wait before using it (0 unless every key is resting)."""
        with self._lock:
            now = time.monotonic()
            for offset in range(len(self.keys)):
                key = self.keys[(self._next + offset) % len(self.keys)]
                if self._resting.get(key, 0.0) <= now:
                    self._next = (self._next + offset + 1) % len(self.keys)
                    return key, 0.0
            key = min(self.keys, key=lambda k: self._resting[k])
            return key, self._resting[key] - now

    def rest(self, key: str, seconds: float) -> bool:
        """Rest `key`; True when another key is ready to use now."""
        with self._lock:
            now = time.monotonic()
            self._resting[key] = now + max(seconds, 0.0)
            return any(self._resting.get(k, 0.0) <= now for k in self.keys if k != key)


@dataclass
class RetryPolicy:
    """How often and how long to retry; delays are exponential with full jitter."""

    max_retries: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Retryable(Exception):
    def __init__(
        self,
        error: Exception,
        retry_after: float | None = None,
        max_retries: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.max_retries = max_retries
        self.key = key


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
                    raise exc.error from None
                wait = self.retry.delay(attempt, exc.retry_after)
                if exc.key is not None and self.keys is not None and self.keys.rest(exc.key, wait):
                    wait = 0.0  # another key is ready: rotate instead of waiting
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
        key = None
        if self.keys is not None:
            key, wait = self.keys.acquire()
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
        except httpx.TimeoutException as exc:
            raise _Retryable(
                UnreachableError(
                    f"timed out after {self._client.timeout.read}s waiting for {shown} ({type(exc).__name__})",
                    url=shown,
                )
            ) from None
        except httpx.TransportError as exc:
            error = UnreachableError(
                f"cannot reach {shown}: {exc or type(exc).__name__}. The service (or this machine) "
                "may be offline; check the base URL setting and the network",
                url=shown,
            )
            connect = isinstance(exc, httpx.ConnectError)
            raise _Retryable(error, max_retries=CONNECT_RETRIES if connect else None) from None
        status = response.status_code
        if status in RETRY_STATUSES:
            error = HttpStatusError(f"HTTP {status} from {shown}", url=shown, status=status)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(error, retry_after, key=key if status == 429 else None)
        if status >= 400:
            raise HttpStatusError(
                f"HTTP {status} from {shown}: {_snippet(response.content)}",
                url=shown,
                status=status,
            )
        body = response.content
        content_type = response.headers.get("Content-Type", "")
        head = body[:200].lstrip().lower()
        # a body in angle brackets is an HTML page, unless this request asked for XML
        markup_ok = "xml" in request.headers.get("Accept", "")
        if (
            "html" in content_type
            or head.startswith((b"<!doctype", b"<html"))
            or (head.startswith(b"<") and not markup_ok)
        ):
            raise _Retryable(
                BadResponseError(
                    f"{shown} returned an HTML page instead of JSON ({len(body)} bytes: "
                    f"{_snippet(body)}); no rows were taken from it",
                    url=shown,
                )
            )
        try:
            return decode(body, shown)
        except BadResponseError as exc:
            raise _Retryable(exc) from None


@dataclass(frozen=True)
class _Request:
    """What one request adds to the client's defaults: a POST form, extra headers."""

    form: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def malformed(url: str, body: bytes, detail: object) -> BadResponseError:
    """The error for a body that is not well-formed JSON (typically cut off in transit)."""
    return BadResponseError(
        f"{url} returned truncated or malformed JSON ({len(body)} bytes, {detail}); "
        "no rows were taken from it",
        url=url,
    )


def decode_json(body: bytes, url: str) -> Any:
    """The default decoder: the whole body as JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise malformed(url, body, exc) from None


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()
    return text + ("…" if len(body) > limit else "")
