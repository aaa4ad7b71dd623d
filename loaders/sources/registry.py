"""The one list of sources. The CLI, `run`/`schedule`, `status`, alerts, `check-endpoints`,
the demo and the export read it; adding a source is a folder under loaders/sources/ and one
line here. Branching on a source's name belongs here and in the source's own folder only."""

from __future__ import annotations

from loaders.errors import UsageError
from loaders.settings import Settings
from loaders.sources.base import Source
from loaders.sources.bmrs.loader import BmrsSource
from loaders.sources.dno.loader import DnoSource
from loaders.sources.iris.loader import IrisSource
from loaders.sources.isone.loader import IsoneSource
from loaders.sources.neso.loader import NesoSource

# In the order every listing shows them (check-endpoints probes, status, `run`).
SOURCES: dict[str, Source] = {
    source.name: source
    for source in (BmrsSource(), NesoSource(), DnoSource(), IsoneSource(), IrisSource())
}


def get(name: str) -> Source:
    """The source called `name` (a CLI word, a load-log `source`)."""
    try:
        return SOURCES[name]
    except KeyError:
        raise UsageError(f"unknown source {name!r}") from None


def every() -> list[Source]:
    return list(SOURCES.values())


def loadable() -> tuple[str, ...]:
    """The sources `load`, `backfill` and `datasets list` take."""
    return tuple(name for name, source in SOURCES.items() if source.loadable)


def enabled(settings: Settings) -> list[str]:
    """The sources `run` loads: those of GRIDWAREHOUSE_RUN_SOURCES available here (IRIS only
    with a subscription)."""
    return [
        name for name in settings.run_sources if name in SOURCES and get(name).available(settings)
    ]


def scheduled_datasets(settings: Settings) -> dict[str, set[str]]:
    """Per source, the datasets `run` loads: what `status` holds to its freshness thresholds."""
    out = {}
    for name in enabled(settings):
        datasets = get(name).scheduled(settings, settings.run_datasets.get(name))
        if datasets:
            out[name] = datasets
    return out


def cadences(settings: Settings, sources: list[str]) -> dict[tuple[str, str], str]:
    """(source, dataset) -> how often the dataset is published, from each source's catalogue."""
    return {
        (name, info.name): info.cadence
        for name in sources
        if name in SOURCES
        for info in get(name).catalogue(settings)
    }
