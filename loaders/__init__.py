"""gridwarehouse loaders: land GB electricity-market data in DuckDB or BigQuery."""

__version__ = "0.1.0"
