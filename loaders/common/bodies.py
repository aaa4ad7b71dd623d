"""Checks that a response body is the data, not a page or a cut-off stream: the errors they
raise name the URL and say that no rows were taken."""

from __future__ import annotations

from typing import Any

import orjson

from loaders.errors import BadResponseError


def looks_like_html(body: bytes, *, markup_ok: bool = False) -> bool:
    """A body that is a page rather than data: it opens with a tag (after a BOM/whitespace)."""
    head = body[:200].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith(b"<") and not markup_ok
    )


def html_page(shown: str, body: bytes) -> BadResponseError:
    """The error for a page where data was expected (a login, maintenance or error page)."""
    return BadResponseError(
        f"{shown} returned an HTML page instead of JSON ({len(body)} bytes: "
        f"{snippet(body)}); no rows were taken from it",
        url=shown,
    )


def malformed(url: str, body: bytes, detail: object) -> BadResponseError:
    """The error for a body that is not well-formed JSON (typically cut off in transit)."""
    return BadResponseError(
        f"{url} returned truncated or malformed JSON ({len(body)} bytes, {detail}); "
        "no rows were taken from it",
        url=url,
    )


def whole_array(body: bytes, url: str) -> bytes:
    """A bare JSON array body, checked to be closed. DuckDB's array reader accepts an array cut
    after a record's "}," as if it were whole (it rejects every other cut), so a body passed to
    it unparsed must end in "]" — else it was cut off in transit."""
    if body.lstrip()[:1] != b"[":
        raise malformed(url, body, "not a JSON array of records")
    if body.rstrip()[-1:] != b"]":
        raise malformed(url, body, "the array is not closed: the body was cut off")
    return body


def decode_json(body: bytes, url: str) -> Any:
    """The default decoder: the whole body as JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise malformed(url, body, exc) from None


def snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()
    return text + ("…" if len(body) > limit else "")
