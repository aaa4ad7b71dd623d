"""NESO data portal (CKAN): `datasets.toml` lists the datasets; `source.NesoAdapter` fetches them
for the shared engine; `neso_source` (dlt_source.py, imported on first use) is the dlt source.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `from loaders.sources.neso import neso_source` imports dlt only when it is asked for
    if name == "neso_source":
        from loaders.sources.neso.dlt_source import neso_source

        return neso_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["neso_source"]
