"""`--archive DIR`: every message also kept as a JSON file, per dataset folder, named like
Elexon's own client (the message's `source_file_name`, else `DATASET_yyyymmddHHMM_seq.json`),
and pruned after `--archive-keep-days`."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from pathlib import Path

import orjson

from loaders.sources.iris.datasets import reference_time
from loaders.sources.iris.landing import LandedMessage

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json$")


def archive_name(message: LandedMessage) -> str:
    if message.file_name and _SAFE_NAME.match(message.file_name):
        return message.file_name
    dataset = message.dataset or "UNKNOWN"
    stamp = reference_time(dataset, message.records, message.enqueued_at).strftime("%Y%m%d%H%M")
    seq = message.sequence if message.sequence is not None else abs(hash(message.message_id))
    return f"{dataset}_{stamp}_{seq}.json"


class Archive:
    def __init__(self, folder: Path, keep_days: float) -> None:
        self.folder = folder
        self.keep_days = keep_days
        self._last_prune = 0.0
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, messages: Iterable[LandedMessage]) -> None:
        for m in messages:
            folder = self.folder / (m.dataset or "UNKNOWN")
            folder.mkdir(exist_ok=True)
            (folder / archive_name(m)).write_bytes(orjson.dumps(m.records))

    def prune(self, *, force: bool = False) -> int:
        """Delete archive files older than the keep period (checked at most hourly)."""
        now = time.time()
        if not force and now - self._last_prune < 3600:
            return 0
        self._last_prune = now
        cutoff = now - self.keep_days * 86400
        removed = 0
        for path in self.folder.glob("*/*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        if removed:
            log.info("archive: removed %d files older than %g days", removed, self.keep_days)
        return removed
