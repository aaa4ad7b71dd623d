"""Durable landing files: every received message is appended and fsynced here before it is
completed on the queue, so a crash at any point loses nothing (an uncompleted message is
delivered again; a landed one is flushed from its file on the next start).

One JSON line per message. Files are append-only; the receiver writes to the newest and
rotates it at each flush; the flusher deletes a file only after its rows are committed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"


@dataclass
class LandedMessage:
    """A message as landed: its identity, when it was enqueued, and its records."""

    message_id: str
    sequence: int | None
    subject: str | None
    dataset: str | None
    enqueued_at: datetime
    received_at: datetime
    records: list[Any]
    file_name: str | None = None

    def line(self) -> bytes:
        return (
            orjson.dumps(
                {
                    "id": self.message_id,
                    "seq": self.sequence,
                    "subject": self.subject,
                    "dataset": self.dataset,
                    "enqueued": self.enqueued_at,
                    "received": self.received_at,
                    "file": self.file_name,
                    "records": self.records,
                },
                option=orjson.OPT_UTC_Z,
            )
            + b"\n"
        )

    @classmethod
    def from_line(cls, data: dict[str, Any]) -> LandedMessage:
        return cls(
            message_id=data["id"],
            sequence=data.get("seq"),
            subject=data.get("subject"),
            dataset=data.get("dataset"),
            enqueued_at=_time(data["enqueued"]),
            received_at=_time(data["received"]),
            records=data["records"],
            file_name=data.get("file"),
        )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LandingWriter:
    """Appends batches of messages to the current landing file, durably."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._handle: Any = None
        self._path: Path | None = None
        self._counter = 0
        self.pending_messages = 0  # landed since the last rotation

    def append(self, messages: Iterable[LandedMessage]) -> int:
        """Write and fsync; returns how many messages were landed. Only after this returns
        may the messages be completed on the queue."""
        data = b"".join(m.line() for m in messages)
        if not data:
            return 0
        with self._lock:
            if self._handle is None:
                self._open()
            self._handle.write(data)
            self._handle.flush()
            os.fsync(self._handle.fileno())
            count = data.count(b"\n")
            self.pending_messages += count
            return count

    def rotate(self) -> None:
        """Close the current file so the flusher may take it; the next append opens a new one."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle, self._path = None, None
            self.pending_messages = 0

    def closed_files(self) -> list[Path]:
        """Landing files not being written to, oldest first (names sort by creation).

        The folder is listed under the writer's lock: listed outside it, a file the receiver
        opens in between would be taken (and deleted after the flush) while still written to,
        losing the completed messages appended to it afterwards."""
        with self._lock:
            current = self._path
            return sorted(p for p in self.folder.glob(f"*{SUFFIX}") if p != current)

    def close(self) -> None:
        self.rotate()

    def _open(self) -> None:
        self._counter += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._path = self.folder / f"landing-{stamp}-{os.getpid()}-{self._counter:06d}{SUFFIX}"
        self._handle = self._path.open("ab")
        _fsync_dir(self.folder)  # the new file's name must survive a crash too


def read_landing(path: Path) -> Iterator[LandedMessage]:
    """Messages of one landing file. A torn last line (a crash mid-write) is skipped: its
    messages were never completed, so the queue delivers them again."""
    lines = path.read_bytes().split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            yield LandedMessage.from_line(orjson.loads(raw))
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
            where = "torn last line" if number >= len(lines) - 1 else f"line {number}"
            log.warning("%s of landing file %s is unreadable; skipped", where, path.name)
