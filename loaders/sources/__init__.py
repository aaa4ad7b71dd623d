"""The data sources: one package each (client, catalogue, plan, fetch)."""
