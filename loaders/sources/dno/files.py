"""DNO files a user downloaded by hand (CSV or XLSX): checked first, then converted on disk.

A portal's full download can be hundreds of MB, so a file is never held in memory whole:
DuckDB reads the CSV straight from disk (an XLSX is first streamed row by row into a CSV),
adds the standard columns, keeps one row per natural key, and writes a Parquet file that the
load then streams to the warehouse in bounded batches. Anything wrong with the file (not
UTF-8, not a workbook, no key columns, not parseable) is bad input: one line naming the file,
exit 2, and nothing is written.
"""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from loaders.common.keyhash import key_hash_sql
from loaders.common.records import snake_case
from loaders.common.text import not_utf8
from loaders.errors import GridwarehouseError, UsageError

SUFFIXES = (".csv", ".xlsx", ".xlsm")
BATCH_ROWS = 20_000  # rows per Arrow batch handed to dlt: bounds the load's memory
ROW_GROUP_ROWS = 10_000  # the Parquet writer buffers a row group: small keeps DuckDB small
_CHUNK = 1 << 20
# DuckDB's own memory while converting a file; beyond it, it spills to the scratch folder
CONVERT_MEMORY = "128MB"
RESERVED = ("dno", "_source", "_record_hash", "_natural_key", "_loaded_at")


class WarehouseError(GridwarehouseError):
    """Converting a good file failed for a reason of this machine (memory, disk): exit 1."""


@dataclass
class StreamedTable:
    """A converted file waiting on disk (Parquet), read back in batches when committed."""

    path: Path
    num_rows: int
    schema: pa.Schema

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
        """The rows in tables of at most `rows`, with the exact schema (key not null)."""
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.path) as parquet:
            for batch in parquet.iter_batches(batch_size=rows):
                yield pa.Table.from_batches([batch]).cast(self.schema)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def bad_file(path: Path, problem: str) -> UsageError:
    """Bad input naming the file, on one line (DuckDB's first two lines say what it is)."""
    lines = [line.strip() for line in problem.strip().splitlines() if line.strip()]
    first = " ".join(lines[:2]) or "unreadable"
    return UsageError(f"--file {path}: {first}")


def check_file(path: Path) -> None:
    """The file exists, has a suffix we read, and is not empty."""
    if not path.is_file():
        raise bad_file(path, "no such file")
    if path.suffix.lower() not in SUFFIXES:
        raise bad_file(path, "use a .csv or .xlsx file downloaded from the portal")
    if path.stat().st_size == 0:
        raise bad_file(path, "the file is empty (not even a header row)")


def check_utf8(path: Path) -> None:
    """Refuse a CSV that is not UTF-8 (e.g. saved as Latin-1 by a spreadsheet), naming the
    line, before anything is converted: reads the file in chunks, never whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                problem = not_utf8(exc, end=offset + len(chunk), line=line)
                raise bad_file(
                    path, f"{problem}; save it as 'CSV UTF-8' and load it again"
                ) from None
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise bad_file(path, not_utf8(exc, end=offset, line=line)) from None


def xlsx_to_csv(path: Path, out: Path) -> None:
    """The first sheet of a workbook as a UTF-8 CSV, row by row (openpyxl's read-only mode)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise bad_file(path, f"not an Excel workbook (.xlsx): {exc}") from None
    try:
        if not book.worksheets:
            raise bad_file(path, "the workbook has no sheets")
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(h is None for h in header):
            raise bad_file(path, "the first sheet has no header row")
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                str(h).strip() if h is not None else f"column_{i}" for i, h in enumerate(header)
            )
            for row in rows:
                if any(v is not None for v in row):
                    writer.writerow(_cell(v) for v in row)
    finally:
        book.close()


def delimiter(path: Path) -> str:
    """The header line's separator: a comma, or the semicolon, tab or bar it has more of (an
    OpenDataSoft CSV export uses semicolons)."""
    with path.open("rb") as handle:
        first = handle.read(_CHUNK).split(b"\n", 1)[0]
    counts = {d: first.count(d.encode()) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _scratch_file(scratch: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix, dir=scratch)
    os.close(fd)
    return Path(name)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _connection(scratch: Path) -> Any:
    import duckdb

    # one thread: row_number() over () is then the row's position in the file
    con = duckdb.connect(
        config={
            "threads": 1,
            "memory_limit": CONVERT_MEMORY,
            "temp_directory": str(scratch),
            "preserve_insertion_order": True,
        }
    )
    con.execute("set TimeZone = 'UTC'")
    return con


def _columns(con: Any, path: Path, source_sql: str) -> list[str]:
    import duckdb

    try:
        return [row[0] for row in con.execute(f"describe select * from {source_sql}").fetchall()]
    except duckdb.Error as exc:
        raise bad_file(path, f"not a CSV file that can be read: {exc}") from None


def key_columns(path: Path, header: Sequence[str], keys: Sequence[str], what: str) -> list[str]:
    """The header names of the configured key columns (matched as written or in snake_case);
    every column when none are configured (loaders/sources/dno/portals.toml's documented default)."""
    if not keys:
        return list(header)
    by_snake = {snake_case(h): h for h in header}
    missing = [k for k in keys if k not in header and snake_case(k) not in by_snake]
    if missing:
        raise bad_file(
            path,
            f"no column {', '.join(missing)}, which identifies a {what} record "
            "(keys in loaders/sources/dno/portals.toml); is this the file for that --dno and --dataset?",
        )
    return [k if k in header else by_snake[snake_case(k)] for k in keys]


def _unique_columns(path: Path, header: Sequence[str]) -> list[str]:
    """Raw column names (snake_case) for the header; two headers that become one name are
    refused rather than one silently overwriting the other. A field named like a column the
    loader adds (UKPN datasets have a `dno` field: the licence area) is kept as source_<name>."""
    seen: dict[str, str] = {}
    for name in header:
        column = snake_case(name) or "column"
        if column in RESERVED:
            column = f"source_{column.lstrip('_')}"
        if column in seen:
            raise bad_file(
                path, f"columns {seen[column]!r} and {name!r} would both be stored as {column}"
            )
        seen[column] = name
    return list(seen)


def convert_file(
    path: Path,
    *,
    dno: str,
    kind: str,
    keys: Sequence[str],
    scratch: Path,
    loaded_at: datetime,
) -> tuple[StreamedTable, list[str]]:
    """Check and convert a downloaded file; the Parquet result and notes for the load log."""
    import duckdb

    check_file(path)
    scratch.mkdir(parents=True, exist_ok=True)
    csv_path = path
    made: list[Path] = []
    try:
        if path.suffix.lower() != ".csv":
            csv_path = _scratch_file(scratch, ".csv")
            made.append(csv_path)
            xlsx_to_csv(path, csv_path)
        else:
            check_utf8(path)
        con = _connection(scratch)
        try:
            # the dialect is given, not sniffed: DuckDB's sniffer may skip leading rows or
            # read a ragged file as one column, silently; given, a ragged row is an error
            source_sql = (
                f"read_csv({_lit(str(csv_path))}, header = true, skip = 0, "
                f"delim = {_lit(delimiter(csv_path))}, quote = '\"', escape = '\"', "
                "all_varchar = true, strict_mode = true)"
            )
            header = _columns(con, path, source_sql)
            columns = _unique_columns(path, header)
            key = key_columns(path, header, keys, f"{dno} {kind}")
            out = _scratch_file(scratch, ".parquet")
            made.append(out)
            try:
                received, kept = _write_parquet(
                    con,
                    source_sql,
                    header,
                    columns,
                    key,
                    dno,
                    loaded_at,
                    out,
                    every_column=not keys,
                )
            except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
                raise bad_file(path, f"not a CSV file that can be read: {exc}") from None
            except duckdb.Error as exc:  # e.g. out of memory or disk: not the file's fault
                raise WarehouseError(f"--file {path}: converting it failed: {exc}") from None
        finally:
            con.close()
        made.remove(out)
        notes = [f"file {path}"]
        if kept < received:
            notes.append(
                f"{received - kept} records repeated a natural key; kept the latest in the file"
            )
        return StreamedTable(out, kept, _schema(columns)), notes
    finally:
        for leftover in made:
            leftover.unlink(missing_ok=True)


def _write_parquet(
    con: Any,
    source_sql: str,
    header: Sequence[str],
    columns: Sequence[str],
    key: Sequence[str],
    dno: str,
    loaded_at: datetime,
    out: Path,
    *,
    every_column: bool,
) -> tuple[int, int]:
    """COPY the converted rows to Parquet, keeping the last row of a repeated key; rows read
    and rows kept. Two streaming passes, so memory does not grow with the file: the first
    finds the (rare) repeated keys by their hash, the second writes every row except the
    earlier copies of those."""
    # the same standard columns the JSON path makes: the key and hash use each value's JSON
    # text, and the DNO leads the key so that keys are unique across DNOs. A key of every
    # column is kept as the MD5 of those values: a whole row as key text would double what
    # is stored and make the merge's join as wide as the file
    values = (
        "concat_ws(',', "
        + ", ".join(f"coalesce(to_json({_q(k)})::varchar, 'null')" for k in key)
        + ")"
    )
    natural_key = (
        f"'[' || {_lit(_json_text(dno))} || ',' || {values} || ']'"
        if not every_column
        else f"'[' || {_lit(_json_text(dno))} || ',\"' || md5({values}) || '\"]'"
    )
    # the cells are text, as the portal's API path types them (keyhash.py)
    digest = key_hash_sql([(k, "string") for k in key])
    # row_number() over () streams; it is the row's position in the file (one thread)
    body = f"(select *, row_number() over () as _gw_ord from {source_sql})"
    con.execute(
        f"""create temp table repeated as
            select md5_number({natural_key}) as _gw_key, max(_gw_ord) as _gw_last,
                   count(*) - 1 as _gw_extra
            from {body} group by 1 having count(*) > 1"""
    )
    extra = con.execute("select coalesce(sum(_gw_extra), 0) from repeated").fetchone()[0]
    selects = ", ".join(f"b.{_q(h)} as {_q(c)}" for h, c in zip(header, columns, strict=True))
    keep = (
        f"left join repeated r on md5_number({natural_key}) = r._gw_key "
        "where r._gw_key is null or b._gw_ord = r._gw_last"
        if extra
        else ""
    )
    result = con.execute(
        f"""copy (
            select {_lit(dno)} as dno, {selects},
                   'file' as _source,
                   {digest} as _record_hash,
                   {natural_key} as _natural_key,
                   {_lit(loaded_at.isoformat())}::timestamptz as _loaded_at
            from {body} b {keep}
        ) to {_lit(str(out))} (format parquet, row_group_size {ROW_GROUP_ROWS})"""
    ).fetchone()
    kept = int(result[0]) if result else 0
    return kept + int(extra), kept


def _json_text(text: str) -> str:
    import orjson

    return orjson.dumps(text).decode()


def _schema(columns: Sequence[str]) -> pa.Schema:
    return pa.schema(
        [pa.field("dno", pa.string())]
        + [pa.field(c, pa.string()) for c in columns]
        + [
            pa.field("_source", pa.string()),
            pa.field("_record_hash", pa.int64()),
            pa.field("_natural_key", pa.string(), nullable=False),
            pa.field("_loaded_at", pa.timestamp("us", tz="UTC")),
        ]
    )
