"""Fault injection on the HTTP path (issue 17, items 6, 7 and 15): every way a request can fail
ends as a failed window with its reason in ops.load_log, the other datasets load in full, the
exit code is 1 (a load failed; CONTRACTS.md) and no traceback reaches the console.

The faults come from the replay server of the recorded real responses (a private one per test,
so no queued fault outlives its test) or from a bounded loopback server of the test's own."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from loaders.common.engine import run_tasks
from loaders.common.http import HttpClient, KeyRing, RetryPolicy
from loaders.errors import (
    BadResponseError,
    HostDownError,
    HttpStatusError,
    RequestFailedError,
    SourceTimeoutError,
    UnreachableError,
)
from loaders.settings import load_settings
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.sources.bmrs.plan import range_tasks
from loaders.sources.bmrs.source import BmrsAdapter
from loaders.testing.replay import Fault, RecordSet, ReplayServer

from .conftest import RECORDED, Cli, make_cli, recorded_records

BOALF = "/bmrs/datasets/BOALF/stream"
DAY = ("--from", "2024-05-01", "--to", "2024-05-02")
TWO_DAYS = ("--from", "2024-05-01", "--to", "2024-05-03")
# the recorded real responses: 1000 BOALF and 1000 MILS records on 2024-05-01
BOALF_ROWS = len(recorded_records("bmrs/BOALF/boalf_stream_2024-05-01.json"))
MILS_ROWS = len(recorded_records("bmrs/MILS/mils_2024-05-01T10-11Z.json"))
FAST = RetryPolicy(max_retries=2, backoff_base_s=0.01, backoff_max_s=0.05)


@pytest.fixture
def private_replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def fcli(tmp_path, private_replay) -> Cli:
    return make_cli(tmp_path, private_replay)


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def statuses(cli: Cli) -> dict[str, list[str]]:
    rows = cli.query("select dataset, status from ops.load_log order by dataset, window_start")
    out: dict[str, list[str]] = {}
    for dataset, status in rows:
        out.setdefault(dataset, []).append(status)
    return out


def errors(cli: Cli, dataset: str) -> list[str]:
    rows = cli.query(f"select error from ops.load_log where dataset = '{dataset}'")
    return [error or "" for (error,) in rows]


# -- item 6: every failure class is a failed window, never a crash --------------------------
# (the client tests below cover the remaining classes: an unsupported redirect, an invalid URL,
# a dropped connection, a non-UTF-8 envelope)

NOT_GZIP = b"this body says gzip in its header but is not gzip at all"
FAULTS = {
    # 21 redirects exceed httpx's limit of 20 (TooManyRedirects); not worth asking again
    "redirect loop": (
        [Fault(status=302, body=b"", headers={"Location": BOALF})] * 25,
        "redirected too many times",
        {},
    ),
    # Content-Encoding: gzip over a body that is not gzip (DecodingError), on every attempt
    "bad gzip": (
        [Fault(status=200, body=NOT_GZIP, headers={"Content-Encoding": "gzip"})] * 3,
        "could not be decoded",
        {},
    ),
    # a bare array with bytes that are not UTF-8 (the fast path hands arrays to DuckDB)
    "not utf-8 array": (
        [Fault(status=200, body=b'[{"dataset": "BOALF\xff\xfe"}]')] * 3,
        "no rows were taken from it",
        {},
    ),
    "html page": (
        [
            Fault(
                status=200,
                body=b"<!DOCTYPE html><html>Maintenance</html>",
                content_type="text/html",
            )
        ]
        * 3,
        "returned an HTML page instead of JSON",
        {},
    ),
    "truncated json": (
        [Fault(status=200, body=b'[{"dataset": "BOALF", "settlem')] * 3,
        "truncated or malformed JSON",
        {},
    ),
    # a read timeout on every attempt (the server answers after 1.5 s; the client waits 0.5 s)
    "read timeout": (
        [Fault(status=200, delay_s=1.5)] * 3,
        "timed out after 0.5s",
        {"GRIDWAREHOUSE_HTTP_TIMEOUT_S": "0.5"},
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_request_fails_its_window_and_every_other_dataset_loads(
    fcli, private_replay, fault
):
    faults, reason, env = FAULTS[fault]
    private_replay.state.inject(BOALF, faults)
    result = fcli.run("load", "bmrs", "--dataset", "BOALF", "--dataset", "MILS", *DAY, **env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert_no_traceback(result)
    assert statuses(fcli) == {"BOALF": ["failed"], "MILS": ["ok"]}
    assert reason in errors(fcli, "BOALF")[0]
    assert reason in result.stdout  # the summary names the reason too
    assert fcli.count("raw_bmrs.boalf") == 0
    assert fcli.count("raw_bmrs.mils") == MILS_ROWS


# -- item 7: one bad dataset never stops the others -----------------------------------------


@pytest.mark.parametrize(
    "fault, env",
    [
        (Fault(status=200, delay_s=1.5), {"GRIDWAREHOUSE_HTTP_TIMEOUT_S": "0.5"}),
        (Fault(status=200, body=b"<html><body>busy</body></html>", content_type="text/html"), {}),
    ],
    ids=["timing out", "answering html"],
)
def test_a_dataset_timing_out_or_answering_html_does_not_stop_the_others(
    fcli, private_replay, fault, env
):
    private_replay.state.inject(BOALF, [fault] * 6)  # both windows, every attempt
    result = fcli.run(
        "load", "bmrs", "--dataset", "BOALF", "--dataset", "MILS", "--dataset", "ATL", *TWO_DAYS,
        GRIDWAREHOUSE_BMRS_CONCURRENCY="1", **env,
    )  # fmt: skip
    assert result.returncode == 1
    assert_no_traceback(result)
    done = statuses(fcli)
    assert done["BOALF"] == ["failed", "failed"]
    assert done["MILS"] == ["ok", "empty"]  # recorded on 1 May only
    assert "ok" in done["ATL"] and set(done["ATL"]) <= {"ok", "empty"}
    assert fcli.count("raw_bmrs.mils") == MILS_ROWS
    assert fcli.count("raw_bmrs.atl") > 0


def test_an_unreachable_host_fails_once_then_its_windows_are_skipped_and_the_run_exits_1(fcli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/bmrs"
        result = fcli.run(
            "load", "bmrs", "--dataset", "BOALF", "--dataset", "MILS", "--from", "2024-05-01",
            "--to", "2024-05-04", GRIDWAREHOUSE_BMRS_BASE_URL=url, GRIDWAREHOUSE_BMRS_CONCURRENCY="1",
        )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert_no_traceback(result)
    assert f"cannot reach {url}/datasets/BOALF/stream" in result.stdout
    assert "may be offline" in result.stdout
    rows = fcli.query("select status, error from ops.load_log order by dataset, window_start")
    assert [s for s, _ in rows] == ["failed"] + ["skipped"] * 5
    assert all("not attempted: 127.0.0.1" in e for _, e in rows[1:])
    assert fcli.count("raw_bmrs.boalf") == fcli.count("raw_bmrs.mils") == 0


# -- item 15: Retry-After is honoured, within a ceiling; the body decides what is HTML ------


def test_retry_after_beyond_the_ceiling_fails_the_window_with_the_servers_wait(
    fcli, private_replay
):
    private_replay.state.inject(BOALF, [Fault(status=429, headers={"Retry-After": "7200"})])
    began = time.monotonic()
    result = fcli.run(
        "load", "bmrs", "--dataset", "BOALF", "--dataset", "MILS", *DAY,
        GRIDWAREHOUSE_HTTP_RETRY_AFTER_MAX_S="60",
    )  # fmt: skip
    assert time.monotonic() - began < 600  # bounded: it did not sleep for two hours
    assert result.returncode == 1
    assert_no_traceback(result)
    assert statuses(fcli) == {"BOALF": ["failed"], "MILS": ["ok"]}
    (error,) = errors(fcli, "BOALF")
    assert "HTTP 429" in error and "the server asked to retry after 7200 s" in error
    assert "GRIDWAREHOUSE_HTTP_RETRY_AFTER_MAX_S (60 s)" in error


def test_valid_json_served_as_text_html_is_loaded(fcli, private_replay):
    body = (RECORDED / "bmrs/BOALF/boalf_stream_2024-05-01.json").read_bytes()
    private_replay.state.inject(BOALF, [Fault(status=200, body=body, content_type="text/html")])
    result = fcli.run("load", "bmrs", "--dataset", "BOALF", *DAY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(fcli) == {"BOALF": ["ok"]}
    assert fcli.count("raw_bmrs.boalf") == BOALF_ROWS


# -- the client on its own: every httpx error class, hosts, Retry-After -----------------------


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(routes_file=None) as s:
        s.state.add("/api/data", RecordSet(records=[{"a": 1}, {"a": 2}], shape="data"))
        yield s


def client(server: ReplayServer, **kw) -> HttpClient:
    return HttpClient(f"http://127.0.0.1:{server.port}/api", retry=kw.pop("retry", FAST), **kw)


@pytest.mark.parametrize(
    "fault, error, message",
    [
        (Fault(302, b"", {"Location": "/api/data"}), RequestFailedError, "redirected too many"),
        (Fault(302, b"", {"Location": "ftp://x/y"}), RequestFailedError, "cannot send"),
        (Fault(200, NOT_GZIP, {"Content-Encoding": "gzip"}), BadResponseError, "not be decoded"),
        (Fault(200, b'{"a": "\xff"}'), BadResponseError, "malformed JSON"),
        (Fault(200, b"<p>hello</p>"), BadResponseError, "an HTML page"),
        (Fault(200, b'{"data": [{"a": 1}'), BadResponseError, "truncated or malformed"),
    ],
    ids=["redirect loop", "unsupported redirect", "bad gzip", "not utf-8", "html", "cut"],
)
def test_each_failure_class_is_a_source_error_naming_the_url(server, fault, error, message):
    server.state.inject("/api/data", [fault] * 30)
    with client(server) as c, pytest.raises(error, match=message) as raised:
        c.get_json("data")
    assert f"127.0.0.1:{server.port}/api/data" in str(raised.value)


def test_a_body_that_is_not_utf8_for_a_text_decoder_is_a_bad_response(server):
    server.state.inject("/api/data", [Fault(200, b"caf\xe9,1\n")] * 3)
    with client(server) as c, pytest.raises(BadResponseError, match="not valid UTF-8"):
        c.fetch("data", decode=lambda body, url: body.decode("utf-8"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:abc/x", "http://127.0.0.1/\x00x"])
def test_an_invalid_url_is_a_failed_request_not_a_crash(server, url):
    # e.g. a portal's download link: httpx.InvalidURL, which is not an httpx.HTTPError
    with client(server) as c, pytest.raises(RequestFailedError, match="InvalidURL"):
        c.get_json(url)


def closing_server(stop: threading.Event) -> tuple[socket.socket, threading.Thread]:
    """A loopback server that reads a request and hangs up without answering (bounded: it
    stops when `stop` is set)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[{")  # then gone

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread


def test_a_dropped_connection_is_retried_then_fails_as_a_request_error():
    stop = threading.Event()
    sock, thread = closing_server(stop)
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
        with HttpClient(url, retry=FAST) as c, pytest.raises(RequestFailedError) as raised:
            c.get_json("data")
    finally:
        stop.set()
        thread.join(5)
        sock.close()
    assert raised.value.attempts == 3 and "connection to" in str(raised.value)
    assert not isinstance(raised.value, UnreachableError)


def test_a_refused_host_is_not_asked_again_in_the_run_but_other_hosts_are(server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
        with HttpClient(dead, retry=FAST) as c:
            with pytest.raises(UnreachableError) as first:
                c.get_json("data")
            assert not isinstance(first.value, HostDownError)
            sent = c.stats.requests
            with pytest.raises(HostDownError, match="not attempted"):
                c.get_json("data")
            assert c.stats.requests == sent  # nothing was sent to the dead host
            live = c.get_json(f"http://127.0.0.1:{server.port}/api/data")  # another host
    assert live == {"data": [{"a": 1}, {"a": 2}]}


def test_windows_failing_on_a_refused_host_at_once_give_one_failure_the_rest_skipped():
    """Windows run in parallel: several can be refused at the same moment. The host is said
    to be unreachable once (one failed window); the others are skipped like its later windows."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
        start = threading.Barrier(4)
        raised: list[Exception] = []

        def fetch(c: HttpClient) -> None:
            start.wait()
            try:
                c.get_json("data")
            except UnreachableError as exc:
                raised.append(exc)

        with HttpClient(dead, retry=RetryPolicy(max_retries=0)) as c:
            threads = [threading.Thread(target=fetch, args=(c,)) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
    assert len(raised) == 4
    failed = [exc for exc in raised if not isinstance(exc, HostDownError)]
    assert len(failed) == 1 and "cannot reach" in str(failed[0])
    assert all("not attempted" in str(exc) for exc in raised if exc is not failed[0])


def test_a_read_timeout_is_not_unreachable_and_the_host_is_asked_again(server):
    server.state.inject("/api/data", [Fault(status=200, delay_s=1.0)])
    no_retry = RetryPolicy(max_retries=0)
    with client(server, retry=no_retry, timeout_s=0.3) as c:
        with pytest.raises(SourceTimeoutError, match="timed out"):
            c.get_json("data")
        assert c.get_json("data") == {"data": [{"a": 1}, {"a": 2}]}


def test_retry_after_is_honoured_beyond_the_backoff_cap(server):
    server.state.inject("/api/data", [Fault(status=429, headers={"Retry-After": "1"})])
    capped = RetryPolicy(max_retries=2, backoff_base_s=0.01, backoff_max_s=0.05)
    with client(server, retry=capped) as c:
        began = time.monotonic()
        body, attempts = c.fetch_json("data")
        waited = time.monotonic() - began
    assert attempts == 2 and body["data"]
    assert waited >= 0.95  # the server's 1 s, not the 0.05 s backoff cap


def test_retry_after_beyond_the_ceiling_fails_at_once_with_the_wait(server):
    server.state.inject("/api/data", [Fault(status=429, headers={"Retry-After": "120"})])
    ceiling = RetryPolicy(max_retries=5, retry_after_max_s=60)
    with client(server, retry=ceiling) as c, pytest.raises(HttpStatusError) as raised:
        c.get_json("data")
    assert raised.value.attempts == 1 and raised.value.status == 429
    assert "the server asked to retry after 120 s" in str(raised.value)


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8", "text/plain"])
def test_json_is_data_whatever_the_content_type_says(server, content_type):
    body = b'{"data": [{"a": 1}]}'
    server.state.inject("/api/data", [Fault(200, body, content_type=content_type)])
    with client(server) as c:
        assert c.get_json("data") == {"data": [{"a": 1}]}


def test_a_page_is_html_whatever_the_content_type_says(server):
    page = b"\xef\xbb\xbf  <!DOCTYPE html><html><body>Sign in</body></html>"
    server.state.inject("/api/data", [Fault(200, page, content_type="application/json")] * 3)
    with client(server) as c, pytest.raises(BadResponseError, match="an HTML page"):
        c.get_json("data")


def test_keys_resting_beyond_the_ceiling_fail_the_request_instead_of_sleeping(server):
    server.state.inject(
        "/api/data", [Fault(status=429, headers={"Retry-After": "120"})] * 2
    )  # one 429 per key
    ceiling = RetryPolicy(max_retries=5, retry_after_max_s=60)
    with client(server, retry=ceiling, keys=KeyRing(["k1", "k2"])) as c:
        with pytest.raises(HttpStatusError, match="asked to retry after 120 s"):
            c.get_json("data")  # k1 rests, k2 is tried at once and draws the second 429
        with pytest.raises(HttpStatusError, match="every API key is resting"):
            c.get_json("data")  # nothing sent: both keys rest for ~120 s
    assert len(server.state.requests) == 2


def test_an_unforeseen_exception_in_one_fetch_fails_that_window_and_the_run_goes_on(
    tmp_path, private_replay
):
    class SyntheticBugAdapter(BmrsAdapter):
        """The real BMRS adapter with a synthetic bug in BOALF's fetch."""

        def fetch(self, task):
            if task.dataset == "BOALF":
                raise KeyError("synthetic bug")
            return super().fetch(task)

    cli = make_cli(tmp_path, private_replay)
    settings = load_settings(env=cli.env, cwd=tmp_path)
    catalogue = load_catalogue()
    tasks = range_tasks(
        [catalogue.get("BOALF"), catalogue.get("MILS")],
        datetime(2024, 5, 1, tzinfo=UTC),
        datetime(2024, 5, 2, tzinfo=UTC),
    )
    adapter = SyntheticBugAdapter(settings)
    try:
        summary = run_tasks(adapter, tasks, settings, pipeline_name="bmrs")
    finally:
        adapter.close()
    assert summary.exit_code == 1
    assert statuses(cli) == {"BOALF": ["failed"], "MILS": ["ok"]}
    assert errors(cli, "BOALF") == ["BOALF: unexpected KeyError: 'synthetic bug'"]
    assert cli.count("raw_bmrs.mils") == MILS_ROWS


def test_a_dataset_failing_windows_in_a_row_is_skipped_for_the_rest_of_the_run(
    fcli, private_replay
):
    private_replay.state.inject(BOALF, [Fault(status=503)] * 50)  # BOALF never clears
    result = fcli.run(
        "load", "bmrs", "--dataset", "BOALF", "--dataset", "MILS", "--from", "2024-04-26",
        "--to", "2024-05-02", GRIDWAREHOUSE_BMRS_CONCURRENCY="1",
    )  # fmt: skip
    assert result.returncode == 1
    assert_no_traceback(result)
    done = statuses(fcli)
    # three failures (and the one window already in flight), then BOALF's other windows are
    # not asked for in this run
    assert done["BOALF"] == ["failed"] * 4 + ["skipped"] * 2
    assert all(s in ("ok", "empty") for s in done["MILS"]) and len(done["MILS"]) == 6
    skipped = fcli.query("select error from ops.load_log where status = 'skipped'")
    assert all("BOALF failed 3 windows in a row in this run" in e for (e,) in skipped)
    assert len(private_replay.state.requests) == 4 * 3 + 6  # BOALF's attempts, MILS's windows
    assert fcli.count("raw_bmrs.mils") == MILS_ROWS
