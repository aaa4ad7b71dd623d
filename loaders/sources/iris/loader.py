"""IRIS as a source of the house: received by `gridwarehouse iris run`, not loaded; a `run`
cycle checks for gaps (back-filling from the BMRS API while the receiver is down), and
`check-endpoints` probes its Service Bus namespace."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from urllib.parse import urlsplit

from loaders.common.probes import Planned, Probe, probe_tcp
from loaders.common.runner import Outcome, Plan
from loaders.common.warehouse import connect_duckdb
from loaders.errors import GridwarehouseError
from loaders.settings import Settings
from loaders.sources.base import BaseSource, Scheduled
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.sources.iris.gapfill import GapFiller
from loaders.sources.iris.receiver import check_connection_string, receiver_lock, resolve_config
from loaders.sources.iris.stats import last_message_times

log = logging.getLogger(__name__)

SOURCE = "iris"


def iris_configured(settings: Settings) -> bool:
    return bool(settings.secret("IRIS_CONNECTION_STRING") or settings.iris_client_id)


class IrisSource(BaseSource):
    name = SOURCE
    title = "Elexon IRIS"
    stale_after = timedelta(minutes=30)
    loadable = False
    # its load-log rows are the receiver's flushes: `status` shows the receiver instead
    in_status = False

    def available(self, settings: Settings) -> bool:
        """Scheduled only with a subscription."""
        return iris_configured(settings)

    def scheduled(self, settings: Settings, chosen: tuple[str, ...] | None) -> set[str]:
        return set()  # held to freshness through the receiver's own stats, not per dataset

    def run_scheduled(self, settings: Settings) -> Scheduled:
        """With the receiver down, back-fill from the API what IRIS would have delivered; with
        it up (its queue lock held) there is nothing to do: it back-fills its own gaps."""
        config = resolve_config(settings)
        try:
            with receiver_lock(settings, config.queue):
                pass  # free: no receiver is running
        except GridwarehouseError:
            return Scheduled(0, [], "receiver running")
        if settings.target != "duckdb" or not settings.duckdb_path.exists():
            return Scheduled(0, [], "nothing received yet")
        con = connect_duckdb(settings, read_only=True, ops_only=True)
        try:
            since = last_message_times(con, config.queue)
        finally:
            con.close()
        if not since:
            return Scheduled(0, [], "nothing received yet")
        log.warning("the IRIS receiver is not running: back-filling its datasets from the BMRS API")
        summary = GapFiller(settings, load_catalogue(), threading.Event()).fill(since, "run")
        note = "receiver not running: gap back-filled from the API"
        if summary is None:
            return Scheduled(0, [], note)
        outcome = Outcome(Plan("bmrs", "run", 1), summary)
        return Scheduled(summary.exit_code, [outcome], note)

    def probes(self, settings: Settings) -> list[Planned]:
        target = _iris_target(settings)
        if target is None:
            return []
        host, port = target
        probe = Probe(SOURCE, "namespace", f"amqps://{host}:{port}")
        return [(probe, lambda client: probe_tcp(probe, host, port))]


def _iris_target(settings: Settings) -> tuple[str, int] | None:
    """The IRIS Service Bus host and port, when IRIS is configured."""
    connection = settings.secret("IRIS_CONNECTION_STRING")
    if connection:
        check_connection_string(connection)  # a malformed one is bad input (exit 2), not a probe
        endpoint = dict(part.split("=", 1) for part in connection.split(";") if "=" in part).get(
            "Endpoint", ""
        )
        parts = urlsplit(endpoint)
        if parts.hostname:
            emulator = "usedevelopmentemulator=true" in connection.lower()
            return parts.hostname, parts.port or (5672 if emulator else 5671)
    namespace = settings.iris_namespace if settings.secret("IRIS_CLIENT_SECRET") else None
    if namespace:
        host = namespace if "." in namespace else f"{namespace}.servicebus.windows.net"
        return host, 5671
    return None
