"""NESO as a source of the house: whole published resources, loaded when new or changed."""

from __future__ import annotations

from datetime import timedelta

from loaders.common.probes import Planned, Probe, http_probe
from loaders.common.runner import Plan
from loaders.errors import UsageError
from loaders.settings import Settings
from loaders.sources.base import BaseSource, DatasetInfo, LoadRequest, refuse_unknown

SOURCE = "neso"


class NesoSource(BaseSource):
    name = SOURCE
    title = "NESO data portal"
    stale_after = timedelta(days=2)
    replay_paths = {"neso": "/api/3/action"}  # noqa: RUF012

    def plan_load(self, settings: Settings, request: LoadRequest) -> Plan:
        """Every resource of the datasets asked for that is new or changed (all with --force)."""
        # neso.source brings dlt and pyarrow (~0.7 s): imported when a load or a listing needs
        # it, so the CLI's nothing-due path and `--help` start fast
        from loaders.sources.neso.source import NesoAdapter, loaded_versions, resolve

        if request.start or request.end:
            raise UsageError(
                "NESO datasets load whole published resources; --from/--to do not apply"
            )
        datasets = resolve(list(request.names), request.all_)
        adapter = NesoAdapter(settings)
        loaded = {} if request.force else loaded_versions(settings, datasets)
        tasks, failures = adapter.plan(datasets, loaded)
        return Plan(
            SOURCE,
            SOURCE,
            1,
            tasks=tasks,
            initial_results=failures,
            adapter=adapter,
            nothing_message="nothing to load: every resource is loaded at its latest version",
        )

    def catalogue(self, settings: Settings) -> list[DatasetInfo]:
        from loaders.sources.neso.source import load_datasets

        return [
            DatasetInfo(
                d.name, "per release", d.keys, "whole dataset", f"raw_neso.{d.table}", d.title
            )
            for d in load_datasets().values()
        ]

    def scheduled(self, settings: Settings, chosen: tuple[str, ...] | None) -> set[str]:
        from loaders.sources.neso.source import load_datasets

        names = chosen or ("all",)
        known = set(load_datasets())
        refuse_unknown(
            SOURCE, [n for n in names if n not in known], f"known: {', '.join(sorted(known))}"
        )
        return known if names == ("all",) else set(names)

    def probes(self, settings: Settings) -> list[Planned]:
        from loaders.sources.neso.source import load_datasets

        return [
            http_probe(
                Probe(
                    SOURCE,
                    name,
                    f"{settings.base_url(SOURCE)}/package_show?id={dataset.package}",
                    required=True,
                )
            )
            for name, dataset in load_datasets().items()
        ]
