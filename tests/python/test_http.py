"""The HTTP client against a local server: retries, Retry-After, and bodies that are not data."""

from __future__ import annotations

import socket
import time

import pytest

from loaders.common.http import HttpClient, RetryPolicy, parse_retry_after, redact_url
from loaders.errors import BadResponseError, HttpStatusError, UnreachableError
from loaders.testing.replay import Fault, RecordSet, ReplayServer

FAST = RetryPolicy(max_retries=3, backoff_base_s=0.01, backoff_max_s=5)


@pytest.fixture
def server():
    with ReplayServer(routes_file=None) as s:
        s.state.add("/api/data", RecordSet(records=[{"a": 1}, {"a": 2}], shape="data"))
        s.state.add("/api/array", RecordSet(records=[{"a": 1}], shape="array"))
        yield s


def client(server: ReplayServer, **kw) -> HttpClient:
    return HttpClient(f"http://127.0.0.1:{server.port}/api", retry=kw.pop("retry", FAST), **kw)


def test_both_body_shapes_decode(server):
    with client(server) as c:
        assert c.get_json("data") == {"data": [{"a": 1}, {"a": 2}]}
        assert c.get_json("array") == [{"a": 1}]


def test_429_waits_for_retry_after_then_succeeds(server):
    server.state.inject("/api/data", [Fault(status=429, headers={"Retry-After": "1"})])
    with client(server) as c:
        began = time.monotonic()
        body, attempts = c.fetch_json("data")
        assert time.monotonic() - began >= 0.95  # honoured the server's 1 s, not our 10 ms backoff
    assert attempts == 2 and body["data"]


def test_5xx_is_retried_until_it_clears(server):
    server.state.inject("/api/data", [Fault(status=500), Fault(status=503)])
    with client(server) as c:
        body, attempts = c.fetch_json("data")
    assert attempts == 3 and len(body["data"]) == 2


def test_5xx_that_never_clears_fails_naming_the_url(server):
    server.state.inject("/api/data", [Fault(status=502)] * 10)
    with (
        client(server) as c,
        pytest.raises(
            HttpStatusError, match=r"HTTP 502 from http://127\.0\.0\.1:\d+/api/data"
        ) as err,
    ):
        c.get_json("data", {"from": "2024-05-01"})
    assert err.value.attempts == 4


def test_timeout_is_retried(server):
    server.state.inject("/api/data", [Fault(status=200, delay_s=1.5)])
    with client(server, timeout_s=0.5) as c:
        body, attempts = c.fetch_json("data")
    assert attempts == 2 and body["data"]


def test_html_page_with_status_200_is_an_error_not_rows(server):
    page = b"<!DOCTYPE html><html><body>Service maintenance</body></html>"
    server.state.inject("/api/data", [Fault(status=200, body=page, content_type="text/html")] * 10)
    with (
        client(server) as c,
        pytest.raises(BadResponseError, match="HTML page instead of JSON") as err,
    ):
        c.get_json("data")
    assert "/api/data" in str(err.value)


def test_truncated_json_is_an_error_not_rows(server):
    server.state.inject("/api/data", [Fault(status=200, body=b'{"data": [{"a": 1}, {"a"')] * 10)
    with client(server) as c, pytest.raises(BadResponseError, match="truncated or malformed JSON"):
        c.get_json("data")


def test_truncated_body_once_then_good_body_recovers(server):
    server.state.inject("/api/data", [Fault(status=200, body=b'[{"a": 1')])
    with client(server) as c:
        assert c.fetch_json("data")[1] == 2


def test_client_errors_are_not_retried(server):
    with client(server) as c, pytest.raises(HttpStatusError, match="HTTP 404") as err:
        c.get_json("missing")
    assert err.value.attempts == 1


def test_unreachable_base_url_says_which_url_and_that_it_may_be_offline():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with (
            HttpClient(f"http://127.0.0.1:{port}/api", retry=FAST) as c,
            pytest.raises(UnreachableError) as err,
        ):
            c.get_json("data")
    assert f"127.0.0.1:{port}/api/data" in str(err.value) and "offline" in str(err.value)


def test_retry_after_http_date_and_secret_redaction():
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert redact_url("https://x/y?apikey=s3cret&from=1") == "https://x/y?apikey=***&from=1"
