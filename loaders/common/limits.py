"""Request limits shared by every process of a source, and a circuit breaker per endpoint.

Both keep their state in a small JSON file in the data folder, read and rewritten under an
exclusive `flock`, so concurrent loads, a backfill and the next cron run all see the same
counts. The arithmetic is separate from the file and the clock, so tests drive it with a fake
clock instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loaders.common.locks import locked_json

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    """At most `requests` requests in any sliding window of `seconds`."""

    requests: int
    seconds: float


def wait_for_slot(stamps: Sequence[float], now: float, limits: Sequence[Limit]) -> float:
    """Seconds until one more request fits every limit, given the (sorted) times of the
    requests already sent; 0 when it may go now."""
    wait = 0.0
    for limit in limits:
        if limit.requests <= 0:
            continue
        recent = [t for t in stamps if t > now - limit.seconds]
        if len(recent) >= limit.requests:
            # the request that must leave the window before another fits
            oldest = recent[len(recent) - limit.requests]
            wait = max(wait, oldest + limit.seconds - now)
    return wait


class SharedRateLimiter:
    """Sliding-window limits (e.g. 60/minute and 1000/hour) shared through a state file by
    every thread and process that uses the same file."""

    def __init__(
        self,
        path: Path,
        limits: Sequence[Limit],
        *,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.limits = [limit for limit in limits if limit.requests > 0]
        self._clock = clock
        self._sleep = sleep
        self._horizon = max((limit.seconds for limit in self.limits), default=0.0)

    def try_acquire(self) -> float:
        """Take a slot now and return 0, or return how long to wait before asking again."""
        with locked_json(self.path) as state:
            now = self._clock()
            stamps = sorted(t for t in state.get("sent", []) if t > now - self._horizon)
            wait = wait_for_slot(stamps, now, self.limits)
            if wait <= 0:
                stamps.append(now)
            state["sent"] = stamps
        return max(wait, 0.0)

    def acquire(self) -> None:
        """Block until a request may be sent, then count it."""
        if not self.limits:
            return
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            log.info("request limit reached (%s); waiting %.1fs", self.describe(), wait)
            self._sleep(wait)

    def describe(self) -> str:
        return " and ".join(f"{lim.requests}/{_span(lim.seconds)}" for lim in self.limits)


def _span(seconds: float) -> str:
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds / 3600:g}h"
    if seconds % 60 == 0:
        return "minute" if seconds == 60 else f"{seconds / 60:g}min"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class BreakerState:
    """One endpoint's breaker: consecutive failures, and since when it is open (if it is)."""

    failures: int = 0
    opened_at: float | None = None
    reason: str = ""


class CircuitBreaker:
    """Stops calling an endpoint after `threshold` consecutive failures, for `cooldown_s`.

    After the cool-down one call is let through; if it fails the breaker opens again at once
    (the failure count is still at the threshold), and a success closes it. State is kept in
    a file, so the next run (a cron job) respects a breaker an earlier run opened.
    """

    def __init__(
        self, path: Path, threshold: int, cooldown_s: float, *, clock: Clock = time.time
    ) -> None:
        self.path = path
        self.threshold = max(1, threshold)
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()

    def state(self, endpoint: str) -> BreakerState:
        with self._lock, locked_json(self.path) as state:
            return BreakerState(**state.get(endpoint, {}))

    def open_until(self, endpoint: str) -> float | None:
        """When the breaker for `endpoint` lets calls through again, if it is open now."""
        current = self.state(endpoint)
        if current.opened_at is None:
            return None
        until = current.opened_at + self.cooldown_s
        return until if until > self._clock() else None

    def record_success(self, endpoint: str) -> None:
        with self._lock, locked_json(self.path) as state:
            state.pop(endpoint, None)

    def record_failure(self, endpoint: str, reason: str) -> bool:
        """Count a failure; True when this failure opened the breaker."""
        with self._lock, locked_json(self.path) as state:
            previous = BreakerState(**state.get(endpoint, {}))
            failures = previous.failures + 1
            opened = failures >= self.threshold
            state[endpoint] = {
                "failures": failures,
                "opened_at": self._clock() if opened else None,
                "reason": reason[:500],
            }
        if opened:
            log.warning(
                "circuit breaker opened for %s after %d consecutive failures (last: %s); "
                "no calls for %.0f minutes",
                endpoint,
                failures,
                reason[:200],
                self.cooldown_s / 60,
            )
        return opened
