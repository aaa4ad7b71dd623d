"""`make docs`: generate the dbt docs site for the configured warehouse and serve it locally."""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import socket
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


# generated staging of BMRS datasets no model reads (loaders/sources/bmrs/dbtgen.py tags them and
# their sources): built and tested, but ~270 unconnected nodes that bury the marts in the graph
CATALOGUE_TAG = "catalogue_only"


def readable(manifest: dict[str, Any], catalog: dict[str, Any]) -> tuple[dict, dict, int]:
    """The manifest and catalog the docs site shows by default: without the catalogue-only
    staging models, their sources and their tests, so the project's lineage graph is the marts
    and what feeds them. Returns both and how many datasets were left out."""
    hidden = {
        uid
        for section in ("nodes", "sources")
        for uid, node in manifest.get(section, {}).items()
        if CATALOGUE_TAG in node.get("tags", [])
    }
    # a test of a hidden model goes with it (its only parents are hidden nodes)
    for uid, node in manifest.get("nodes", {}).items():
        parents = set(node.get("depends_on", {}).get("nodes", []))
        if node.get("resource_type") == "test" and parents and parents <= hidden:
            hidden.add(uid)
    shown = dict(manifest)
    for section in ("nodes", "sources"):
        shown[section] = {
            u: _without_parents(n, hidden)
            for u, n in manifest.get(section, {}).items()
            if u not in hidden
        }
    for edges in ("parent_map", "child_map"):
        if edges in manifest:
            shown[edges] = {
                u: [v for v in vs if v not in hidden]
                for u, vs in manifest[edges].items()
                if u not in hidden
            }
    catalog_shown = dict(catalog)
    for section in ("nodes", "sources"):
        catalog_shown[section] = {
            u: n for u, n in catalog.get(section, {}).items() if u not in hidden
        }
    datasets = sum(1 for u in hidden if manifest.get("sources", {}).get(u) is not None)
    return shown, catalog_shown, datasets


def _without_parents(node: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """`node` without edges from hidden nodes (the completeness count reads every dataset's
    staging: its page says so, its graph shows the marts' inputs)."""
    depends_on = node.get("depends_on") or {}
    parents = depends_on.get("nodes") or []
    if not hidden.intersection(parents):
        return node
    kept = [p for p in parents if p not in hidden]
    return {**node, "depends_on": {**depends_on, "nodes": kept}}


def _handler(site: Path, overrides: dict[str, bytes]) -> functools.partial:
    """Files from `site`, except the paths in `overrides`, served from memory."""

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            body = overrides.get(self.path.split("?", 1)[0])
            if body is None:
                return super().do_GET()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None

    return functools.partial(Handler, directory=str(site))


def _readable_overrides(site: Path) -> tuple[dict[str, bytes], int]:
    manifest_path = site / "manifest.json"
    if not manifest_path.exists():  # a site without dbt's files: nothing to leave out
        return {}, 0
    manifest = json.loads(manifest_path.read_text())
    catalog_path = site / "catalog.json"
    catalog = json.loads(catalog_path.read_text()) if catalog_path.exists() else {}
    shown, catalog_shown, left_out = readable(manifest, catalog)
    overrides = {"/manifest.json": json.dumps(shown).encode()}
    if catalog:
        overrides["/catalog.json"] = json.dumps(catalog_shown).encode()
    return overrides, left_out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-generate", action="store_true", help="serve the existing target/")
    parser.add_argument(
        "--with-catalogue",
        action="store_true",
        help=f"also show the staging of datasets no mart reads (tag:{CATALOGUE_TAG})",
    )
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
    overrides, left_out = ({}, 0) if args.with_catalogue else _readable_overrides(site)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(site, overrides))
    print(
        f"dbt docs for {settings.duckdb_path} at http://127.0.0.1:{port}/ (Ctrl-C to stop)",
        flush=True,
    )
    if left_out:
        print(
            f"  the staging of {left_out} BMRS datasets no mart reads is left out of the site "
            f"(tag:{CATALOGUE_TAG}); `make docs ARGS=--with-catalogue` shows them",
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
