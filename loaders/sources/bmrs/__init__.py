"""Elexon BMRS Insights API: the catalogue (from the OpenAPI spec), windows, and the dlt source.

Import `loaders.sources.bmrs.source.bmrs` for the dlt source; this package stays light so the CLI starts
fast when there is nothing to load.
"""
