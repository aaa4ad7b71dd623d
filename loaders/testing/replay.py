"""A local replay server (127.0.0.1) that answers with recorded real responses.

Tests and the demo point a source's base URL at it; loaders keep their real HTTP code path.
Routes come from a JSON file beside the recordings (`tests/data/recorded/routes.json`):

- a request identical to the recorded one (path + query, any order) gets the recorded bytes;
- a request for another window on a recorded path gets the recorded records whose time field
  lies in the requested window (inclusive, like the API), in the body shape that path uses
  (`{"data": [...]}` or a bare array); a window that overlaps none gets an empty list;
- a CSV recording of a JSON endpoint (the BM unit registry) is served as the JSON the API returns:
  same field names, `True`/`False` as booleans, empty cells as null, everything else as text;
- a POST form request (ISO-NE's www.iso-ne.com/ws/wsclient) gets the recording whose form
  fields it sends (extra fields, like a time stamp, are ignored).

Tests can also register records or scripted faults (429, 500, HTML, truncated bodies, delays).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import csv
import io
import json
import logging
import signal
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from loaders.sources import registry

log = logging.getLogger(__name__)

DEFAULT_ROUTES = Path(__file__).resolve().parents[2] / "tests" / "data" / "recorded" / "routes.json"


@dataclass
class Fault:
    """A scripted response served instead of the real one (once per use)."""

    status: int = 500
    body: bytes = b'{"error": "injected fault"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json"
    exact_only: bool = False  # recorded requests only: any other query is a 404
    accept: str | None = None  # served only to requests whose Accept header contains this


@dataclass
class RecordSet:
    """Records served on a path, filtered by a window over one of their fields."""

    records: list[dict[str, Any]]
    shape: str = "data"  # data | array
    from_param: str | None = None
    to_param: str | None = None
    time_field: str | None = None
    overlap: tuple[str, str] | None = None  # recorded window, for records without a time field
    exact: dict[str, bytes | Path] = field(default_factory=dict)  # canonical query -> bytes/file
    envelope: str | None = None  # a JSON template with "$records" for non-BMRS shapes
    match: dict[str, str] = field(default_factory=dict)  # query param -> field it must equal
    delay_s: float = 0.0  # answer this much later (to make a long run long enough to interrupt)
    body: bytes | None = None  # served as it is for any query (a file download)
    page: tuple[str, str] | None = None  # (offset param, limit param) for paged APIs
    content_type: str = "application/json"
    exact_only: bool = False  # recorded requests only: any other query is a 404
    forms: list[tuple[dict[str, str], bytes]] = field(default_factory=list)  # POST form -> body
    _index: list[tuple[datetime, int]] | None = field(default=None, repr=False)
    _field_is_date: bool = field(default=False, repr=False)

    def in_window(
        self, lo: datetime | date | None, hi: datetime | date | None
    ) -> list[dict[str, Any]]:
        """Records whose time field lies in [lo, hi] (inclusive, like the API), in served order.
        Dates compare as whole days. Sorted once, then bisected: large synthetic sets stay fast."""
        if self._index is None:
            points = []
            for i, record in enumerate(self.records):
                value = record.get(self.time_field or "")
                if value is not None:
                    points.append((_as_datetime(_parse_point(str(value))), i))
                    self._field_is_date = len(str(value)) == 10
            self._index = sorted(points)
        lo_t, hi_t = _bounds(lo, hi, self._field_is_date)
        times = [t for t, _ in self._index] if len(self._index) < 50_000 else None
        if times is None:
            start = bisect.bisect_left(self._index, (lo_t, -1)) if lo_t else 0
            stop = (
                bisect.bisect_right(self._index, (hi_t, len(self.records)))
                if hi_t
                else len(self._index)
            )
        else:
            start = bisect.bisect_left(times, lo_t) if lo_t else 0
            stop = bisect.bisect_right(times, hi_t) if hi_t else len(times)
        return [self.records[i] for i in sorted(i for _, i in self._index[start:stop])]


def _bounds(
    lo: datetime | date | None, hi: datetime | date | None, field_is_date: bool
) -> tuple[datetime | None, datetime | None]:
    """Window bounds as UTC datetimes: date params cover whole days; a date field compares on
    the days of datetime params."""

    def day(point: datetime | date) -> datetime:
        return _as_datetime(point.date() if isinstance(point, datetime) else point)

    def is_date(point: datetime | date | None) -> bool:
        return point is not None and not isinstance(point, datetime)

    if field_is_date:
        return (day(lo) if lo else None), (day(hi) if hi else None)
    lo_t = _as_datetime(lo) if lo else None
    hi_t = _as_datetime(hi) if hi else None
    if is_date(hi) and hi_t is not None:
        hi_t += timedelta(days=1) - timedelta(microseconds=1)
    return lo_t, hi_t


def canonical_query(params: dict[str, str]) -> str:
    """The key under which a request's query is matched (parameter order does not matter)."""
    return _canonical("&".join(f"{k}={v}" for k, v in params.items()))


def _canonical(query: str) -> str:
    return "&".join(sorted(f"{k}={v}" for k, v in parse_qsl(query, keep_blank_values=True)))


def _parse_point(text: str) -> datetime | date:
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _as_datetime(point: datetime | date) -> datetime:
    if isinstance(point, datetime):
        return point if point.tzinfo else point.replace(tzinfo=UTC)
    return datetime(point.year, point.month, point.day, tzinfo=UTC)


def csv_as_api_json(text: str) -> list[dict[str, Any]]:
    """A CSV export of a JSON endpoint, as that endpoint's JSON records (see module doc)."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        record: dict[str, Any] = {}
        for key, value in row.items():
            if value == "":
                record[key] = None
            elif value in ("True", "False"):
                record[key] = value == "True"
            else:
                record[key] = value
        rows.append(record)
    return rows


class ReplayState:
    """Routes, injected faults and a log of requests served; shared by handler threads."""

    def __init__(self) -> None:
        self.routes: dict[str, RecordSet] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def add(self, path: str, record_set: RecordSet) -> None:
        with self.lock:
            self.routes[path] = record_set

    def inject(self, path: str, faults: Sequence[Fault]) -> None:
        """Serve `faults` (in order) for the next requests on `path` (any query)."""
        with self.lock:
            self.faults[path].extend(faults)

    def load_routes(self, routes_file: Path) -> None:
        spec = json.loads(routes_file.read_text(encoding="utf-8"))
        base = routes_file.parent
        for route in spec["routes"]:
            raw = (base / route["file"]).read_bytes()
            if route.get("format") == "file":  # a download: the file's bytes for any query
                for serve in route["serve"]:
                    self.routes[f"/{route['source']}{serve['path']}"] = RecordSet(
                        records=[], body=raw, content_type=serve.get("content_type", "text/csv")
                    )
                continue
            if route.get("format") == "exact":  # only the recorded request is answered
                recorded = urlsplit(route["recorded_request"])
                key = f"/{route['source']}{recorded.path}"
                record_set = self.routes.setdefault(key, RecordSet(records=[], exact_only=True))
                record_set.content_type = route.get("content_type", record_set.content_type)
                if "form" in route:
                    record_set.forms.append((dict(route["form"]), raw))
                else:
                    record_set.exact[_canonical(recorded.query)] = raw
                continue
            if route.get("format") == "csv":
                records = csv_as_api_json(raw.decode("utf-8"))
            else:
                body = orjson.loads(raw)
                records = body["data"] if isinstance(body, dict) and "data" in body else body
            recorded = urlsplit(route["recorded_request"])
            window = route.get("window", {})
            for serve in route["serve"]:
                prefix = f"/{route['source']}{serve['path']}"
                existing = self.routes.get(prefix)
                record_set = existing or RecordSet(
                    records=[],
                    shape=serve.get("shape", "data"),
                    from_param=window.get("from"),
                    to_param=window.get("to"),
                    time_field=window.get("field"),
                    overlap=tuple(window["overlap"]) if "overlap" in window else None,
                    envelope=serve.get("envelope"),
                    match=route.get("match", {}),
                    page=tuple(serve["page"]) if "page" in serve else None,
                )
                record_set.records.extend(records)
                if serve["path"] == recorded.path and route.get("format") != "csv":
                    record_set.exact[_canonical(recorded.query)] = raw
                self.routes[prefix] = record_set

    def respond(
        self, path: str, query: str, accept: str = "", form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, float]:
        with self.lock:
            self.requests.append(f"{path}?{query}" if query else path)
            fault = self._next_fault(path, accept)
            record_set = self.routes.get(path)
        if fault is not None:
            headers = {"Content-Type": fault.content_type, **fault.headers}
            return fault.status, headers, fault.body, fault.delay_s
        if record_set is None:
            body = orjson.dumps({"error": f"no recorded response for {path}"})
            return 404, {"Content-Type": "application/json"}, body, 0.0
        if form is not None:
            return self._form_response(record_set, path, form)
        exact = record_set.exact.get(_canonical(query))
        if exact is not None:
            body = exact.read_bytes() if isinstance(exact, Path) else exact
            return 200, {"Content-Type": record_set.content_type}, body, record_set.delay_s
        if record_set.body is not None:
            return (
                200,
                {"Content-Type": record_set.content_type},
                record_set.body,
                record_set.delay_s,
            )
        if record_set.exact_only:
            body = orjson.dumps({"error": f"no recorded response for {path}?{query}"})
            return 404, {"Content-Type": "application/json"}, body, 0.0
        body = self._window_body(record_set, query)
        return 200, {"Content-Type": "application/json"}, body, record_set.delay_s

    def _next_fault(self, path: str, accept: str) -> Fault | None:
        """The first queued fault on `path` meant for this request's Accept header (held lock)."""
        queue = self.faults.get(path)
        for fault in queue or ():
            if fault.accept is None or fault.accept in accept:
                queue.remove(fault)  # type: ignore[union-attr]
                return fault
        return None

    @staticmethod
    def _form_response(
        record_set: RecordSet, path: str, form: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes, float]:
        """The recording whose every form field the request sends with the same value."""
        for recorded, body in record_set.forms:
            if all(form.get(k) == v for k, v in recorded.items()):
                return 200, {"Content-Type": record_set.content_type}, body, record_set.delay_s
        shown = "&".join(f"{k}={v}" for k, v in sorted(form.items()))
        body = orjson.dumps({"error": f"no recorded response for POST {path} form {shown}"})
        return 404, {"Content-Type": "application/json"}, body, 0.0

    @staticmethod
    def _window_body(record_set: RecordSet, query: str) -> bytes:
        params = dict(parse_qsl(query))
        lo_text = params.get(record_set.from_param or "")
        hi_text = params.get(record_set.to_param or "")
        records = record_set.records
        try:
            lo = _parse_point(lo_text) if lo_text else None
            hi = _parse_point(hi_text) if hi_text else None
        except ValueError:
            return orjson.dumps({"error": "invalid date parameter"})
        if record_set.overlap is not None and (lo or hi):
            o_lo, o_hi = (_as_datetime(_parse_point(x)) for x in record_set.overlap)
            if (hi is not None and _as_datetime(hi) < o_lo) or (
                lo is not None and _as_datetime(lo) > o_hi
            ):
                records = []
        elif record_set.time_field and (lo or hi):
            records = record_set.in_window(lo, hi)
        for param, name in record_set.match.items():
            if param in params:
                records = [r for r in records if str(r.get(name)) == params[param]]
        total = len(records)
        if record_set.page is not None:
            offset = int(params.get(record_set.page[0], 0))
            records = records[offset : offset + int(params.get(record_set.page[1], 100))]
        if record_set.envelope:
            text = record_set.envelope.replace('"$total"', str(total))
            return text.replace('"$records"', orjson.dumps(records).decode()).encode()
        if record_set.shape == "array":
            return orjson.dumps(records)
        return orjson.dumps({"data": records})


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        accept = self.headers.get("Accept", "")
        self._reply(*self.server.state.respond(parts.path.rstrip("/"), parts.query, accept))

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        form = dict(parse_qsl(body, keep_blank_values=True))
        accept = self.headers.get("Accept", "")
        self._reply(*self.server.state.respond(parts.path.rstrip("/"), parts.query, accept, form))

    def _reply(self, status: int, headers: dict[str, str], body: bytes, delay: float) -> None:
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("replay: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ReplayState


class ReplayServer:
    """Run the replay on 127.0.0.1 in a background thread (port 0 picks a free one)."""

    def __init__(self, routes_file: Path | None = DEFAULT_ROUTES, port: int = 0) -> None:
        self.state = ReplayState()
        if routes_file is not None:
            self.state.load_routes(routes_file)
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def base_url(self, source: str) -> str:
        return f"http://127.0.0.1:{self.port}/{source}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def replay_base_urls(server: ReplayServer) -> dict[str, str]:
    """Each source's base-URL settings (Settings.base_urls keys) pointed at this server."""
    return {
        setting: server.base_url(source.name) + path
        for source in registry.every()
        for setting, path in source.replay_paths.items()
    }


def settings_env(server: ReplayServer) -> dict[str, str]:
    """The base-URL settings that send each source with recordings to this server: the
    variables loaders read (CONTRACTS.md), with the path prefixes each service's API sits under."""
    sources = {path.split("/")[1] for path in server.state.routes}
    env: dict[str, str] = {}
    for source in registry.every():
        if source.name in sources:
            for setting, path in source.replay_paths.items():
                env[f"GRIDWAREHOUSE_{setting.upper()}_BASE_URL"] = (
                    server.base_url(source.name) + path
                )
    # DNO portals are one setting each, and only the recorded ones are served
    for dno in sorted({p.split("/")[2] for p in server.state.routes if p.startswith("/dno/")}):
        env[f"GRIDWAREHOUSE_DNO_{dno.upper()}_BASE_URL"] = f"{server.base_url('dno')}/{dno}"
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m loaders.testing.replay`: serve the recordings until interrupted."""
    parser = argparse.ArgumentParser(description="Serve recorded real responses on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--routes", type=Path, default=DEFAULT_ROUTES)
    args = parser.parse_args(argv)
    # stopped by Ctrl-C or SIGTERM, also when started from a script in the background (a
    # non-interactive shell starts background jobs with SIGINT ignored, and exec keeps that)
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.default_int_handler)
    server = ReplayServer(args.routes, args.port)
    exports = "".join(f"  export {name}={value}\n" for name, value in settings_env(server).items())
    # one write, flushed: a script reading the first line through a pipe has them all
    with contextlib.suppress(KeyboardInterrupt):  # a stop right after the print ends it too
        sys.stdout.write(
            f"replaying {len(server.state.routes)} recorded paths on "
            f"http://127.0.0.1:{server.port}/<source>; point the loaders at it (paste into the "
            f"shell that runs them):\n{exports}"
        )
        sys.stdout.flush()
        server._server.serve_forever()
    server._server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
