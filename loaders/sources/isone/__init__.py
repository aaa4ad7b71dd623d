"""ISO New England: web services (webservices.iso-ne.com) and website reports (www.iso-ne.com).

`datasets.toml` lists every dataset; `source.IsoneAdapter` fetches them for the shared engine;
`loader.IsoneSource` is its entry in the source registry (plans for load, backfill and `run`,
the listing, the probes). This package stays light so the CLI starts fast when there is
nothing to load (`isone_source`, the dlt source in dlt_source.py, is imported on first use).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `from loaders.sources.isone import isone_source` imports dlt only when it is asked for
    if name == "isone_source":
        from loaders.sources.isone.dlt_source import isone_source

        return isone_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["isone_source"]
