"""Elexon BMRS Insights API: the catalogue (from the OpenAPI spec), windows, and the dlt source.

`bmrs_source` (dlt_source.py) is the dlt source for your own pipeline; it is imported on first use,
so this package stays light and the CLI starts fast when there is nothing to load.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `from loaders.sources.bmrs import bmrs_source` imports dlt only when it is asked for
    if name == "bmrs_source":
        from loaders.sources.bmrs.dlt_source import bmrs_source

        return bmrs_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["bmrs_source"]
