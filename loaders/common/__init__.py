"""Code every source shares: HTTP, time, records, warehouse, load log, engine, replay."""
