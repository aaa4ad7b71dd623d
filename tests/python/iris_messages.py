"""IRIS messages for tests, wrapping recorded real BMRS API records.

No IRIS message captures exist (see tests/data/recorded/iris/README.md); IRIS carries the same
records as the API, one JSON array per message with the dataset as the subject. So each message
here is a slice of a recorded real API response, and every id and file name says `_from_api`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loaders.sources.bmrs.catalogue import load_catalogue

RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded" / "bmrs"

SOURCES = {
    "BOALF": "BOALF/boalf_stream_2024-05-01.json",
    "MILS": "MILS/mils_2024-05-01T10-11Z.json",
    "ATL": "ATL/atl_2024-05-01.json",
}


def records(dataset: str) -> list[dict[str, Any]]:
    body = json.loads((RECORDED / SOURCES[dataset]).read_text())
    return body["data"] if isinstance(body, dict) else body


def messages_from_api(
    dataset: str, per_message: int = 5, limit: int | None = None
) -> list[tuple[str, bytes]]:
    """(message id, body) pairs: consecutive slices of the recorded response."""
    rows = records(dataset)[:limit]
    return [
        (
            f"{dataset}_{i // per_message:05d}_from_api",
            json.dumps(rows[i : i + per_message]).encode(),
        )
        for i in range(0, len(rows), per_message)
    ]


def write_from_api(folder: Path, dataset: str, per_message: int = 5) -> list[Path]:
    """The same messages as files for a broker's --preload (subject = the leading name)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for message_id, body in messages_from_api(dataset, per_message):
        path = folder / f"{message_id}.json"
        path.write_bytes(body)
        paths.append(path)
    return paths


def distinct_keys(dataset: str, limit: int | None = None) -> int:
    """How many rows the records make once merged on the dataset's natural key."""
    keys = load_catalogue().get(dataset).keys
    return len({tuple(json.dumps(r.get(k)) for k in keys) for r in records(dataset)[:limit]})
