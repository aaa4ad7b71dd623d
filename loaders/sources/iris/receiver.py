"""`gridwarehouse iris run`: the long-running IRIS receiver.

Peek-lock receive in batches (locks kept alive by AutoLockRenewer); each batch is appended to
a landing file and fsynced, and only then are its messages completed. A background thread
flushes landing files into `raw_bmrs` every few seconds (the warehouse is held only for that
commit, so cron loads, dbt and BI readers get their turn). A message that is not JSON records
is dead-lettered with the reason. A dropped connection is re-opened with backoff; on start and
after each drop, what IRIS may have missed is back-filled from the BMRS API.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders.common.locks import running_build, sole_holder
from loaders.errors import GridwarehouseError
from loaders.settings import Settings
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.sources.iris.archive import Archive
from loaders.sources.iris.connection import (
    CLIENT_OPTIONS,
    IrisConfig,
    check_connection_string,
    make_client,
    resolve_config,
)
from loaders.sources.iris.datasets import endpoint_for
from loaders.sources.iris.gapfill import GapFiller
from loaders.sources.iris.landing import LandedMessage, LandingWriter
from loaders.sources.iris.messages import MalformedMessage, parse_message
from loaders.sources.iris.stats import ReceiverStats, last_message_times, secret_warning, stats_rows
from loaders.sources.iris.worker import FlushWorker, WorkerGoneError
from loaders.testing import failpoints

log = logging.getLogger(__name__)

HEARTBEAT_S = 60.0
LOCK_RENEWAL_S = 300.0
# A batch is settled milliseconds after it arrives, so its locks are handed to AutoLockRenewer
# only once it has been in hand this long (a stalled disk): registering every message would
# cost a tenth of the peak receive rate for renewals that are never needed.
RENEW_AFTER_S = 5.0
BACKOFF_MAX_S = 60.0


class ReceiverRunningError(GridwarehouseError):
    """Another receiver holds the queue (exit code 2: nothing was received)."""

    exit_code = 2


class ConnectionGoneError(Exception):
    """The SDK closed the receiver mid-batch; unsettled messages will be delivered again."""


class IrisConnectError(GridwarehouseError):
    """The first connection was refused for a reason retrying will not fix (credentials)."""


@contextlib.contextmanager
def receiver_lock(settings: Settings, queue: str) -> Iterator[None]:
    """One receiver per queue on this machine: a second one exits at once, naming the first."""
    path = settings.data_dir / "iris" / f"{_safe(queue)}.receiver.lock"

    def refused(holder: str) -> ReceiverRunningError:
        return ReceiverRunningError(
            f"another `gridwarehouse iris run` is already receiving from queue {queue!r} "
            f"({holder}); only one receiver per queue may run. Stop it first."
        )

    with sole_holder(path, refused):
        yield


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


class LockKeeper:
    """Watches the batch in hand; if it is still unsettled after RENEW_AFTER_S (or 40% of its
    lock, if shorter), registers its messages with AutoLockRenewer, which keeps their locks
    until they are settled."""

    def __init__(self, renewer: Any, after_s: float = RENEW_AFTER_S) -> None:
        self.renewer = renewer
        self.after_s = after_s
        self._lock = threading.Lock()
        self._batch: tuple[float, Any, list[Any]] | None = None
        self._stop = threading.Event()
        self.handed_over = 0
        self._thread = threading.Thread(target=self._watch, name="iris-locks", daemon=True)
        self._thread.start()

    @contextlib.contextmanager
    def holding(self, receiver: Any, messages: list[Any]) -> Iterator[None]:
        # hand over early enough for the shortest lock, whatever the queue's lock duration
        expiry = min((m.locked_until_utc for m in messages if m.locked_until_utc), default=None)
        left = (expiry - datetime.now(UTC)).total_seconds() if expiry else self.after_s
        due = time.monotonic() + max(0.0, min(self.after_s, 0.4 * left))
        with self._lock:
            self._batch = (due, receiver, messages)
        try:
            yield
        finally:
            with self._lock:
                self._batch = None

    def _watch(self) -> None:
        while not self._stop.wait(0.25):
            with self._lock:
                batch = self._batch
                if batch is None or time.monotonic() < batch[0]:
                    continue
                self._batch = None  # handed over once; the renewer keeps it from here
            _, receiver, messages = batch
            for msg in messages:
                with contextlib.suppress(ValueError, TypeError):  # settled meanwhile
                    self.renewer.register(receiver, msg)
                    self.handed_over += 1
            log.warning(
                "IRIS batch of %d messages still in hand: their locks are being renewed",
                len(messages),
            )

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class IrisReceiver:
    """Receives, lands, completes, flushes; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        archive: Path | None = None,
        archive_keep_days: float = 3.0,
        drain: bool = False,
        stop: threading.Event | None = None,
        client_factory: Any = None,
    ) -> None:
        self.settings = settings
        self.config = resolve_config(settings)
        self.drain = drain
        self.stop = stop or threading.Event()
        self._client_factory = client_factory or make_client
        self.catalogue = load_catalogue()
        self.stats = ReceiverStats()
        self.run_id = uuid.uuid4().hex[:12]
        self.landing = LandingWriter(
            settings.data_dir / "iris" / "landing" / _safe(self.config.queue)
        )
        self.flusher = FlushWorker(settings, self.config.queue, self.run_id)
        self.gapfill = GapFiller(settings, self.catalogue, self.stop)
        self.archive = Archive(archive, archive_keep_days) if archive else None
        self._flush_lock = threading.Lock()
        self._flush_stop = threading.Event()
        self._last_stats = 0.0
        self._warned_unknown: set[str] = set()
        self.flushed_rows = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> int:
        with receiver_lock(self.settings, self.config.queue):
            self._warn_secret()
            if self.archive:
                self.archive.prune(force=True)
            # landing files a crashed run left behind go first (the gap back-fill starts after
            # them) — unless a dbt build holds the warehouse: then the flush thread takes them
            # and receiving starts at once instead of waiting for the build
            building = running_build(self.settings.lock_path) is not None
            if not building:
                self._flush(heartbeat=True)
            self.gapfill.request(self._last_seen_in_warehouse(), "start")
            flusher = threading.Thread(
                target=self._flush_loop, args=(building,), name="iris-flush", daemon=True
            )
            flusher.start()
            try:
                self._receive_loop()
            finally:
                self._flush_stop.set()
                flusher.join()
                self.stop.set()  # a back-fill in flight commits what it has and stops
                self.gapfill.join()
                self._flush(heartbeat=True, final=True)
                self.flusher.close()
        log.info(
            "IRIS receiver stopped: %d messages received, %d dead-lettered, %d connection drops",
            self.stats.total_messages,
            self.stats.total_dead_letters,
            self.stats.total_drops,
        )
        return 0

    def _warn_secret(self) -> None:
        warning = secret_warning(self.settings.iris_secret_expires)
        if warning:
            log.warning(warning)

    def _last_seen_in_warehouse(self) -> dict[str, datetime]:
        if self.settings.target != "duckdb" or not self.settings.duckdb_path.exists():
            return {}
        from loaders.common.warehouse import connect_duckdb

        con = connect_duckdb(self.settings, read_only=True, ops_only=True)
        try:
            return last_message_times(con, self.config.queue)
        finally:
            con.close()

    # -- receiving ---------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        from azure.core.exceptions import ClientAuthenticationError
        from azure.servicebus.exceptions import (
            MessagingEntityNotFoundError,
            ServiceBusAuthenticationError,
            ServiceBusAuthorizationError,
            ServiceBusError,
        )

        fatal = (
            ServiceBusAuthenticationError,
            ServiceBusAuthorizationError,
            ClientAuthenticationError,
            MessagingEntityNotFoundError,
        )
        delay = 1.0
        connected_once = False
        while not self.stop.is_set():
            try:
                for _ in self._session(reconnect=connected_once):
                    connected_once = True
                    delay = 1.0
                return
            except fatal as exc:
                if not connected_once:
                    raise IrisConnectError(
                        f"IRIS refused the connection to queue {self.config.queue!r}: "
                        f"{_first_line(exc)}. Check IRIS_CLIENT_ID, IRIS_CLIENT_SECRET, "
                        "IRIS_TENANT_ID and IRIS_QUEUE_NAME"
                    ) from None
                self._dropped(exc, delay)
            except (ServiceBusError, OSError, ConnectionGoneError) as exc:
                self._dropped(exc, delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _dropped(self, exc: BaseException, delay: float) -> None:
        if self.stop.is_set():
            return
        self.stats.drop()
        wait = delay * random.uniform(1.0, 1.25)
        log.warning(
            "IRIS connection lost (%s: %s); reconnecting in %.1fs",
            type(exc).__name__,
            _first_line(exc),
            wait,
        )
        self.stop.wait(wait)

    def _session(self, *, reconnect: bool) -> Iterator[None]:
        """One connection: yields after opening and after each batch, until stopped."""
        from azure.servicebus import AutoLockRenewer, ServiceBusReceiveMode

        # one renewal at a time: parallel management requests on one connection confuse it
        renewer = AutoLockRenewer(max_lock_renewal_duration=LOCK_RENEWAL_S, max_workers=1)
        keeper = LockKeeper(renewer)
        try:
            with self._client_factory(self.config) as client:
                receiver = client.get_queue_receiver(
                    queue_name=self.config.queue,
                    receive_mode=ServiceBusReceiveMode.PEEK_LOCK,
                )
                with receiver:
                    log.info(
                        "IRIS receiver %s queue %s",
                        "reconnected to" if reconnect else "connected to",
                        self.config.queue,
                    )
                    if reconnect:
                        self.gapfill.request(dict(self.stats.last_seen), "reconnect")
                    yield
                    while not self.stop.is_set():
                        messages = receiver.receive_messages(
                            max_message_count=self.settings.iris_batch_size,
                            max_wait_time=self.settings.iris_max_wait_s,
                        )
                        if not messages:
                            if self.drain:
                                self.gapfill.join()  # drained means the back-fill is done too
                                log.info("IRIS queue drained")
                                self.stop.set()
                            continue
                        with keeper.holding(receiver, messages):
                            self._handle(receiver, messages)
                        yield
        finally:
            keeper.close()
            renewer.close(wait=False)

    def _handle(self, receiver: Any, messages: list[Any]) -> None:
        """Land the batch durably, then settle every message: complete or dead-letter."""
        from azure.servicebus.exceptions import MessageLockLostError

        now = datetime.now(UTC)
        landed: list[tuple[Any, LandedMessage]] = []
        bad: list[tuple[Any, MalformedMessage]] = []
        for msg in messages:
            try:
                landed.append((msg, parse_message(msg, self.config.queue, now, self.catalogue)))
            except MalformedMessage as exc:
                bad.append((msg, exc))
        if landed:
            self.landing.append(m for _, m in landed)
            failpoints.hit("iris.after_landing")
            if self.archive:
                try:
                    self.archive.write(m for _, m in landed)
                except OSError as exc:  # the archive is a copy; it must not stop landing
                    log.error("IRIS archive write failed: %s", exc)
        try:
            for msg, exc in bad:
                log.warning(
                    "IRIS message %s (%s) dead-lettered: %s", msg.message_id, msg.subject, exc
                )
                receiver.dead_letter_message(msg, reason=exc.reason, error_description=exc.detail)
                self.stats.dead_letter(exc.dataset)
            for msg, _ in landed:
                try:
                    receiver.complete_message(msg)
                except MessageLockLostError:
                    # landed already; the redelivered copy is dropped by message id at flush
                    log.debug("lock lost on message %s before completion", msg.message_id)
        except ValueError as exc:  # the SDK shut the handler down under us: a lost connection
            raise ConnectionGoneError(str(exc)) from exc
        for _, m in landed:
            unknown = m.dataset is None or endpoint_for(self.catalogue, m.dataset) is None
            if unknown:
                self._report_unknown(m)
            self.stats.message(m.dataset or "UNKNOWN", len(m.records), m.enqueued_at, unknown)

    def _report_unknown(self, m: LandedMessage) -> None:
        name = m.dataset or f"(subject {m.subject!r})"
        if name not in self._warned_unknown:
            self._warned_unknown.add(name)
            log.warning(
                "IRIS dataset %s is not in the BMRS catalogue: its messages are landed raw in "
                "raw_bmrs.iris_unmapped_messages",
                name,
            )

    # -- flushing ----------------------------------------------------------------------------

    def _flush_loop(self, first: bool = False) -> None:
        if first:
            self._flush(heartbeat=True)
        last = time.monotonic()
        while not self._flush_stop.wait(0.2):
            now = time.monotonic()
            pending = self.landing.pending_messages
            due = pending >= self.settings.iris_flush_messages or (
                now - last >= self.settings.iris_flush_seconds
                and (pending or self.landing.closed_files())
            )
            heartbeat = now - self._last_stats >= HEARTBEAT_S
            if due or heartbeat:
                self._flush(heartbeat=heartbeat)
                last = time.monotonic()
            if self.archive:
                self.archive.prune()

    def _flush(self, *, heartbeat: bool = False, final: bool = False) -> None:
        with self._flush_lock:
            self.landing.rotate()
            files = self.landing.closed_files()
            snap = self.stats.take()
            rows = stats_rows(
                snap, self.config.queue, self.settings.iris_secret_expires, heartbeat=heartbeat
            )
            if not files and not rows:
                return
            try:
                outcome = self._send(files, rows, final=final)
            except Exception as exc:  # kept on disk; the next flush tries again
                self.stats.give_back(snap)
                log.error(
                    "IRIS flush into the warehouse failed (%s); the messages stay in the landing "
                    "files and are flushed on the next attempt",
                    _first_line(exc),
                )
                return
            self._last_stats = time.monotonic()
            if heartbeat:
                self._warn_secret()
            rows_by_table = outcome["rows"]
            self.flushed_rows += sum(rows_by_table.values())
            if outcome["messages"]:
                log.info(
                    "IRIS flush: %d messages → %d rows in %s%s (%.1fs)",
                    outcome["messages"],
                    sum(rows_by_table.values()),
                    ", ".join(f"{k} {v}" for k, v in sorted(rows_by_table.items())) or "-",
                    f"; {outcome['unmapped']} held raw" if outcome["unmapped"] else "",
                    outcome["seconds"],
                )

    def _send(self, files: list[Path], rows: list[Any], *, final: bool) -> dict[str, Any]:
        """Hand a flush to the worker. At shutdown a worker that is gone (a stop signal that
        reached it while it was still starting, before it ignores such signals) is replaced
        once: there is no later flush to leave the files to. Flushing files again is harmless
        (they are deleted only after their commit; merge on the key)."""
        try:
            return self.flusher.flush(files, rows)
        except WorkerGoneError:
            if not final:
                raise
            log.info("the flush worker had exited; flushing with a new one")
            return self.flusher.flush(files, rows)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


# the subscription and message parsing live in connection.py and messages.py; their names stay
# importable from here, where the receiver's callers have always found them
__all__ = [
    "CLIENT_OPTIONS",
    "IrisConfig",
    "IrisReceiver",
    "MalformedMessage",
    "ReceiverRunningError",
    "check_connection_string",
    "make_client",
    "parse_message",
    "receiver_lock",
    "resolve_config",
]
