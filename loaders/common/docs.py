"""`make docs`: generate the dbt docs site for the configured warehouse and serve it locally."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import socket
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from loaders.common import guides
from loaders.common.dbt import PROJECT_ROOT, run_dbt
from loaders.reference import plant_map
from loaders.settings import load_settings


def free_port(preferred: int) -> int:
    """`preferred` if it is free on 127.0.0.1, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-generate", action="store_true", help="serve the existing target/")
    args = parser.parse_args()
    settings = load_settings()
    if not args.no_generate and run_dbt(settings, ["docs", "generate"]) != 0:
        return 1
    port = free_port(args.port)
    # where dbt wrote the site: its target path (DBT_TARGET_PATH when set, as dbt reads it)
    site = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    if not (site / "index.html").exists():
        print(f"no docs site in {site}: run `make docs` without --no-generate")
        return 1
    # the plants map the dim_power_station docs show, drawn offline from files in the project
    plant_map.write(site / "plants_map.svg")
    # the guides (README.md, docs/), which the project overview page links as docs/<page>.html
    guides.write(PROJECT_ROOT, site / "docs")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    print(
        f"dbt docs for {settings.duckdb_path} at http://127.0.0.1:{port}/ (Ctrl-C to stop)",
        flush=True,
    )
    # SIGTERM (systemd, a test) stops it as Ctrl-C does
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
