"""Operations: `run` (cadences, lock, dbt of what changed), `schedule`, `status` (text, JSON,
exit code, HTML page and its live server, checked in headless Chromium) and alerts (a local
webhook receiver and a local SMTP server)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from loaders.testing.replay import Fault

from .conftest import GRIDWAREHOUSE, Cli

ONLY_BOALF = {"GRIDWAREHOUSE_RUN_SOURCES": "bmrs", "GRIDWAREHOUSE_RUN_BMRS_DATASETS": "BOALF"}
RECORDED_DAY = ("--from", "2024-05-01", "--to", "2024-05-02")


def load_boalf(cli: Cli, *args: str) -> None:
    cli.run("load", "bmrs", "--dataset", "BOALF", *(args or RECORDED_DAY), check=True)


def status_json(cli: Cli, **env: str) -> tuple[int, dict[str, Any]]:
    result = cli.run("status", "--json", **ONLY_BOALF, **env)
    return result.returncode, json.loads(result.stdout)


# -- status ---------------------------------------------------------------------------------


def test_status_reports_lag_rows_and_exits_3_when_stale(cli: Cli) -> None:
    load_boalf(cli)
    code, report = status_json(cli)
    boalf = next(d for d in report["datasets"] if d["dataset"] == "BOALF")
    assert code == 3 and not report["healthy"] and report["unhealthy"] == ["bmrs.BOALF"]
    assert boalf["state"] == "stale" and boalf["scheduled"]
    assert boalf["last_window_end"].startswith("2024-05-02T00:00:00")
    assert boalf["rows_24h"] == cli.count("raw_bmrs.boalf") > 0
    assert boalf["lag_s"] > 365 * 86400

    code, report = status_json(cli, GRIDWAREHOUSE_STALE_AFTER="bmrs=10000d")
    assert code == 0 and report["healthy"]
    text = cli.run("status", GRIDWAREHOUSE_STALE_AFTER="bmrs=10000d", **ONLY_BOALF)
    assert text.returncode == 0 and "BOALF" in text.stdout and "healthy" in text.stdout
    assert "\033[" not in text.stdout, "no colours when not on a terminal"


def test_status_shows_failures_with_their_error(cli: Cli, replay: Any) -> None:
    replay.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=500)] * 3)
    cli.run("load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-03", "--to", "2024-05-04")
    code, report = status_json(cli, GRIDWAREHOUSE_STALE_AFTER="bmrs=10000d")
    boalf = next(d for d in report["datasets"] if d["dataset"] == "BOALF")
    assert code == 3 and boalf["state"] == "failing" and boalf["failures_24h"] == 1
    assert boalf["open_failures"] == 1
    assert "500" in boalf["last_error"]
    text = cli.run("status", GRIDWAREHOUSE_STALE_AFTER="bmrs=10000d", **ONLY_BOALF).stdout
    assert "errors:" in text and "500" in text


def test_status_colours_states_on_a_terminal(cli: Cli) -> None:
    from loaders.operations.status import collect, print_report
    from loaders.settings import load_settings

    load_boalf(cli)
    settings = load_settings(env={**cli.env, **ONLY_BOALF}, cwd=cli.data_dir.parent)
    import io

    out = io.StringIO()
    print_report(collect(settings), out, colour=True)
    assert "\033[33mstale\033[0m" in out.getvalue()


def test_status_columns_stay_in_line_with_a_lag_of_over_1000_days(cli: Cli) -> None:
    # the recorded FUELINST stream is of 2024-02-12: over 1000 days behind now (1024.7d on
    # 2026-12-03), a lag wider than the LAG column's usual six characters
    load_boalf(cli)
    fuelinst_day = ("--from", "2024-02-12", "--to", "2024-02-13")
    cli.run("load", "bmrs", "--dataset", "FUELINST", *fuelinst_day, check=True)
    lines = cli.run("status", **ONLY_BOALF).stdout.splitlines()
    header = next(line for line in lines if "LAST WINDOW END" in line)
    rows = {
        line.split()[0]: line for line in lines if line.split()[:1] in (["BOALF"], ["FUELINST"])
    }
    lag_end = header.index("LAG") + len("LAG")
    lags = {name: row[:lag_end].split()[-1] for name, row in rows.items()}
    assert (
        float(lags["FUELINST"].removesuffix("d")) >= 1000 > float(lags["BOALF"].removesuffix("d"))
    )
    # every right-aligned value ends where its heading ends, and the state starts under STATE
    ends = [header.index(h) + len(h) for h in ("LAG", "EVERY", "ROWS 24H", "FAIL 24H")]
    state_at = header.index("STATE")
    for row in rows.values():
        assert all(row[end - 1] != " " and row[end] == " " for end in ends), (header, row)
        assert row[state_at - 1] == " " and row[state_at] != " ", (header, row)


# -- the status page ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed here when missing (the test setup needs root and apt)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "fonts-dejavu-core",
        ],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"could not install Chromium: {' '.join(command)}\n{done.stderr[-2000:]}")
    found = shutil.which("chromium")
    assert found, "chromium installed but not on PATH"
    return found


def screenshot(chromium: str, url: str, out: Path) -> tuple[int, int, bytes]:
    """Headless Chromium's screenshot of `url`: (width, height, PNG bytes), and its DOM."""
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--window-size=1280,1000", "--disable-dev-shm-usage", "--no-first-run"]  # fmt: skip
    shot = subprocess.run(
        [chromium, *flags, f"--screenshot={out}", url], capture_output=True, text=True, timeout=120
    )
    assert out.exists(), shot.stderr[-2000:]
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height, png


def dom(chromium: str, url: str) -> str:
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    done = subprocess.run(
        [chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    return done.stdout


def _distinct_colours(png: bytes) -> int:
    """How many distinct pixel values the screenshot has: a blank page has one or two."""
    import zlib

    chunks, pos = [], 8
    while pos < len(png):
        length = struct.unpack(">I", png[pos : pos + 4])[0]
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            chunks.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    return len(set(raw[i : i + 3] for i in range(1, min(len(raw), 400_000), 4)))


@pytest.mark.slow
def test_status_page_renders_in_headless_chromium(cli: Cli, chromium: str, tmp_path: Path) -> None:
    load_boalf(cli)
    page = tmp_path / "out" / "status.html"
    result = cli.run("status", "--html", str(page), **ONLY_BOALF)
    assert result.returncode == 3  # stale, and the page says so
    html = page.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert 'id="freshness"' in html and 'id="rows-chart"' in html and 'id="durations-chart"' in html

    rendered = dom(chromium, page.as_uri())
    assert "BOALF" in rendered and "stale" in rendered and ">1 stale</span>" in rendered
    assert "BMRS (Elexon Insights API) [bmrs]" in rendered  # grouped by source
    # bars and cells carry visible labels, not only hover titles
    from loaders.operations.status_page import _short

    rows = cli.count("raw_bmrs.boalf")
    assert f">{_short(rows)}</text>" in rendered, "the heatmap cell shows its row count"
    assert f"{rows:,} rows · 1 window</text>" in rendered, "the duration bar is labelled"
    width, height, png = screenshot(chromium, page.as_uri(), tmp_path / "status.png")
    assert (width, height) == (1280, 1000)
    assert len(png) > 15_000 and _distinct_colours(png) > 20, "the page rendered, not blank"


@pytest.mark.slow
def test_status_serve_is_live_on_localhost(cli: Cli, chromium: str, tmp_path: Path) -> None:
    load_boalf(cli)
    proc = subprocess.Popen(
        [str(GRIDWAREHOUSE), "status", "--serve"],
        env={**cli.env, **ONLY_BOALF},
        cwd=cli.data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("status page: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode()
        assert '<meta http-equiv="refresh" content="30">' in body and "BOALF" in body
        with urllib.request.urlopen(url + "status.json", timeout=30) as response:
            assert json.loads(response.read())["unhealthy"] == ["bmrs.BOALF"]
        assert "BOALF" in dom(chromium, url)
        _, _, png = screenshot(chromium, url, tmp_path / "live.png")
        assert _distinct_colours(png) > 20
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


# -- run and schedule ----------------------------------------------------------------------


@pytest.mark.slow
def test_run_loads_what_is_due_then_builds_only_downstream_models(cli: Cli, tmp_path: Path) -> None:
    load_boalf(cli, "--from", "2024-05-01", "--to", "2024-05-01T12:00")
    first = cli.run("run", **ONLY_BOALF)  # a new warehouse: the whole project is built once
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert "dbt build of the whole project" in first.stdout

    assert cli.count("marts.fct_acceptances_by_unit_period") > 0
    cli.run("load", "bmrs", "--dataset", "MILS", "--from", "2024-05-01T10:00",
            "--to", "2024-05-01T10:20", check=True)  # fmt: skip
    before = cli.count("raw_bmrs.mils")
    env = {"GRIDWAREHOUSE_RUN_SOURCES": "bmrs", "GRIDWAREHOUSE_RUN_BMRS_DATASETS": "BOALF,MILS"}
    second = cli.run("run", "--force", **env)
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    assert cli.count("raw_bmrs.mils") > before, "the incremental load continued MILS"
    assert "run: bmrs: ok" in second.stdout and "1 tables" in second.stdout
    assert "dbt build of 1 changed sources and their downstream models: ok" in second.stdout
    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text())
    built = {r["unique_id"].split(".")[-1] for r in results["results"]}
    assert "stg_bmrs__mils" in built
    assert "stg_bmrs__boalf" not in built and "stg_neso__historic_demand" not in built

    again = cli.run("run", **env)
    assert again.returncode == 0
    assert "not due yet: bmrs" in again.stdout and "dbt build skipped" in again.stdout


@pytest.mark.slow
def test_two_concurrent_runs_never_both_run(cli: Cli, replay: Any) -> None:
    load_boalf(cli, "--from", "2024-05-01", "--to", "2024-05-01T23:00")
    replay.state.inject("/bmrs/datasets/BOALF/stream", [Fault(status=200, body=b"[]", delay_s=4)])
    env = {**cli.env, **ONLY_BOALF}
    command = [str(GRIDWAREHOUSE), "run", "--no-build"]
    first = subprocess.Popen(command, env=env, cwd=cli.data_dir.parent, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(2.5)  # the first holds the lock, waiting on its slow request
    began = time.monotonic()
    second = cli.run("run", "--no-build", **ONLY_BOALF)
    assert time.monotonic() - began < 15
    assert second.returncode == 0
    assert "another `gridwarehouse run` is in progress (pid" in second.stderr
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err[-2000:]
    assert "run: bmrs: ok" in out


@pytest.mark.slow
def test_schedule_runs_cycles_and_stops_on_sigterm(cli: Cli, tmp_path: Path) -> None:
    load_boalf(cli, "--from", "2024-05-01", "--to", "2024-05-01T23:00")
    # files, not pipes: dbt's output would fill a pipe nobody reads until the end
    output, errors = tmp_path / "schedule.out", tmp_path / "schedule.err"
    with output.open("w") as out_file, errors.open("w") as err_file:
        proc = subprocess.Popen(
            [str(GRIDWAREHOUSE), "schedule", "--every", "15m"],
            env={**cli.env, **ONLY_BOALF, "GRIDWAREHOUSE_RUN_EVERY": "bmrs=1m"},
            cwd=cli.data_dir.parent, stdout=out_file, stderr=err_file,
        )  # fmt: skip
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and "next cycle in" not in errors.read_text():
            time.sleep(0.5)
        assert "next cycle in" in errors.read_text(), errors.read_text()[-3000:]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0, errors.read_text()[-2000:]
    assert "run: bmrs: ok" in output.read_text()
    assert "dbt build of the whole project" in output.read_text()


# -- alerts ---------------------------------------------------------------------------------


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _free_port() -> int:
    # aiosmtpd's Controller connects to its own port to check it is up, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receivers() -> Iterator[tuple[str, int, list[dict[str, Any]], list[Any]]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    mails: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            mails.append(message)

    _Webhook.received = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    smtp = Controller(Keep(), hostname="127.0.0.1", port=_free_port())
    smtp.start()
    try:
        yield (
            f"http://127.0.0.1:{http.server_address[1]}/hook",
            smtp.port,
            _Webhook.received,
            mails,
        )
    finally:
        http.shutdown()
        smtp.stop()


@pytest.mark.slow
def test_alerts_go_out_once_per_incident_and_when_it_clears(cli: Cli, receivers: Any) -> None:
    from loaders.operations.alerts import check_and_send
    from loaders.settings import load_settings

    hook, smtp_port, posted, mails = receivers
    load_boalf(cli)
    env = {
        **cli.env, **ONLY_BOALF,
        "GRIDWAREHOUSE_ALERT_WEBHOOK": hook, "GRIDWAREHOUSE_ALERT_EMAIL": "ops@example.org",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "false",
        "IRIS_CLIENT_SECRET_EXPIRES": (datetime.now(UTC).date() + timedelta(days=3)).isoformat(),
    }  # fmt: skip

    def check(**extra: str) -> dict[str, list[str]]:
        return check_and_send(load_settings(env={**env, **extra}, cwd=cli.data_dir.parent))

    first = check()
    assert set(first) == {"webhook", "email"}
    assert len(posted) == 1 and len(mails) == 1
    assert "bmrs BOALF is stale" in posted[0]["text"] and "expires on" in posted[0]["text"]
    assert mails[0]["To"] == "ops@example.org" and "2 new incident" in mails[0]["Subject"]

    assert check() == {}, "an open incident is not sent again on the next cycle"
    assert len(posted) == 1 and len(mails) == 1

    cleared = check(GRIDWAREHOUSE_STALE_AFTER="bmrs=10000d")
    assert set(cleared) == {"webhook", "email"} and "1 incident(s) cleared" in posted[1]["text"]
    assert "BOALF" in posted[1]["text"] and len(mails) == 2
    assert check(GRIDWAREHOUSE_STALE_AFTER="bmrs=10000d") == {}


@pytest.mark.slow
def test_an_unreachable_webhook_is_told_on_the_next_cycle(cli: Cli, receivers: Any) -> None:
    from loaders.operations.alerts import check_and_send
    from loaders.settings import load_settings

    hook, _, posted, _ = receivers
    load_boalf(cli)
    env = {**cli.env, **ONLY_BOALF}
    down = load_settings(
        env={**env, "GRIDWAREHOUSE_ALERT_WEBHOOK": "http://127.0.0.1:9/hook"},
        cwd=cli.data_dir.parent,
    )
    assert check_and_send(down) == {}
    up = load_settings(env={**env, "GRIDWAREHOUSE_ALERT_WEBHOOK": hook}, cwd=cli.data_dir.parent)
    assert set(check_and_send(up)) == {"webhook"} and "BOALF is stale" in posted[0]["text"]


# -- make docs ------------------------------------------------------------------------------


def _base_python() -> str:
    import sys

    return str(getattr(sys, "_base_executable", None) or sys.executable)


@pytest.mark.slow
def test_make_docs_generates_and_serves_on_localhost_printing_the_url(cli: Cli) -> None:
    load_boalf(cli)  # docs of a warehouse with a raw table (the catalog reads it)
    proc = subprocess.Popen(
        # PYTHON: the interpreter uv was bootstrapped into (this one is the project's venv)
        ["make", "--no-print-directory", "docs", "ARGS=--port 0", f"PYTHON={_base_python()}"],
        env=cli.env, cwd=GRIDWAREHOUSE.parents[2],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url, seen = None, []
        assert proc.stdout is not None
        for line in proc.stdout:  # dbt's output, then the URL line
            seen.append(line)
            if " at http://127.0.0.1:" in line:
                url = line.split(" at ")[1].split()[0]
                break
        assert url and url.startswith("http://127.0.0.1:"), "".join(seen)[-3000:]
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert "dbt" in page.lower() and "<html" in page.lower()
        manifest = json.loads(urllib.request.urlopen(url + "manifest.json", timeout=10).read())
        assert "model.gridwarehouse.stg_bmrs__boalf" in manifest["nodes"]
        catalog = json.loads(urllib.request.urlopen(url + "catalog.json", timeout=10).read())
        assert "source.gridwarehouse.bmrs.boalf" in catalog["sources"]
        # the plants map, drawn offline, is part of the site
        svg = urllib.request.urlopen(url + "plants_map.svg", timeout=10).read().decode()
        assert svg.startswith("<svg") and 'class="plant"' in svg
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_status_lists_loaded_datasets_by_source_with_full_names_and_counts_the_rest(
    cli: Cli,
) -> None:
    """Default view: what has a load history, grouped by source, names in full; the datasets
    only scheduled by default and never loaded are one line per source. `--all` lists them."""
    load_boalf(cli)
    bid, offer = (
        "BALANCING_SETTLEMENT_ACCEPTANCE_VOLUMES_ALL_BID",
        "BALANCING_SETTLEMENT_ACCEPTANCE_VOLUMES_ALL_OFFER",
    )
    default = cli.run("status")
    assert default.returncode == 3
    lines = default.stdout.splitlines()
    assert "BMRS (Elexon Insights API) [bmrs]" in lines
    assert any(line.split()[:1] == ["BOALF"] for line in lines)
    assert bid not in default.stdout and len(lines) < 30, default.stdout
    never = next(line for line in lines if "more scheduled, never loaded" in line)
    assert "`gridwarehouse status --all` lists them" in never
    assert "unhealthy (1 stale, 0 failing, " in default.stdout

    every = cli.run("status", "--all").stdout.splitlines()
    names = {line.split()[0] for line in every if line.startswith("  ") and line.split()}
    assert {bid, offer, "BOALF", "FUELINST"} <= names  # full names: the two told apart
    assert len(every) > 150


def test_status_without_a_warehouse_creates_none(cli: Cli) -> None:
    result = cli.run("status")
    assert result.returncode == 3
    assert "no warehouse at" in result.stdout and "make demo" in result.stdout
    assert not cli.duckdb_path.exists()
