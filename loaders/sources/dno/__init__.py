"""DNO open-data portals: `portals.toml` says where each DNO publishes each kind; `source.DnoAdapter`
fetches them for the shared engine; `dno_source` (dlt_source.py, imported on first use) is the
dlt source.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `from loaders.sources.dno import dno_source` imports dlt only when it is asked for
    if name == "dno_source":
        from loaders.sources.dno.dlt_source import dno_source

        return dno_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["dno_source"]
