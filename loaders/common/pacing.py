"""How fast and how often requests go: a token-bucket rate limit, API keys used in turn, and the
retry policy (exponential backoff with full jitter, or the server's Retry-After)."""

from __future__ import annotations

import contextlib
import email.utils
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from loaders.settings import Settings


class Limiter(Protocol):
    """Anything that blocks until one more request may be sent (RateLimiter, a shared one)."""

    def acquire(self) -> None: ...


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
    """How often and how long to retry; delays are exponential with full jitter, or what the
    server asked for in Retry-After (up to `retry_after_max_s`: beyond it the request fails)."""

    max_retries: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.http_max_retries,
            settings.http_backoff_base_s,
            settings.http_backoff_max_s,
            settings.http_retry_after_max_s,
        )

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        # the server knows when it will answer again: our own backoff cap does not shorten it
        if retry_after is not None:
            return max(retry_after, 0.0)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(ValueError):  # not the RFC's integer, but unambiguous: "1.5"
        seconds = float(value)
        if 0 <= seconds < float("inf"):
            return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
