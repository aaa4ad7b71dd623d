"""Back-fill from the BMRS API what IRIS may have missed: messages live 3 days on the queue,
so after a long stop (or a dropped connection) the API is the only way to fill the gap.

Runs in the background, per dataset from its last IRIS message to now, through the same
engine as `gridwarehouse load bmrs` (its own dlt pipeline, `iris_backfill`); merge on the
natural key keeps the overlap with messages still on the queue harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from loaders.common.engine import BatchLimits, run_tasks
from loaders.settings import Settings
from loaders.sources.bmrs.catalogue import SNAPSHOT, Catalogue
from loaders.sources.bmrs.plan import range_tasks, resolve_datasets
from loaders.sources.iris.datasets import endpoint_for

log = logging.getLogger(__name__)

PIPELINE = "iris_backfill"
MARGIN = timedelta(minutes=10)  # records published just before the last message


class GapFiller:
    def __init__(self, settings: Settings, catalogue: Catalogue, stop: threading.Event) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.stop = stop
        self._lock = threading.Lock()
        self._pending: dict[str, datetime] = {}
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.last_summary: object = None

    def request(self, since: Mapping[str, datetime], reason: str) -> None:
        """Ask for a back-fill of each dataset from its time in `since` to now."""
        if not self.settings.iris_backfill or not since:
            return
        with self._lock:
            for name, at in since.items():
                if name not in self._pending or at < self._pending[name]:
                    self._pending[name] = at
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, args=(reason,), name="iris-gapfill", daemon=True
                )
                self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the back-fill in flight (and any queued behind it) to finish."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, reason: str) -> None:
        while not self.stop.is_set():
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return
            try:
                self.fill(pending, reason)
            except Exception:  # a failed back-fill must not take the receiver down
                log.exception("IRIS gap back-fill from the BMRS API failed; will retry later")

    def fill(
        self, pending: Mapping[str, datetime], reason: str, end: datetime | None = None
    ) -> object:
        """Load each dataset from its time in `pending` (less a margin) to `end` (now), from the
        BMRS API; returns the run summary (None when no dataset has API windows)."""
        # the adapter brings dlt and pyarrow: imported when a gap is filled, not by every
        # receiver (and `run`) that only checks for gaps
        from loaders.sources.bmrs.source import BmrsAdapter

        end = end or datetime.now(UTC)
        tasks = []
        for name, since in sorted(pending.items()):
            endpoint = endpoint_for(self.catalogue, name)
            if endpoint is None or endpoint.window == SNAPSHOT:
                continue
            start = min(since - MARGIN, end - MARGIN)
            endpoints = resolve_datasets(
                self.catalogue, [endpoint.name], False, self.settings.bmrs_windows
            )
            tasks += range_tasks(endpoints, start, end, settlement_days=False)
        if not tasks:
            return None
        log.info(
            "IRIS gap back-fill (%s): %d windows of %s from the BMRS API",
            reason,
            len(tasks),
            ", ".join(sorted({t.dataset for t in tasks})),
        )
        adapter = BmrsAdapter(self.settings, self.catalogue)
        try:
            summary = run_tasks(
                adapter,
                tasks,
                self.settings,
                concurrency=self.settings.bmrs_concurrency,
                limits=BatchLimits(self.settings.commit_rows, self.settings.commit_windows, 30.0),
                stop=self.stop,
                pipeline_name=PIPELINE,
            )
        finally:
            adapter.close()
        self.runs += 1
        self.last_summary = summary
        level = logging.INFO if summary.exit_code == 0 else logging.WARNING
        log.log(
            level,
            "IRIS gap back-fill done: %d rows, %d windows failed",
            summary.rows,
            summary.failed,
        )
        return summary
