-- NESO day_ahead_demand_forecast as published: no column list was recorded for this dataset, so every column is
-- kept as text (see loaders/sources/neso/datasets.toml); typed columns belong in a model built on it.
{{ passthrough_select('neso', 'day_ahead_demand_forecast') }}
