"""ISO-NE response bodies -> flat records with UTC instants, ready for `jsonrows.convert`.

What ISO-NE does that other sources do not, handled here once:
- a list of one record comes back as the record itself (`current` endpoints), and a
  `current` body may drop the plural wrapper ({"HourlyDaDemand": {...}});
- locations are objects, {"@LocId": "32", "$": "NEPOOL AREA"}: flattened to Location, LocId;
- timestamps carry the local offset (2024-11-03T01:00:00.000-05:00): stored as the UTC
  instant, with the local wall time and the offset kept beside it, so the repeated hour of
  the autumn clock change stays two distinct keys;
- XML (the fallback format) and the website's C/H/D/T CSV reports are read into the same shape.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from loaders.common.http import malformed
from loaders.common.records import FieldSpec
from loaders.errors import BadResponseError
from loaders.sources.isone.config import Endpoint

EASTERN = ZoneInfo("America/New_York")  # ISO-NE's market days and local times
_ZONE_ABBREVIATIONS = {"EST": "-05:00", "EDT": "-04:00"}
LOCAL_SUFFIX, OFFSET_SUFFIX = "Local", "Offset"


# -- finding the records in a body -----------------------------------------------------------


def find_records(body: Any, root: Sequence[str], url: str) -> list[dict[str, Any]]:
    """The records under `root` (e.g. HourlySystemLoads/HourlySystemLoad), always a list.
    An empty wrapper ("", {}, null) is no records; a body without the wrapper is an error."""
    node = body
    if root and isinstance(body, dict) and root[0] not in body and root[-1] in body:
        node = body[root[-1]]  # a `current` body without the plural wrapper
    else:
        for key in root:
            if _is_empty(node):
                return []
            if not isinstance(node, dict) or key not in node:
                raise BadResponseError(
                    f"{url} returned {_shape(body)} without {'/'.join(root)}; "
                    "no rows were taken from it",
                    url=url,
                )
            node = node[key]
    if _is_empty(node):
        return []
    records = node if isinstance(node, list) else [node]  # one record comes as an object
    bad = next((r for r in records if not isinstance(r, dict)), None)
    if bad is not None:
        raise BadResponseError(
            f"{url} returned a record that is not an object: {bad!r:.80}", url=url
        )
    return records


def _is_empty(node: Any) -> bool:
    return node is None or node == "" or node == {} or node == []


def _shape(body: Any) -> str:
    if isinstance(body, dict):
        return f"an object with keys {sorted(body)[:5]}"
    return f"a {type(body).__name__}"


def json_records(body: bytes, endpoint: Endpoint, url: str) -> list[dict[str, Any]]:
    """Records of a JSON body (web services or the website's wsclient)."""
    if not body.strip():
        raise malformed(url, body, "empty body")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise malformed(url, body, exc) from None
    if endpoint.format == "wsclient":
        return wsclient_records(value, endpoint.series, url)
    return find_records(value, endpoint.root, url)


def wsclient_records(value: Any, series: Sequence[str], url: str) -> list[dict[str, Any]]:
    """Records of a www.iso-ne.com/ws/wsclient answer, [{"data": {series: [records]}}];
    series "*" takes every one (external flows: one series per location id)."""
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        raise BadResponseError(
            f"{url} did not return a wsclient answer ([{{'data': ...}}])", url=url
        )
    data = value[0].get("data")
    if _is_empty(data):
        return []
    if not isinstance(data, dict):
        raise BadResponseError(f"{url} returned wsclient data that is not an object", url=url)
    names = list(data) if "*" in series else list(series)
    records: list[dict[str, Any]] = []
    for name in names:
        records.extend(find_records(data.get(name), (), url))
    return records


# -- XML (the fallback format) ---------------------------------------------------------------


def xml_records(body: bytes, endpoint: Endpoint, url: str) -> list[dict[str, Any]]:
    """Records of an XML body, read into the JSON shape the service uses (attributes as
    "@name", element text beside attributes as "$"), so the same root and fields apply."""
    head = body[:2000].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:  # never expand entities from a response
        raise BadResponseError(f"{url} returned XML with a DOCTYPE; not read", url=url)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise malformed(url, body, f"not well-formed XML: {exc}") from None
    return find_records({_local_name(root.tag): _xml_value(root)}, endpoint.root, url)


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_value(element: ET.Element) -> Any:
    attributes = {
        f"@{_local_name(k)}": v for k, v in element.attrib.items() if "XMLSchema-instance" not in k
    }
    text = (element.text or "").strip() or None
    children = list(element)
    if not children:
        return {**attributes, "$": text} if attributes else text
    value: dict[str, Any] = dict(attributes)
    for child in children:
        name, item = _local_name(child.tag), _xml_value(child)
        if name not in value:
            value[name] = item
        elif isinstance(value[name], list):
            value[name].append(item)
        else:
            value[name] = [value[name], item]
    return value


# -- the website's C/H/D/T CSV reports ---------------------------------------------------------


def chdt_rows(body: bytes, url: str) -> list[list[str]]:
    """Rows of a C/H/D/T report (Comment, Header, Data, Trailer); a report without its
    trailer row was cut off in transit."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise malformed(url, body, f"not a UTF-8 CSV report: {exc}") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if not rows or rows[-1][0] != "T":
        raise malformed(url, body, "a C/H/D/T report without its trailer row (truncated?)")
    return rows


def chdt_records(body: bytes, url: str) -> list[dict[str, Any]]:
    """Data rows of a one-table C/H/D/T report, named by its first header row."""
    rows = chdt_rows(body, url)
    header = next((row[1:] for row in rows if row[0] == "H"), None)
    if header is None:
        raise malformed(url, body, "a C/H/D/T report without a header row")
    return [
        {
            name: (value if value != "" else None)
            for name, value in zip(header, row[1:], strict=False)
        }
        for row in rows
        if row[0] == "D"
    ]


def seven_day_records(body: bytes, url: str) -> list[dict[str, Any]]:
    """The seven-day wind/solar forecast report: one record per forecast day and hour ending
    (blank cells, the hours before publication and after the horizon, are left out)."""
    rows = chdt_rows(body, url)
    comments = [row[1] for row in rows if row[0] == "C" and len(row) > 1]
    report_day = _report_day(comments, url)
    created = next((_report_time(c) for c in comments if c.startswith("Report generated")), None)
    dates_row = next((row for row in rows if row[0] == "D" and row[1:2] == ["Date"]), None)
    if dates_row is None:
        raise malformed(url, body, "a seven-day report without its Date row")
    days = [datetime.strptime(text, "%m/%d/%Y").date() for text in dates_row[3:]]
    records = []
    for row in rows:
        if row[0] != "D" or row[1] != "" or len(row) < 3:
            continue
        for day, value in zip(days, row[3:], strict=False):
            if value.strip() == "":
                continue
            start = hour_ending_start(day, row[2].strip())
            records.append(
                {
                    "ReportDate": report_day.isoformat(),
                    "CreationDate": created,
                    "BeginDate": start.astimezone(EASTERN).isoformat(),
                    "HourEnding": row[2].strip(),
                    "Mw": _number(value),
                }
            )
    return records


def _report_day(comments: Iterable[str], url: str) -> date:
    for comment in comments:
        if comment.startswith("Report for "):
            return datetime.strptime(comment.removeprefix("Report for ").strip(), "%m/%d/%Y").date()
    raise BadResponseError(f"{url}: a seven-day report without its 'Report for' line", url=url)


def _report_time(comment: str) -> str | None:
    """'Report generated 02/25/2025 10:02:35 EST' as an ISO time with its offset."""
    parts = comment.removeprefix("Report generated").split()
    if len(parts) != 3 or parts[2] not in _ZONE_ABBREVIATIONS:
        return None
    when = datetime.strptime(f"{parts[0]} {parts[1]}", "%m/%d/%Y %H:%M:%S")
    return when.isoformat() + _ZONE_ABBREVIATIONS[parts[2]]


def _number(text: str) -> float | int | str:
    try:
        number = float(text)
    except ValueError:
        return text  # the conversion names the field and value (TypeDrift)
    return int(number) if number.is_integer() and "." not in text else number


def hour_ending_start(day: date, label: str) -> datetime:
    """The UTC start of hour ending `label` ("01".."24", "02X" for the repeated hour of the
    autumn clock change) of an Eastern market day."""
    repeated = label.upper().endswith("X")
    hour = int(label.upper().rstrip("X"))
    wall = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour - 1)
    start = wall.replace(tzinfo=EASTERN, fold=1 if repeated else 0)
    utc = start.astimezone(UTC)
    if utc.astimezone(EASTERN).replace(tzinfo=None) != wall:
        # the wall time does not exist (spring forward): the hour is the one ending at HE:00
        end = (wall + timedelta(hours=1)).replace(tzinfo=EASTERN)
        utc = end.astimezone(UTC) - timedelta(hours=1)
    return utc


# -- normalising records ---------------------------------------------------------------------


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """Objects become columns: {"Location": {"@LocId": "32", "$": "NEPOOL AREA"}} gives
    Location = "NEPOOL AREA", LocId = "32" (an attribute named like a field gets its prefix)."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if not isinstance(value, dict):
            flat[key] = value
            continue
        for sub, inner in value.items():
            if sub == "$":
                flat[key] = inner
            else:
                name = sub.lstrip("@")
                flat[name if name not in record else f"{key}{name}"] = inner
    return flat


def split_instant(text: str) -> tuple[str, str, str] | None:
    """'2024-11-03T01:00:00.000-05:00' -> (UTC instant, local wall time, offset); None when it
    is not a timestamp (the conversion then reports the value). A time without an offset is
    Eastern prevailing time, ISO-NE's convention."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=EASTERN)
    offset = when.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    utc = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return (
        utc,
        when.replace(tzinfo=None).isoformat(),
        f"{sign}{minutes // 60:02d}:{minutes % 60:02d}",
    )


def normalise(
    records: Iterable[dict[str, Any]], fields: Sequence[FieldSpec], rename: dict[str, str]
) -> list[dict[str, Any]]:
    """Flattened, renamed records with every declared timestamp split into UTC, local, offset."""
    stamps = [f.name for f in fields if f.type == "timestamp"]
    out = []
    for record in records:
        flat = {rename.get(k, k): v for k, v in flatten(record).items()}
        for name in stamps:
            value = flat.get(name)
            parts = split_instant(value) if isinstance(value, str) else None
            if parts is not None:
                flat[name], flat[name + LOCAL_SUFFIX], flat[name + OFFSET_SUFFIX] = parts
        out.append(flat)
    return out


def declared_fields(fields: Sequence[FieldSpec]) -> tuple[FieldSpec, ...]:
    """The configured fields plus, after each timestamp, its local time and offset columns."""
    out: list[FieldSpec] = []
    for spec in fields:
        out.append(spec)
        if spec.type == "timestamp":
            out += [
                FieldSpec(spec.name + LOCAL_SUFFIX, "string"),
                FieldSpec(spec.name + OFFSET_SUFFIX, "string"),
            ]
    return tuple(out)
