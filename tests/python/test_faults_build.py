"""A dbt build holding the warehouse does not lock everyone else out: readers of the load log
(`status`, `status --serve`, `datasets list`) answer from the build's snapshot, and a load
waits for the build — saying so — instead of failing.

The build is a real process holding the real lock the way `gridwarehouse build` does
(`build_lock`, then the DuckDB file open for writing, as dbt keeps it) until the test releases it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .conftest import GRIDWAREHOUSE, Cli, wait_for

RANGE = ("--from", "2024-05-01", "--to", "2024-05-03")
BUILD = """
import sys, time
from pathlib import Path
import duckdb
from loaders.common.warehouse import build_lock
from loaders.settings import load_settings

settings = load_settings()
release = Path(sys.argv[1])
with build_lock(settings, "dbt build"):
    con = duckdb.connect(str(settings.duckdb_path))  # as dbt holds it: open for writing
    con.execute("create schema if not exists marts")
    print("holding", flush=True)
    deadline = time.monotonic() + 180
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    con.close()
print("released", flush=True)
"""


def start(cli: Cli, args: list[str], out: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args,
        env={**cli.env, **env},
        cwd=cli.data_dir.parent,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def start_build(cli: Cli, tmp_path: Path) -> tuple[subprocess.Popen[str], Path, Path]:
    release, out = tmp_path / "release", tmp_path / "build.out"
    build = start(cli, [sys.executable, "-c", BUILD, str(release)], out)
    wait_for(lambda: "holding" in out.read_text(), "the build to hold the warehouse")
    return build, release, out


def test_readers_answer_from_the_snapshot_while_a_build_holds_the_warehouse(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli.run("load", "bmrs", "--dataset", "BOALF", *RANGE).returncode == 0
    build, release, _ = start_build(cli, tmp_path)
    serve_out = tmp_path / "serve.out"
    server = start(cli, [str(GRIDWAREHOUSE), "status", "--serve"], serve_out)
    try:
        status = cli.run("status", "--json")
        assert status.returncode in (0, 3), status.stderr  # 3: stale, as the data is old
        assert "Traceback" not in status.stderr
        assert "reading its load log as of then" in status.stderr
        report = json.loads(status.stdout)
        assert "BOALF" in json.dumps(report["datasets"])

        listed = cli.run("datasets", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        boalf = next(d for d in json.loads(listed.stdout) if d["name"] == "BOALF")
        assert boalf["loaded"] is True

        wait_for(lambda: "status page: http" in serve_out.read_text(), "the status page")
        url = serve_out.read_text().split("status page: ")[1].split()[0]
        with urllib.request.urlopen(url + "status.json", timeout=60) as response:
            assert response.status == 200
            assert "BOALF" in response.read().decode()
        assert build.poll() is None, "the build still held the warehouse throughout"
    finally:
        release.touch()
        build.wait(60)
        server.terminate()
        server.wait(60)


def test_a_load_waits_for_a_build_and_says_so_instead_of_failing(cli: Cli, tmp_path: Path) -> None:
    assert cli.run("load", "bmrs", "--dataset", "BOALF", *RANGE).returncode == 0
    build, release, build_out = start_build(cli, tmp_path)
    load_out = tmp_path / "load.out"
    # a 1 s lock timeout: a load that gave up after it would fail; it must wait for the build
    load = start(
        cli,
        [str(GRIDWAREHOUSE), "load", "bmrs", "--dataset", "MILS", *RANGE],
        load_out,
        GRIDWAREHOUSE_LOCK_TIMEOUT_S="1",
    )
    try:
        wait_for(lambda: "waiting for dbt build" in load_out.read_text(), "the load to wait")
        time.sleep(2)  # well past the lock timeout
        assert load.poll() is None, load_out.read_text()
    finally:
        release.touch()
        build.wait(60)
    assert load.wait(300) == 0, load_out.read_text()
    text = load_out.read_text()
    assert "Traceback" not in text and "released" in build_out.read_text()
    assert "the build finished; bmrs load goes ahead after waiting" in text
    statuses = {s for (s,) in cli.query("select status from ops.load_log where dataset = 'MILS'")}
    assert "ok" in statuses and statuses <= {"ok", "empty"}  # the recording covers one day
    assert cli.count("raw_bmrs.mils") == 1000


def test_the_iris_receiver_keeps_landing_during_a_build_and_flushes_after_it(
    cli: Cli, tmp_path: Path
) -> None:
    import os
    import signal

    from tests.iris.servicebus_broker import Broker

    from .iris_messages import distinct_keys, messages_from_api
    from .test_iris import QUEUE, enqueue, iris_env

    broker = Broker(port=0, queue=QUEUE, lock_duration=30)
    broker.start()
    receiver: subprocess.Popen[str] | None = None
    try:
        boalf = messages_from_api("BOALF", per_message=5)
        enqueue(broker, boalf)
        build, release, _ = start_build(cli, tmp_path)
        log = tmp_path / "receiver.log"
        receiver = subprocess.Popen(
            [str(GRIDWAREHOUSE), "iris", "run"],
            env={**cli.env, **iris_env(broker)},
            cwd=cli.data_dir.parent,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            # every message is landed and completed while the build holds the warehouse
            wait_for(lambda: broker.stats()["completed"] >= len(boalf), "every message landed")
            wait_for(lambda: "waiting for dbt build" in log.read_text(), "the flush to wait")
            assert build.poll() is None and "IRIS flush: " not in log.read_text()
        finally:
            release.touch()
            build.wait(60)
        wait_for(lambda: "IRIS flush: " in log.read_text(), "the flush after the build")
        os.killpg(receiver.pid, signal.SIGTERM)
        assert receiver.wait(90) == 0, log.read_text()[-3000:]
    finally:
        if receiver is not None and receiver.poll() is None:
            os.killpg(receiver.pid, signal.SIGKILL)
        broker.stop()
    text = log.read_text()
    assert "Traceback" not in text and "flush into the warehouse failed" not in text
    assert cli.query(
        "select count(distinct _natural_key), count(distinct _message_id) from raw_bmrs.boalf"
    ) == [(distinct_keys("BOALF"), len(boalf))]
