"""Start bqemulator (a local BigQuery REST emulator) offline.

Its start-up installs DuckDB's spatial extension, which needs the internet; nothing here uses
GEOGRAPHY, so loading spatial is turned into a no-op (see ../shared/OFFLINE-TESTING.md part B).
Runs in the emulator's own venv (it needs duckdb 2.x; the project pins 1.4).
"""

import sys

from bqemulator.storage import engine

engine.DuckDBEngine._load_spatial = lambda self: None

from bqemulator.cli import main  # noqa: E402

sys.exit(main())
