"""A probe of one endpoint for `check-endpoints`: sources describe theirs with these."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

TIMEOUT_S = 10.0


@dataclass
class Probe:
    source: str
    endpoint: str
    url: str
    required: bool = False
    http_status: int | None = None
    latency_ms: float | None = None
    verdict: str = "down"
    detail: str = ""


def _verdict(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "forbidden"
    if status == 404:
        return "not found"
    return "down"


def probe_http(probe: Probe, client: httpx.Client, headers: dict[str, str] | None = None) -> Probe:
    began = time.monotonic()
    try:
        response = client.get(probe.url, headers=headers)
        probe.http_status = response.status_code
        probe.verdict = _verdict(response.status_code)
        if probe.verdict != "ok":
            probe.detail = response.text[:120].replace("\n", " ")
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:  # every httpx class
        probe.verdict, probe.detail = "down", f"{type(exc).__name__}: {exc}"[:200]
    probe.latency_ms = round((time.monotonic() - began) * 1000, 1)
    return probe


def probe_tcp(probe: Probe, host: str, port: int) -> Probe:
    began = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            probe.verdict = "ok"
    except OSError as exc:
        probe.verdict, probe.detail = "down", f"{type(exc).__name__}: {exc}"[:200]
    probe.latency_ms = round((time.monotonic() - began) * 1000, 1)
    return probe


# A planned probe: what is probed, and how (given the shared HTTP client).
Planned = tuple[Probe, Callable[[httpx.Client], Probe]]


def http_probe(probe: Probe, headers: dict[str, str] | None = None) -> Planned:
    """An HTTP GET probe of `probe.url`."""
    return probe, lambda client: probe_http(probe, client, headers)


def known(probe: Probe) -> Planned:
    """A probe whose verdict is already known (a missing token): nothing to ask."""
    return probe, lambda client: probe
