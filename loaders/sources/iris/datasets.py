"""Which catalogue dataset an IRIS message belongs to, and its reference time.

IRIS names a message by its dataset (the message subject, and a `dataset` field in each
record). Most names are the BMRS `/datasets/<NAME>` endpoints of the catalogue; the few that
differ are aliased here. Anything else is an unknown dataset: landed raw and reported.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from loaders.sources.bmrs.catalogue import Catalogue, Endpoint

# IRIS dataset names whose records are served by a differently named API endpoint.
ALIASES = {
    "DISEBSP": "SYSTEM_PRICES",  # detailed system prices: /balancing/settlement/system-prices
}

# The field IRIS uses as a dataset's reference time (the archive's "Timestamp" tag); the rest
# use publishTime. From Elexon's "dataset and timestamp reference".
TIMESTAMP_FIELDS = {
    "BOALF": "acceptanceTime",
    "DISEBSP": "createdDateTime",
    "BOAV": "createdDateTime",
    "EBOCF": "createdDateTime",
    "ISPSTACK": "createdDateTime",
    "REMIT": "createdTime",
    "FREQ": "measurementTime",
    "MILS": "notificationTime",
    "MELS": "notificationTime",
}

_NAME = re.compile(r"^[A-Z0-9_]{2,64}$")


def dataset_name(subject: str | None, records: list[Any]) -> str | None:
    """The message's dataset: its subject, else the first record's `dataset` field."""
    for candidate in (subject, _first_field(records, "dataset")):
        if isinstance(candidate, str) and _NAME.match(candidate.strip().upper()):
            return candidate.strip().upper()
    return None


def endpoint_for(catalogue: Catalogue, dataset: str) -> Endpoint | None:
    name = ALIASES.get(dataset, dataset)
    return catalogue.get(name) if name in catalogue else None


def reference_time(dataset: str, records: list[Any], fallback: datetime) -> datetime:
    """The message's reference time (for archive file names), from its first record."""
    value = _first_field(records, TIMESTAMP_FIELDS.get(dataset, "publishTime"))
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return fallback


def _first_field(records: list[Any], name: str) -> Any:
    if records and isinstance(records[0], dict):
        return records[0].get(name)
    return None
