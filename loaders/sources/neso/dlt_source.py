"""NESO data portal as a dlt source for your own pipeline: one resource per dataset.

    dlt.pipeline(destination="duckdb").run(neso_source(datasets=["historic_demand"]))

A NESO dataset is a CKAN package of files (a CSV per year, a live datastore table), not a
time-filtered API, so its resources have no time cursor to ask from: what is incremental is the
file. Each run lists the package and downloads only the files whose `last_modified` moved past
the version already loaded (kept in the resource's dlt state), then merges on the dataset's
natural key. Listing, downloads and conversion are the loaders' own (source.NesoAdapter).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import dlt

from loaders.common.dlt_sources import MERGE, key_columns, tables_of, window_failure
from loaders.settings import Settings
from loaders.sources.neso.source import NesoAdapter, NesoDataset, resolve


@dlt.source(name="neso", max_table_nesting=0)
def neso_source(datasets: Sequence[str] | None = None, settings: Settings | None = None) -> Any:
    """NESO datasets by name (datasets.toml, e.g. "historic_demand"); None for all of them."""
    from loaders.settings import load_settings

    adapter = NesoAdapter(settings or load_settings())
    for dataset in resolve(list(datasets or []), datasets is None):
        yield dlt.resource(
            _changed_files(adapter, dataset),
            name=dataset.table,
            table_name=dataset.table,
            write_disposition=MERGE,
            primary_key=key_columns(dataset.keys) if dataset.keys else "_natural_key",
            max_table_nesting=0,
        )


def _changed_files(adapter: NesoAdapter, dataset: NesoDataset) -> Iterator[Any]:
    """The rows of each file new or changed since the last run; a file that fails (or a package
    that cannot be listed) fails the run, so no version is recorded for it."""
    versions: dict[str, str] = dlt.current.resource_state().setdefault("versions", {})
    loaded = {rid: datetime.fromisoformat(when) for rid, when in versions.items()}
    tasks, failures = adapter.plan([dataset], {dataset.name: loaded})
    for failure in failures:
        raise window_failure(failure)
    for task in tasks:
        yield from tables_of(adapter, task)
        resource = adapter.resources[task.part or ""]
        versions[resource.id] = (resource.last_modified or datetime.now(UTC)).isoformat()
