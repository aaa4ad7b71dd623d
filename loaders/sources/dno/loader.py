"""The DNO portals as a source of the house: every configured dataset of each DNO group, or a
file a user downloaded by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from loaders.common.probes import Planned, Probe, http_probe, known
from loaders.common.runner import Plan
from loaders.errors import UsageError
from loaders.settings import Settings
from loaders.sources.base import (
    BaseSource,
    DatasetInfo,
    LoadRequest,
    refuse_unknown,
    short_duration,
)

SOURCE = "dno"


class DnoSource(BaseSource):
    name = SOURCE
    title = "DNO open-data portals"
    stale_after = timedelta(days=8)
    takes_files = True

    def plan_load(self, settings: Settings, request: LoadRequest) -> Plan:
        """Every configured dataset of the DNOs and kinds asked for (all by default), or one
        file a user downloaded by hand (`--file F --dno X --dataset KIND`)."""
        # dno.source brings dlt and pyarrow (~0.7 s): imported when a load or a listing needs
        # it, so the CLI's nothing-due path and `--help` start fast
        from loaders.sources.dno.source import KINDS, DnoAdapter, latest_refusals, load_portals

        if request.start or request.end:
            raise UsageError("DNO portals publish whole datasets; --from/--to do not apply")
        portals = load_portals(settings)
        kinds = list(request.names)
        unknown_kinds = [k for k in kinds if k not in KINDS]
        if unknown_kinds:
            raise UsageError(
                f"unknown DNO dataset kind: {', '.join(unknown_kinds)}. Kinds: {', '.join(KINDS)}"
            )
        by_upper = {name.upper(): name for name in portals}
        unknown_dnos = [d for d in request.dnos if d.upper() not in by_upper]
        if unknown_dnos:
            raise UsageError(f"unknown DNO: {', '.join(unknown_dnos)}. DNOs: {', '.join(portals)}")
        dnos = [by_upper[d.upper()] for d in request.dnos] or list(portals)
        adapter = DnoAdapter(settings)
        if request.file is not None:
            if len(dnos) != 1 or len(kinds) != 1 or (dnos == list(portals) and len(portals) > 1):
                adapter.close()
                raise UsageError(
                    "--file needs exactly one --dno and one --dataset (the kind), e.g. "
                    "--file headroom.csv --dno UKPN --dataset headroom"
                )
            tasks, known_results = [adapter.add_file(dnos[0], kinds[0], Path(request.file))], []
        else:
            tasks, known_results = adapter.plan(
                dnos, kinds or list(KINDS), latest_refusals(settings), force=request.force
            )
        # a plan with nothing to fetch still reports (the portals refused recently, say)
        return Plan(
            SOURCE,
            SOURCE,
            2,
            tasks=tasks,
            initial_results=known_results,
            adapter=adapter,
            nothing_message=None,
        )

    def scheduled_request(self, settings: Settings) -> LoadRequest:
        kinds = tuple(k for k in settings.run_datasets.get(SOURCE) or () if k != "all")
        return LoadRequest(names=kinds, all_=not kinds)

    def catalogue(self, settings: Settings) -> list[DatasetInfo]:
        from loaders.sources.dno.source import dataset_name, load_portals

        every = settings.run_every.get(SOURCE, timedelta(days=7))
        return [
            DatasetInfo(
                dataset_name(dno, kind),
                short_duration(every) or "",
                tuple(portal.keys.get(kind, ())),
                "whole dataset",
                f"raw_dno.{kind}",
                f"{dno} {kind} ({portal.platform})",
            )
            for dno, portal in load_portals(settings).items()
            for kind in portal.datasets
        ]

    def scheduled(self, settings: Settings, chosen: tuple[str, ...] | None) -> set[str]:
        from loaders.sources.dno.source import KINDS, dataset_name, load_portals

        refuse_unknown(
            SOURCE,
            [k for k in chosen or () if k not in KINDS],
            f"kinds: {', '.join(KINDS)}",
            what="kinds",
        )
        wanted = set(chosen or ()) - {"all"}
        names = set()
        for dno, portal in load_portals(settings).items():
            for kind in getattr(portal, "datasets", {}) or {}:
                if not wanted or kind in wanted:
                    names.add(dataset_name(dno, kind))
        return names

    def selector(self, dataset: str) -> str:
        return f"source:dno.{dataset.partition('.')[2]}"

    def probes(self, settings: Settings) -> list[Planned]:
        from loaders.sources.dno.source import load_portals

        probes = []
        for dno, portal in load_portals(settings).items():
            token = settings.secret(portal.token_env)
            for kind, ref in portal.datasets.items():
                url, headers = _probe_request(portal, ref, token)
                probe = Probe(SOURCE, f"{dno} {kind}", url)
                if portal.token_required and not token:
                    probe.verdict, probe.detail = "needs token", f"set {portal.token_env}"
                    probes.append(known(probe))
                else:
                    probes.append(http_probe(probe, headers))
        return probes


def _probe_request(portal: Any, ref: Any, token: str | None) -> tuple[str, dict[str, str] | None]:
    """The portal's metadata URL for a dataset, with its token header when one is set."""
    if portal.platform == "opendatasoft":
        url = f"{portal.base_url}/api/explore/v2.1/catalog/datasets/{ref}"
        return url, {"Authorization": f"Apikey {token}"} if token else None
    return f"{portal.base_url}/package_show?id={ref['package']}", (
        {"Authorization": token} if token else None
    )
