"""`ops.iris_stats`: what the receiver saw, per dataset and flush interval.

One row per dataset that had messages or dead-letters in the interval, plus a `*` row for the
receiver as a whole (connection drops, the client-secret expiry warning), written at least once a
minute so `status` can tell a quiet queue from a dead receiver.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loaders.logs import redact_value

RECEIVER = "*"

SECRET_WARNING_DAYS = 14


@dataclass
class Counters:
    messages: int = 0
    records: int = 0
    last_message_at: datetime | None = None
    dead_letters: int = 0
    unknown: bool = False


@dataclass
class Snapshot:
    start: datetime
    end: datetime
    datasets: dict[str, Counters]
    drops: int


@dataclass
class ReceiverStats:
    """Counters since the last write, shared by the receive loop and the flusher."""

    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _since: datetime = field(default_factory=lambda: datetime.now(UTC))
    _datasets: dict[str, Counters] = field(default_factory=lambda: defaultdict(Counters))
    _drops: int = 0
    last_seen: dict[str, datetime] = field(default_factory=dict)  # enqueued time, per dataset
    total_messages: int = 0
    total_dead_letters: int = 0
    total_drops: int = 0

    def message(self, dataset: str, records: int, enqueued_at: datetime, unknown: bool) -> None:
        with self._lock:
            c = self._datasets[dataset]
            c.messages += 1
            c.records += records
            c.unknown = unknown
            if c.last_message_at is None or enqueued_at > c.last_message_at:
                c.last_message_at = enqueued_at
            if dataset not in self.last_seen or enqueued_at > self.last_seen[dataset]:
                self.last_seen[dataset] = enqueued_at
            self.total_messages += 1

    def dead_letter(self, dataset: str | None) -> None:
        with self._lock:
            self._datasets[dataset or RECEIVER].dead_letters += 1
            self.total_dead_letters += 1

    def drop(self) -> None:
        with self._lock:
            self._drops += 1
            self.total_drops += 1

    def take(self) -> Snapshot:
        with self._lock:
            now = datetime.now(UTC)
            snap = Snapshot(self._since, now, dict(self._datasets), self._drops)
            self._since, self._datasets, self._drops = now, defaultdict(Counters), 0
            return snap

    def give_back(self, snap: Snapshot) -> None:
        """A snapshot whose write failed: fold it back in so the next write carries it."""
        with self._lock:
            self._since = min(self._since, snap.start)
            self._drops += snap.drops
            for name, old in snap.datasets.items():
                c = self._datasets[name]
                c.messages += old.messages
                c.records += old.records
                c.dead_letters += old.dead_letters
                c.unknown = c.unknown or old.unknown
                if old.last_message_at and (
                    c.last_message_at is None or old.last_message_at > c.last_message_at
                ):
                    c.last_message_at = old.last_message_at


def secret_warning(expires: date | None, today: date | None = None) -> str | None:
    """A warning from 14 days before the IRIS client secret expires (and after it has)."""
    if expires is None:
        return None
    today = today or datetime.now(UTC).date()
    days = (expires - today).days
    if days < 0:
        return (
            f"the IRIS client secret expired on {expires.isoformat()}; create a new one in the "
            "Elexon portal and set IRIS_CLIENT_SECRET (and IRIS_CLIENT_SECRET_EXPIRES)"
        )
    if days <= SECRET_WARNING_DAYS:
        return (
            f"the IRIS client secret expires on {expires.isoformat()} (in {days} day"
            f"{'' if days == 1 else 's'}); renew it in the Elexon portal before then"
        )
    return None


def stats_rows(
    snap: Snapshot, queue: str, expires: date | None, *, heartbeat: bool
) -> list[tuple[Any, ...]]:
    """Rows for one snapshot; the `*` row only when something happened or as a heartbeat."""
    recorded = datetime.now(UTC)
    minutes = max((snap.end - snap.start) / timedelta(minutes=1), 1e-9)
    warning = secret_warning(expires)
    rows = []
    for name, c in sorted(snap.datasets.items()):
        if name == RECEIVER:
            continue
        rows.append(
            (
                recorded, queue, name, snap.start, snap.end, c.messages, c.records,
                round(c.messages / minutes, 3), c.last_message_at, c.dead_letters, 0,
                c.unknown, None, None,
            )
        )  # fmt: skip
    receiver = snap.datasets.get(RECEIVER, Counters())
    if rows or snap.drops or receiver.dead_letters or heartbeat or warning:
        total = sum(c.messages for n, c in snap.datasets.items() if n != RECEIVER)
        last = max(
            (c.last_message_at for c in snap.datasets.values() if c.last_message_at),
            default=None,
        )
        rows.append(
            (
                recorded, queue, RECEIVER, snap.start, snap.end, total,
                sum(c.records for c in snap.datasets.values()), round(total / minutes, 3), last,
                sum(c.dead_letters for c in snap.datasets.values()), snap.drops, None, expires,
                warning,
            )
        )  # fmt: skip
    return redact_value(rows)


def last_message_times(con: Any, queue: str) -> dict[str, datetime]:
    """The latest enqueued time per dataset ever recorded for this queue."""
    exists = con.execute(
        "select 1 from information_schema.tables where table_schema = 'ops' "
        "and table_name = 'iris_stats'"
    ).fetchall()
    if not exists:
        return {}
    return {
        name: at.astimezone(UTC)
        for name, at in con.execute(
            "select dataset, max(last_message_at) from ops.iris_stats where queue = ? "
            "and dataset <> '*' and last_message_at is not null group by dataset",
            [queue],
        ).fetchall()
    }
