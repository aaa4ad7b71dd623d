"""Saying what is wrong with bytes that should have been UTF-8 text, and where, in the same
words whether they came from a download or a file on disk."""

from __future__ import annotations


def not_utf8(exc: UnicodeDecodeError, *, end: int | None = None, line: int = 1) -> str:
    """`not UTF-8 text (byte 0xe9 on line 3, offset 45)`: the first byte that is not UTF-8.

    The bytes decoded are `exc.object`; when they are a chunk of something longer, `end` is the
    offset just past them and `line` the line they start on (defaults: the whole thing)."""
    data: bytes = exc.object
    if exc.reason == "unexpected end of data":  # a multi-byte character cut off by the end
        return "not UTF-8 text (it ends inside a character)"
    # a decoder may hold back a BOM (utf-8-sig) or the start of a character from an earlier
    # chunk: counting from the end of what it was given places the byte in the whole
    offset = (len(data) if end is None else end) - len(data) + exc.start
    line += data[: exc.start].count(b"\n")
    return f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}, offset {offset})"
