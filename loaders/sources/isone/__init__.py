"""ISO New England: web services (webservices.iso-ne.com) and website reports (www.iso-ne.com).

`datasets.toml` lists every dataset; `source.IsoneAdapter` fetches them for the shared engine;
`run` holds the CLI's load, backfill and datasets-list commands. This package stays light so the
CLI starts fast when there is nothing to load.
"""
