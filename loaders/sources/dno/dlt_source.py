"""DNO open-data portals as a dlt source for your own pipeline: one resource per kind.

    dlt.pipeline(destination="duckdb").run(dno_source(dnos=["UKPN"], kinds=["powerflow"]))

A portal serves each dataset whole (an export of its current records), so these are snapshots
without a cursor. All DNOs share one table per kind, told apart by the `dno` column, so a
snapshot replaces only its own DNO's rows: dlt's delete-insert merge with `dno` as the merge
key, deduplicated on `_natural_key` (the DNO, then the portal's key columns from portals.toml,
which differ per DNO). Requests, tokens and conversion are the loaders' own (source.DnoAdapter).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt

from loaders.common.dlt_sources import tables_of, window_failure
from loaders.errors import UsageError, unknown_names_error
from loaders.settings import Settings
from loaders.sources.dno.source import KINDS, DnoAdapter, Portal, dataset_name

REPLACE_PER_DNO = {"disposition": "merge", "strategy": "delete-insert"}


@dlt.source(name="dno", max_table_nesting=0)
def dno_source(
    dnos: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> Any:
    """DNO datasets by DNO (portals.toml, e.g. "UKPN") and kind (e.g. "powerflow"); None
    takes every kind, and every DNO whose portal is open or whose token is set."""
    from loaders.settings import load_settings

    adapter = DnoAdapter(settings or load_settings())
    chosen = _dnos(adapter, dnos)
    for kind in _kinds(kinds):
        pairs = [dno for dno in chosen if kind in adapter.portals[dno].datasets]
        if pairs:
            yield dlt.resource(
                _snapshots(adapter, pairs, kind),
                name=kind,
                table_name=kind,
                write_disposition=REPLACE_PER_DNO,
                primary_key="_natural_key",
                merge_key="dno",
                max_table_nesting=0,
            )


def _dnos(adapter: DnoAdapter, names: Sequence[str] | None) -> list[str]:
    """The DNOs asked for (case-insensitive), or those that can be asked without a token."""
    by_upper = {dno.upper(): dno for dno in adapter.portals}
    if names is None:
        return [dno for dno, portal in adapter.portals.items() if _open(adapter, portal)]
    unknown = [n for n in names if n.upper() not in by_upper]
    if unknown:
        raise unknown_names_error("DNO", unknown, list(adapter.portals), "portals.toml")
    return [by_upper[n.upper()] for n in dict.fromkeys(names)]


def _open(adapter: DnoAdapter, portal: Portal) -> bool:
    return not portal.token_required or bool(adapter.settings.secret(portal.token_env))


def _kinds(names: Sequence[str] | None) -> list[str]:
    if names is None:
        return list(KINDS)
    unknown = [n for n in names if n not in KINDS]
    if unknown:
        raise UsageError(f"unknown DNO kinds {unknown}; kinds are {', '.join(KINDS)}")
    return list(dict.fromkeys(names))


def _snapshots(adapter: DnoAdapter, dnos: list[str], kind: str) -> Iterator[Any]:
    """Each DNO's whole dataset of this kind; a refusal (no token, 401/403, a moved id) or a
    bad body fails the run with its reason, so no DNO's rows are replaced by a partial set."""
    tasks, known = adapter.plan(dnos, [kind], {}, force=True)
    for refused in known:
        raise window_failure(refused)
    for task in tasks:
        assert task.dataset == dataset_name(task.dataset.partition(".")[0], kind)
        yield from tables_of(adapter, task)
