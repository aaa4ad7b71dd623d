"""An IRIS message as records to land, or `MalformedMessage` saying why it cannot be (the
reason is sent to the broker's dead-letter queue with the message)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from loaders.logs import redact
from loaders.sources.bmrs.catalogue import Catalogue
from loaders.sources.iris.datasets import dataset_name, endpoint_for
from loaders.sources.iris.landing import LandedMessage

DESCRIPTION_MAX = 1000


class MalformedMessage(Exception):
    def __init__(self, reason: str, detail: str, dataset: str | None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = (redact(detail) or "")[:DESCRIPTION_MAX]  # sent to the broker's DLQ
        self.dataset = dataset


def _body_bytes(msg: Any) -> bytes:
    from azure.servicebus.amqp import AmqpMessageBodyType

    if msg.body_type == AmqpMessageBodyType.DATA:
        return b"".join(bytes(part) for part in msg.body)
    if msg.body_type == AmqpMessageBodyType.VALUE:
        value = msg.body
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        return orjson.dumps(value)
    raise MalformedMessage("unsupported-body", "an AMQP sequence body, not JSON", msg.subject)


def parse_message(
    msg: Any, queue: str, received_at: datetime, catalogue: Catalogue | None = None
) -> LandedMessage:
    """A received message as records, or MalformedMessage saying why it cannot be landed."""
    raw = _body_bytes(msg)
    subject = msg.subject
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(
            "malformed-json", f"the body is not JSON ({exc}); it starts {raw[:80]!r}", subject
        ) from None
    records = _records_of(body, subject, catalogue)
    bad = next((r for r in records if not isinstance(r, dict)), None)
    if bad is not None:
        raise MalformedMessage(
            "not-records", f"a record is not a JSON object: {orjson.dumps(bad)[:80]!r}", subject
        )
    props = msg.application_properties or {}
    file_name = props.get(b"source_file_name") or props.get("source_file_name")
    sequence = msg.sequence_number
    enqueued = msg.enqueued_time_utc or received_at
    return LandedMessage(
        message_id=str(msg.message_id) if msg.message_id else f"{queue}:{sequence}",
        sequence=sequence,
        subject=subject,
        dataset=dataset_name(subject, records),
        enqueued_at=enqueued if enqueued.tzinfo else enqueued.replace(tzinfo=UTC),
        received_at=received_at,
        records=records,
        file_name=file_name.decode() if isinstance(file_name, bytes) else file_name,
    )


def _records_of(body: Any, subject: str | None, catalogue: Catalogue | None) -> list[Any]:
    """The records of a body: a list, {"data": [...]}, or one record of the subject's dataset.
    Anything else (null, {"data": null}, an {"error": ...} object) is not records."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and "data" in body:
        if isinstance(body["data"], list):
            return body["data"]
        raise MalformedMessage(
            "not-records", f'the body\'s "data" is {_json_kind(body["data"])}, not a list', subject
        )
    if isinstance(body, dict):
        if _is_one_record(body, subject, catalogue):
            return [body]
        shown = ", ".join(sorted(body))[:120]
        raise MalformedMessage(
            "not-records",
            f"the body is a JSON object without the natural key of its dataset {subject}: "
            f"fields {shown}",
            subject,
        )
    raise MalformedMessage("not-records", f"the body is {_json_kind(body)}, not records", subject)


def _is_one_record(body: dict[str, Any], subject: str | None, catalogue: Catalogue | None) -> bool:
    """A lone object is a record when it carries its dataset's natural key fields (a dataset
    not in the catalogue is landed raw as it is, so any object will do for it)."""
    dataset = dataset_name(subject, [body])
    endpoint = endpoint_for(catalogue, dataset) if catalogue and dataset else None
    if endpoint is None:
        return True
    return all(k in body for k in endpoint.keys) and bool(set(body) & set(endpoint.field_names))


def _json_kind(value: Any) -> str:
    return "null" if value is None else f"a JSON {type(value).__name__}"
