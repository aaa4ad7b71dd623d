"""Flush landing files into `raw_bmrs`: the same tables, keys and merge as the API loader.

Messages are grouped by dataset and converted by the same strict JSON conversion as API
responses (`_source = 'iris'`, `_message_id` kept). A message delivered twice (redelivered
after a crash before it was completed) appears twice in the landing files: it is kept once by
message id, and the merge on the natural key makes a repeat flush a no-op. A record older than
the one already stored for its key (the API or IRIS published a later version) is skipped:
the later-published record wins, whichever way it came.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from loaders.common.commit import Batch, Committer, OpsRows, merge_resource
from loaders.common.jsonrows import MESSAGE_ID, convert
from loaders.common.keyhash import key_hash, with_key_columns
from loaders.common.ops import LoadLogRow, SchemaChange, record_change
from loaders.common.records import RecordError, TypeDrift, snake_case
from loaders.common.warehouse import connect_duckdb
from loaders.settings import Settings
from loaders.sources.bmrs.catalogue import Catalogue, Endpoint
from loaders.sources.bmrs.source import RAW_SCHEMA, dataset_resource, schema_changes
from loaders.sources.iris.datasets import endpoint_for
from loaders.testing import failpoints

log = logging.getLogger(__name__)

SOURCE = "iris"
PIPELINE = "iris"
UNMAPPED_TABLE = "iris_unmapped_messages"


@dataclass
class FlushOutcome:
    files: int = 0
    messages: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    stale_skipped: int = 0
    unmapped: int = 0
    seconds: float = 0.0


@dataclass
class _Group:
    """One dataset's messages in a flush, converted."""

    endpoint: Endpoint
    messages: int
    first: datetime
    last: datetime
    table: pa.Table | None = None
    changes: list[SchemaChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Held:
    """A message kept whole in raw_bmrs.iris_unmapped_messages, and why."""

    message_id: str
    dataset: str | None
    subject: str | None
    enqueued_at: datetime
    records: str
    reason: str


_LANDING_COLUMNS = (
    "{id: 'VARCHAR', seq: 'BIGINT', subject: 'VARCHAR', dataset: 'VARCHAR', "
    "enqueued: 'TIMESTAMPTZ', received: 'TIMESTAMPTZ', file: 'VARCHAR', records: 'JSON'}"
)


class _Landed:
    """The landing files of one flush, read in an in-memory DuckDB (C++, off the GIL, so the
    receive loop keeps its pace): every message once, in landing order."""

    def __init__(self, paths: Sequence[Path]) -> None:
        import duckdb

        self.con = duckdb.connect(config={"threads": 1})
        self.con.execute("set TimeZone = 'UTC'")
        self.con.execute(
            "create table landed as select *, row_number() over () as ord from read_json(?, "
            f"format = 'newline_delimited', columns = {_LANDING_COLUMNS}, ignore_errors = true)",
            [[str(p) for p in paths]],
        )
        torn = self.con.execute("select count(*) from landed where id is null").fetchone()[0]
        if torn:  # a crash mid-append; those messages were never completed, so they come again
            log.warning("%d unreadable landing lines skipped (a write cut short)", torn)
        # a message redelivered after a crash before its completion was landed twice
        self.con.execute(
            "create table msgs as select * from landed where id is not null "
            "qualify row_number() over (partition by id order by ord) = 1"
        )

    def datasets(self) -> list[tuple[str | None, int, datetime, datetime]]:
        return self.con.execute(
            "select dataset, count(*), min(enqueued), max(enqueued) from msgs group by dataset "
            "order by dataset"
        ).fetchall()

    def count(self) -> int:
        return self.con.execute("select count(*) from msgs").fetchone()[0]

    def array(self, dataset: str, ids: Sequence[str] | None = None) -> bytes:
        """The dataset's records as one JSON array, each with its `_message_id`, in order."""
        where = "dataset = ?" + (" and id in (select unnest(?::varchar[]))" if ids else "")
        params: list[Any] = [dataset, list(ids)] if ids else [dataset]
        (text,) = self.con.execute(
            f"""
            select '[' || coalesce(string_agg(
                       json_merge_patch(r, json_object('{MESSAGE_ID}', id))::varchar, ','
                       order by ord, i), '') || ']'
            from (select id, ord, unnest(arr) as r, generate_subscripts(arr, 1) as i
                  from (select id, ord, from_json(records, '["json"]') as arr
                        from msgs where {where}))
            """,
            params,
        ).fetchone()
        return text.encode()

    def ids(self, dataset: str) -> list[str]:
        return [i for (i,) in self.con.execute(
            "select id from msgs where dataset = ? order by ord", [dataset]
        ).fetchall()]  # fmt: skip

    def held(
        self, *, datasets: Sequence[str | None] = (), reasons: dict[str, str] | None = None
    ) -> list[_Held]:
        """Messages as received, kept whole: those of unknown `datasets` (None: no dataset
        named), or those in `reasons` (message id -> why)."""
        if reasons is not None:
            where, params = "id in (select unnest(?::varchar[]))", [list(reasons)]
        else:
            names = [d for d in datasets if d is not None]
            where = "dataset in (select unnest(?::varchar[])) or (? and dataset is null)"
            params = [names, None in datasets]
        rows = self.con.execute(
            "select id, dataset, subject, enqueued, records::varchar from msgs "
            f"where {where} order by ord",
            params,
        ).fetchall()
        return [
            _Held(i, d, s, e, r, reasons[i] if reasons else f"unknown dataset {d or s!r}")
            for i, d, s, e, r in rows
        ]

    def close(self) -> None:
        self.con.close()


class Flusher:
    """Commits landing files to the warehouse; one per receiver (the `iris` dlt pipeline)."""

    def __init__(self, settings: Settings, catalogue: Catalogue, queue: str, run_id: str) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.queue = queue
        self.run_id = run_id
        self.committer = Committer(settings, PIPELINE, RAW_SCHEMA, run_id)

    def flush(self, paths: Sequence[Path], stats: list[tuple[Any, ...]]) -> FlushOutcome:
        """Commit the messages of `paths` (and the stats rows) in one lock hold; the files
        are deleted only after the commit, so a crash in between means a harmless re-flush."""
        began = time.monotonic()
        outcome = FlushOutcome(files=len(paths))
        loaded_at = datetime.now(UTC)
        groups: list[_Group] = []
        held: list[_Held] = []
        if paths:
            landed = _Landed(paths)
            try:
                outcome.messages = landed.count()
                groups, held = self._groups(landed, loaded_at)
            finally:
                landed.close()

        def resources() -> list[Any]:
            # under the lock: a stored record published later than an incoming one wins
            if self.settings.target == "duckdb":
                outcome.stale_skipped = self._drop_stale(groups)
            staged = [
                dataset_resource(g.endpoint, [g.table], target=self.settings.target)
                for g in groups
                if g.table is not None and g.table.num_rows
            ]
            return staged + ([_unmapped_resource(held, loaded_at)] if held else [])

        self.committer.commit(
            Batch(
                purpose="iris flush",
                resources_under_lock=resources,
                ops=lambda load_id: self._ops_rows(groups, stats, load_id, loaded_at),
            )
        )
        # a crash here (the whole service: this worker and its receiver) re-flushes these files
        failpoints.hit("iris.after_flush_commit", also=(os.getppid(),))
        for path in paths:
            path.unlink(missing_ok=True)
        for g in groups:
            outcome.rows[g.endpoint.name] = g.table.num_rows if g.table is not None else 0
        outcome.unmapped = len(held)
        outcome.seconds = time.monotonic() - began
        return outcome

    # -- conversion -------------------------------------------------------------------------

    def _groups(self, landed: _Landed, loaded_at: datetime) -> tuple[list[_Group], list[_Held]]:
        groups: list[_Group] = []
        unknown: list[str | None] = []
        held: list[_Held] = []
        for dataset, count, first, last in landed.datasets():
            endpoint = endpoint_for(self.catalogue, dataset) if dataset else None
            if endpoint is None:
                unknown.append(dataset)
                continue
            group = _Group(endpoint, count, first, last)
            held += self._convert(group, dataset, landed, loaded_at)
            groups.append(group)
        if unknown:
            held += landed.held(datasets=unknown)
        return groups, held

    def _convert(
        self, group: _Group, dataset: str, landed: _Landed, loaded_at: datetime
    ) -> list[_Held]:
        """Convert a dataset's messages together; when a value does not fit its column (or
        records lack their key, or a new field's name clashes), convert them one by one so only
        the offending messages are held back (landed raw, reported)."""
        try:
            self._convert_array(group, landed.array(dataset), loaded_at)
            return []
        except RecordError:
            pass
        good, bad = [], {}
        for message_id in landed.ids(dataset):
            probe = _Group(group.endpoint, 1, group.first, group.last)
            try:
                self._convert_array(probe, landed.array(dataset, [message_id]), loaded_at)
                good.append(message_id)
            except RecordError as exc:
                bad[message_id] = _reason(exc)
                group.changes.append(_change(group, exc))
        group.table = None
        if good:
            try:
                self._convert_array(group, landed.array(dataset, good), loaded_at)
            except RecordError as exc:  # whole one by one, not together: keys with null parts
                bad.update({message_id: _reason(exc) for message_id in good})
                group.changes.append(_change(group, exc))
                group.table = None
        group.notes.append(f"{len(bad)} messages held back in raw_bmrs.{UNMAPPED_TABLE}")
        return landed.held(reasons=bad)

    def _convert_array(self, group: _Group, array: bytes, loaded_at: datetime) -> None:
        endpoint = group.endpoint
        converted = convert(
            array,
            endpoint.fields,
            endpoint.keys,
            published_field=endpoint.published_field,
            source=SOURCE,
            loaded_at=loaded_at,
            scratch=self.settings.data_dir / "tmp",
            message_ids=True,
            required_keys=endpoint.required_keys,
        )
        group.table = converted.table
        group.changes += [
            dataclasses.replace(c, source=SOURCE)
            for c in schema_changes(endpoint, converted.keys_seen, converted.received)
        ]
        group.notes += converted.notes

    # -- later-published wins ---------------------------------------------------------------

    def _drop_stale(self, groups: list[_Group]) -> int:
        """Remove incoming rows whose stored version was published later (under the lock)."""
        candidates = [
            g
            for g in groups
            if g.table is not None
            and g.table.num_rows
            and g.endpoint.published_field
            and snake_case(g.endpoint.published_field) in g.table.column_names
        ]
        if not candidates:
            return 0
        skipped = 0
        con = connect_duckdb(self.settings)
        try:
            for g in candidates:
                skipped += _filter_stale(con, g)
        finally:
            con.close()
        return skipped

    # -- ops ---------------------------------------------------------------------------------

    def _ops_rows(
        self,
        groups: list[_Group],
        stats: list[tuple[Any, ...]],
        load_id: str | None,
        loaded_at: datetime,
    ) -> OpsRows:
        rows, changes = [], []
        finished = datetime.now(UTC)
        for g in groups:
            count = g.table.num_rows if g.table is not None else 0
            rows.append(
                LoadLogRow(
                    source=SOURCE,
                    dataset=g.endpoint.name,
                    window_start=g.first,
                    window_end=g.last,
                    rows=count,
                    status="ok" if count else "empty",
                    started_at=loaded_at,
                    finished_at=finished,
                    notes="; ".join([f"{g.messages} messages", *g.notes]),
                    run_id=self.run_id,
                    load_id=load_id if count else None,
                )
            )
            changes += g.changes
        return OpsRows(rows, changes, stats)


def _filter_stale(con: Any, group: _Group) -> int:
    table = group.table
    endpoint = group.endpoint
    exists = con.execute(
        "select 1 from information_schema.columns where table_schema = ? and table_name = ? "
        "and column_name = ?",
        [RAW_SCHEMA, endpoint.table, snake_case(endpoint.published_field or "")],
    ).fetchall()
    if not exists:
        return 0
    published = snake_case(endpoint.published_field or "")
    columns = ["_natural_key", published]
    by_date = "settlementDate" in endpoint.keys and "settlement_date" in table.column_names
    if by_date:
        columns.append("settlement_date")
    con.register("incoming", table.select(columns))
    try:
        where = ""
        params: list[Any] = []
        if by_date:  # the key holds the date: scan only the days this batch touches
            where = "and r.settlement_date between ? and ?"
            params = [
                pc.min(table["settlement_date"]).as_py(),
                pc.max(table["settlement_date"]).as_py(),
            ]
        stale = [
            key
            for (key,) in con.execute(
                f'select i._natural_key from incoming i join {RAW_SCHEMA}."{endpoint.table}" r '
                f'on r._natural_key = i._natural_key where r."{published}" > i."{published}" {where}',
                params,
            ).fetchall()
        ]
    finally:
        con.unregister("incoming")
    if not stale:
        return 0
    keep = pc.invert(pc.is_in(table["_natural_key"], value_set=pa.array(stale, pa.string())))
    group.table = table.filter(keep)
    group.notes.append(f"{len(stale)} records older than the stored version skipped")
    return len(stale)


def _unmapped_resource(held: list[_Held], loaded_at: datetime) -> Any:
    """Messages that could not be typed (unknown dataset, type drift), kept whole and raw."""
    table = pa.Table.from_pylist(
        [
            {
                "message_id": h.message_id,
                "dataset": h.dataset,
                "subject": h.subject,
                "reason": h.reason,
                "enqueued_at": h.enqueued_at,
                "record_count": len(orjson.loads(h.records)),
                "records": h.records,
                "_source": SOURCE,
                "_natural_key": h.message_id,
                "_record_hash": key_hash([h.message_id]),  # the message is the key
                "_loaded_at": loaded_at,
            }
            for h in held
        ],
        schema=pa.schema(
            [
                ("message_id", pa.string()),
                ("dataset", pa.string()),
                ("subject", pa.string()),
                ("reason", pa.string()),
                ("enqueued_at", pa.timestamp("us", tz="UTC")),
                ("record_count", pa.int64()),
                ("records", pa.string()),
                ("_source", pa.string()),
                pa.field("_natural_key", pa.string(), nullable=False),
                ("_record_hash", pa.int64()),
                ("_loaded_at", pa.timestamp("us", tz="UTC")),
            ]
        ),
    )
    table = with_key_columns(table, [("message_id", "string")])
    return merge_resource([table], name=UNMAPPED_TABLE)


def _reason(exc: RecordError) -> str:
    """Why a message was held back, as iris_unmapped_messages.reason says it."""
    kind = "type drift" if isinstance(exc, TypeDrift) else exc.change.replace("_", " ")
    return f"{kind}: {exc}"


def _change(group: _Group, exc: RecordError) -> SchemaChange:
    return record_change(SOURCE, group.endpoint.name, exc)
