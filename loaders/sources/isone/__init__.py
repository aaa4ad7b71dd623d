"""ISO New England: web services (webservices.iso-ne.com) and website reports (www.iso-ne.com).

`datasets.toml` lists every dataset; `source.IsoneAdapter` fetches them for the shared engine;
`loader.IsoneSource` is its entry in the source registry (plans for load, backfill and `run`,
the listing, the probes). This package stays light so the CLI starts fast when there is
nothing to load.
"""
