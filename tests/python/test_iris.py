"""`gridwarehouse iris run` with the real azure-servicebus SDK against the project's local AMQP 1.0
broker (tests/iris). Message bodies are slices of recorded real BMRS API responses; their ids
end in `_from_api` (see iris_messages.py). Values changed to test a rule are named synthetic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusSubQueue

from loaders.sources.iris.stats import secret_warning
from tests.iris.servicebus_broker import Broker

from .conftest import GRIDWAREHOUSE, Cli, wait_for
from .iris_messages import distinct_keys, messages_from_api, records

# end to end: a local AMQP broker and receiver processes (killed, restarted) per test
pytestmark = pytest.mark.slow

QUEUE = "iris-test"


@pytest.fixture
def broker() -> Any:
    server = Broker(port=0, queue=QUEUE, lock_duration=30)
    server.start()
    yield server
    server.stop()


def connection_string(broker: Broker) -> str:
    return (
        f"Endpoint=sb://127.0.0.1:{broker.port};SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true"
    )


def iris_env(broker: Broker, **extra: str) -> dict[str, str]:
    return {
        "IRIS_CONNECTION_STRING": connection_string(broker),
        "IRIS_QUEUE_NAME": QUEUE,
        "GRIDWAREHOUSE_IRIS_BACKFILL": "false",
        "GRIDWAREHOUSE_IRIS_MAX_WAIT_S": "1",
        "GRIDWAREHOUSE_IRIS_FLUSH_SECONDS": "1",
        **extra,
    }


def enqueue(broker: Broker, messages: list[tuple[str, bytes]]) -> None:
    for message_id, body in messages:
        broker.enqueue(body, message_id.split("_")[0], message_id)


def drain(cli: Cli, broker: Broker, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli.run("iris", "run", "--drain", *args, **iris_env(broker, **env))


def start_receiver(cli: Cli, broker: Broker, log: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(GRIDWAREHOUSE), "iris", "run"],
        env={**cli.env, **iris_env(broker, **env)},
        cwd=cli.data_dir.parent,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def dead_letters(broker: Broker) -> list[Any]:
    with ServiceBusClient.from_connection_string(connection_string(broker)) as client:
        receiver = client.get_queue_receiver(
            QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, max_wait_time=2
        )
        with receiver:
            received = receiver.receive_messages(max_message_count=100, max_wait_time=2)
            for msg in received:
                receiver.complete_message(msg)
            return received


def test_messages_land_once_in_the_api_tables(cli: Cli, broker: Broker) -> None:
    boalf = messages_from_api("BOALF", per_message=5)
    mils = messages_from_api("MILS", per_message=10)
    enqueue(broker, boalf + mils)

    result = drain(cli, broker)
    assert result.returncode == 0, result.stderr

    expected = distinct_keys("BOALF")
    assert cli.query(
        "select count(*), count(distinct _natural_key), count(distinct _message_id), "
        "min(_source), max(_source) from raw_bmrs.boalf"
    ) == [(expected, expected, len(boalf), "iris", "iris")]
    assert cli.count("raw_bmrs.mils") == distinct_keys("MILS")
    stats = broker.stats()
    assert stats["completed"] == len(boalf) + len(mils)
    assert stats["queues"][QUEUE] == 0 and stats["in_flight"] == 0
    assert dict(
        cli.query(
            "select dataset, sum(messages) from ops.iris_stats where dataset <> '*' group by 1"
        )
    ) == {"BOALF": len(boalf), "MILS": len(mils)}
    assert cli.query(
        "select sum(rows) from ops.load_log where source = 'iris' and dataset = 'BOALF'"
    ) == [(expected,)]
    info = subprocess.run(
        [str(GRIDWAREHOUSE.with_name("dlt")), "pipeline", "--pipelines-dir",
         str(cli.data_dir / "pipelines"), "iris", "info"],
        env=cli.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert info.returncode == 0 and "raw_bmrs" in info.stdout, info.stderr
    # the same day from the API (replayed recording): the same keys, so no row is doubled
    cli.run("load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-02",
            check=True)  # fmt: skip
    assert cli.count("raw_bmrs.boalf") == expected
    # IRIS sending the same records again under new message ids changes nothing either
    enqueue(broker, [(f"{mid}_resent", body) for mid, body in boalf[:50]])
    assert drain(cli, broker).returncode == 0
    assert cli.query("select count(*), count(distinct _natural_key) from raw_bmrs.boalf") == [
        (expected, expected)
    ]


def test_later_published_record_wins_between_api_and_iris(cli: Cli, broker: Broker) -> None:
    """MILS versions are ordered by notificationTime. The stored record came from the API; an
    IRIS copy published earlier must not replace it, one published later must."""
    cli.run("load", "bmrs", "--dataset", "MILS", "--from", "2024-05-01T10:00",
            "--to", "2024-05-01T11:00", check=True)  # fmt: skip
    real = records("MILS")[0]
    key = (
        f"nationalGridBmUnit = '{real['nationalGridBmUnit']}' and notification_sequence = "
        f"{real['notificationSequence']} and time_from = '{real['timeFrom']}'"
    ).replace("nationalGridBmUnit", "national_grid_bm_unit")
    stored = cli.query(f"select level_from, _source from raw_bmrs.mils where {key}")
    assert stored == [(real["levelFrom"], "api")]

    def notified(delta: timedelta) -> str:
        at = datetime.fromisoformat(real["notificationTime"].replace("Z", "+00:00")) + delta
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    older = {**real, "levelFrom": 999, "notificationTime": notified(-timedelta(minutes=5))}
    enqueue(broker, [("MILS_older_copy_synthetic", json.dumps([older]).encode())])
    assert drain(cli, broker).returncode == 0
    assert cli.query(f"select level_from, _source from raw_bmrs.mils where {key}") == stored

    newer = {**real, "levelFrom": 998, "notificationTime": notified(timedelta(minutes=5))}
    enqueue(broker, [("MILS_newer_copy_synthetic", json.dumps([newer]).encode())])
    assert drain(cli, broker).returncode == 0
    assert cli.query(f"select level_from, _source from raw_bmrs.mils where {key}") == [
        (998, "iris")
    ]
    notes = cli.query(
        "select notes from ops.load_log where source = 'iris' and notes like '%older than%'"
    )
    assert notes, "the skipped older record is noted in the load log"


def test_kill_9_between_landing_and_complete_20_times(cli: Cli, broker: Broker) -> None:
    """Each round is killed (SIGKILL) after a batch is durably landed but before it is
    completed, or right after a flush commit before its landing files are removed. The broker
    redelivers what was not completed; nothing may be lost and nothing doubled."""
    boalf = messages_from_api("BOALF", per_message=5)
    mils = messages_from_api("MILS", per_message=10)
    enqueue(broker, boalf + mils)
    env = {"GRIDWAREHOUSE_IRIS_BATCH_SIZE": "10", "GRIDWAREHOUSE_IRIS_FLUSH_MESSAGES": "15"}
    for round_ in range(20):
        point = (
            "iris.after_flush_commit:1"
            if round_ % 4 == 3
            else f"iris.after_landing:{1 + round_ % 3}"
        )
        result = drain(cli, broker, GRIDWAREHOUSE_FAILPOINT=point, **env)
        assert result.returncode == -signal.SIGKILL, (point, result.stderr[-2000:])
        assert f"failpoint {point.split(':')[0]} reached" in result.stderr
    assert broker.stats()["queues"][QUEUE] > 0, "the kills must happen mid-stream"

    assert drain(cli, broker, **env).returncode == 0
    expected = distinct_keys("BOALF")
    assert cli.query(
        "select count(*), count(distinct _natural_key), count(distinct _message_id) "
        "from raw_bmrs.boalf"
    ) == [(expected, expected, len(boalf))]
    assert cli.query("select count(*), count(distinct _natural_key) from raw_bmrs.mils") == [
        (distinct_keys("MILS"), distinct_keys("MILS"))
    ]
    stats = broker.stats()
    assert stats["delivered"] > len(boalf) + len(mils), "messages were redelivered"
    assert stats["dead_lettered"] == 0 and stats["queues"][QUEUE] == 0
    assert not list((cli.data_dir / "iris" / "landing").rglob("*.jsonl"))


def test_malformed_message_is_dead_lettered_and_the_rest_flow(cli: Cli, broker: Broker) -> None:
    good = messages_from_api("BOALF", per_message=5, limit=100)
    enqueue(broker, good[:10])
    broker.enqueue(b'{"dataset": "BOALF", "truncated', "BOALF", "truncated_synthetic")
    broker.enqueue(b'"a JSON string, not records"', "MILS", "string_body_synthetic")
    broker.enqueue(b"[1, 2, 3]", "MILS", "numbers_body_synthetic")
    enqueue(broker, good[10:])

    result = drain(cli, broker)
    assert result.returncode == 0, result.stderr
    assert cli.count("raw_bmrs.boalf") == distinct_keys("BOALF", limit=100)
    letters = {str(m.message_id): m for m in dead_letters(broker)}
    assert set(letters) == {
        "truncated_synthetic",
        "string_body_synthetic",
        "numbers_body_synthetic",
    }
    assert letters["truncated_synthetic"].dead_letter_reason == "malformed-json"
    assert letters["string_body_synthetic"].dead_letter_reason == "not-records"
    assert "not a JSON object" in letters["numbers_body_synthetic"].dead_letter_error_description
    assert cli.query("select sum(dead_letters) from ops.iris_stats where dataset <> '*'") == [(3,)]
    assert "dead-lettered" in result.stderr


def test_unknown_dataset_is_landed_raw_and_reported(cli: Cli, broker: Broker) -> None:
    (_, body), *_ = messages_from_api("BOALF", per_message=3, limit=3)
    broker.enqueue(body, "NEWDATASET", "unknown_subject_synthetic_from_api")
    result = drain(cli, broker)
    assert result.returncode == 0, result.stderr
    assert "NEWDATASET is not in the BMRS catalogue" in result.stderr
    rows = cli.query(
        "select message_id, reason, record_count, records from raw_bmrs.iris_unmapped_messages"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("unknown_subject_synthetic_from_api", "unknown dataset 'NEWDATASET'", 3)
    ]
    assert json.loads(rows[0][3]) == json.loads(body)
    assert cli.query("select unknown_dataset from ops.iris_stats where dataset = 'NEWDATASET'") == [
        (True,)
    ]


def test_second_receiver_on_the_queue_exits_with_a_clear_message(
    cli: Cli, broker: Broker, tmp_path: Path
) -> None:
    log = tmp_path / "first.log"
    first = start_receiver(cli, broker, log)
    try:
        wait_for(lambda: "connected to queue" in log.read_text(), what="first receiver")
        second = cli.run("iris", "run", **iris_env(broker))
        assert second.returncode == 2
        assert f"already receiving from queue '{QUEUE}'" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0


def test_broker_restart_mid_stream_reconnects_and_sigterm_exits_zero(
    cli: Cli, broker: Broker, tmp_path: Path
) -> None:
    boalf = messages_from_api("BOALF", per_message=1)
    enqueue(broker, boalf)
    log = tmp_path / "receiver.log"
    receiver = start_receiver(cli, broker, log, GRIDWAREHOUSE_IRIS_BATCH_SIZE="5")
    try:
        wait_for(lambda: broker.stats()["completed"] >= 20, what="the stream to start")
        before = broker.stats()["completed"]
        broker.restart(pause=2)  # queues survive; the connection does not
        assert before < len(boalf), "restarted mid-stream"
        wait_for(lambda: broker.stats()["completed"] >= len(boalf), timeout=120, what="the rest")
    finally:
        receiver.send_signal(signal.SIGTERM)
        code = receiver.wait(60)
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "IRIS connection lost" in text and "reconnected to queue" in text
    assert cli.count("raw_bmrs.boalf") == distinct_keys("BOALF")
    assert cli.query("select count(distinct _message_id) from raw_bmrs.boalf") == [(len(boalf),)]
    assert cli.query("select sum(connection_drops) from ops.iris_stats")[0][0] >= 1
    # the drop is an IRIS incident for the alerts
    from loaders.operations.alerts import incidents
    from loaders.operations.status import collect
    from loaders.settings import load_settings

    settings = load_settings(env={**cli.env, **iris_env(broker)}, cwd=cli.data_dir.parent)
    (queue,) = collect(settings).iris
    assert queue.connection_drops_24h >= 1
    assert (
        "connection drops in 24h"
        in incidents(collect(settings), settings)[f"iris-drops:{QUEUE}"].summary
    )


def test_archive_files_are_named_like_the_official_client_and_pruned(
    cli: Cli, broker: Broker, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    old = archive / "BOALF" / "BOALF_202401010000_1.json"
    old.parent.mkdir(parents=True)
    old.write_text("[]")
    four_days_ago = time.time() - 4 * 86400
    os.utime(old, (four_days_ago, four_days_ago))
    messages = messages_from_api("BOALF", per_message=5, limit=20)
    enqueue(broker, messages)

    assert drain(cli, broker, "--archive", str(archive)).returncode == 0
    files = sorted((archive / "BOALF").glob("*.json"))
    assert not old.exists()
    assert len(files) == len(messages)
    first = json.loads(messages[0][1])
    stamp = first[0]["acceptanceTime"][:16].replace("-", "").replace(":", "").replace("T", "")
    matching = [f for f in files if json.loads(f.read_text()) == first]
    assert len(matching) == 1 and matching[0].name.startswith(f"BOALF_{stamp}_")


def test_client_secret_expiry_warns_from_14_days(cli: Cli, broker: Broker) -> None:
    today = datetime.now(UTC).date()
    assert secret_warning(today + timedelta(days=15), today) is None
    assert "in 14 days" in (secret_warning(today + timedelta(days=14), today) or "")
    assert "expired" in (secret_warning(today - timedelta(days=1), today) or "")

    soon = (today + timedelta(days=5)).isoformat()
    result = drain(cli, broker, IRIS_CLIENT_SECRET_EXPIRES=soon)
    assert result.returncode == 0
    assert f"expires on {soon} (in 5 days)" in result.stderr
    warnings = cli.query("select warning, secret_expires from ops.iris_stats where dataset = '*'")
    assert warnings and all(w and "in 5 days" in w for w, _ in warnings)
    assert {e for _, e in warnings} == {date.fromisoformat(soon)}


def test_missing_subscription_settings_are_named(cli: Cli) -> None:
    result = cli.run("iris", "run")
    assert result.returncode == 2
    for name in ("IRIS_CLIENT_ID", "IRIS_CLIENT_SECRET", "IRIS_TENANT_ID", "IRIS_QUEUE_NAME"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_gap_since_the_last_message_is_back_filled_from_the_api_on_start(
    cli: Cli, broker: Broker, replay: Any
) -> None:
    enqueue(broker, messages_from_api("BOALF", per_message=5, limit=20))
    assert drain(cli, broker).returncode == 0
    (last,) = cli.query("select max(last_message_at) from ops.iris_stats where dataset = 'BOALF'")[
        0
    ]

    before = len(replay.state.requests)
    result = drain(cli, broker, GRIDWAREHOUSE_IRIS_BACKFILL="true")
    assert result.returncode == 0, result.stderr
    assert "IRIS gap back-fill (start)" in result.stderr
    asked = [r for r in replay.state.requests[before:] if r.startswith("/bmrs/datasets/BOALF")]
    assert asked, "the BMRS API was asked for the gap"
    windows = cli.query(
        "select min(window_start), max(window_end) from ops.load_log "
        "where source = 'bmrs' and dataset = 'BOALF' and status in ('ok', 'empty')"
    )[0]
    assert windows[0] <= last - timedelta(minutes=10)
    assert windows[1] >= last


def test_gap_back_fill_lands_the_api_records_for_the_gap(cli: Cli, replay: Any) -> None:
    """The back-fill itself, over the recorded day: from the last message (12:00) to midnight."""
    from loaders.settings import load_settings
    from loaders.sources.bmrs.catalogue import load_catalogue
    from loaders.sources.iris.gapfill import GapFiller

    settings = load_settings(env=cli.env, cwd=cli.data_dir.parent)
    filler = GapFiller(settings, load_catalogue(), stop=threading.Event())
    last = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    summary = filler.fill({"BOALF": last}, "test", end=datetime(2024, 5, 2, tzinfo=UTC))
    assert summary is not None and summary.exit_code == 0
    expected = {
        json.dumps([r["nationalGridBmUnit"], r["acceptanceNumber"], r["timeFrom"]])
        for r in records("BOALF")
        if "2024-05-01T11:50:00Z" <= r["timeFrom"] <= "2024-05-02T00:00:00Z"
    }
    assert expected
    landed = cli.query("select count(*), min(_source), max(_source) from raw_bmrs.boalf")
    assert landed == [(len(expected), "api", "api")]


def test_token_credential_path_against_the_local_broker(cli: Cli, broker: Broker) -> None:
    """The app-registration path (a TokenCredential, as ClientSecretCredential is) in-process,
    with a stand-in credential: login.microsoftonline.com is not reachable offline."""
    from azure.core.credentials import AccessToken

    from loaders.settings import load_settings
    from loaders.sources.iris.receiver import (
        CLIENT_OPTIONS,
        IrisReceiver,
        make_client,
        resolve_config,
    )

    class StandInCredential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("stand-in-token", int(time.time()) + 3600)

    env = {
        **cli.env,
        "IRIS_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
        "IRIS_CLIENT_SECRET": "not-a-real-secret",
        "IRIS_TENANT_ID": "00000000-0000-0000-0000-000000000002",
        "IRIS_QUEUE_NAME": QUEUE,
        "IRIS_NAMESPACE": f"127.0.0.1:{broker.port}",
        "GRIDWAREHOUSE_IRIS_BACKFILL": "false",
        "GRIDWAREHOUSE_IRIS_MAX_WAIT_S": "1",
    }
    settings = load_settings(env=env, cwd=cli.data_dir.parent)
    config = resolve_config(settings)
    assert config.connection_string is None and config.namespace == f"127.0.0.1:{broker.port}"
    production = make_client(config)  # builds ClientSecretCredential; no network until used
    assert type(production._credential).__name__ == "ClientSecretCredential"
    assert "not-a-real-secret" not in repr(config)

    enqueue(broker, messages_from_api("MILS", per_message=10, limit=50))
    receiver = IrisReceiver(
        settings,
        drain=True,
        client_factory=lambda cfg: ServiceBusClient(
            cfg.namespace, StandInCredential(), use_tls=False, **CLIENT_OPTIONS
        ),
    )
    assert receiver.run() == 0
    assert cli.count("raw_bmrs.mils") == distinct_keys("MILS", limit=50)


def test_a_value_of_the_wrong_type_holds_back_only_its_message(cli: Cli, broker: Broker) -> None:
    good = messages_from_api("MILS", per_message=10, limit=50)
    (real,) = records("MILS")[50:51]
    drifted = {**real, "levelFrom": "about forty"}  # SYNTHETIC: a text level
    enqueue(broker, good[:2])
    broker.enqueue(json.dumps([drifted]).encode(), "MILS", "MILS_text_level_synthetic")
    enqueue(broker, good[2:])

    assert drain(cli, broker).returncode == 0
    assert cli.count("raw_bmrs.mils") == distinct_keys("MILS", limit=50)
    held = cli.query("select message_id, reason from raw_bmrs.iris_unmapped_messages")
    assert len(held) == 1 and held[0][0] == "MILS_text_level_synthetic"
    assert "levelFrom" in held[0][1] and "about forty" in held[0][1]
    assert cli.query(
        "select source, dataset, field, change from ops.schema_changes where change = 'type_change'"
    ) == [("iris", "MILS", "levelFrom", "type_change")]


def test_locks_of_a_stalled_batch_are_renewed_not_lost(cli: Cli, tmp_path: Path) -> None:
    """Landing stalls for 8 s with 3 s locks: the batch is handed to AutoLockRenewer, so no
    lock expires and nothing is delivered twice."""
    with Broker(port=0, queue=QUEUE, lock_duration=3) as slow_locks:
        messages = messages_from_api("BOALF", per_message=5, limit=100)
        enqueue(slow_locks, messages)
        result = drain(cli, slow_locks, GRIDWAREHOUSE_FAILPOINT="iris.after_landing:1:sleep=8")
        assert result.returncode == 0, result.stderr
        assert "their locks are being renewed" in result.stderr
        stats = slow_locks.stats()
        assert stats["lock_expired"] == 0
        assert stats["delivered"] == stats["completed"] == len(messages)
        assert stats.get("mgmt_renew-lock", 0) > 0
    assert cli.count("raw_bmrs.boalf") == distinct_keys("BOALF", limit=100)


def test_dlt_keeps_a_bounded_number_of_loaded_packages(cli: Cli) -> None:
    from loaders.common.warehouse import KEEP_LOADED_PACKAGES, prune_loaded_packages
    from loaders.settings import load_settings

    settings = load_settings(env=cli.env, cwd=cli.data_dir.parent)
    loaded = settings.pipelines_dir / "iris" / "load" / "loaded"
    for n in range(KEEP_LOADED_PACKAGES + 5):
        (loaded / f"17000000{n:04d}.5").mkdir(parents=True)
    assert prune_loaded_packages(settings, "iris") == 5
    left = sorted(p.name for p in loaded.iterdir())
    assert len(left) == KEEP_LOADED_PACKAGES and left[0] == "170000000005.5"


def test_status_shows_the_receivers_message_rates(cli: Cli, broker: Broker) -> None:
    boalf = messages_from_api("BOALF", per_message=5)
    mils = messages_from_api("MILS", per_message=10)
    enqueue(broker, boalf + mils)
    assert drain(cli, broker).returncode == 0

    only_iris = {"GRIDWAREHOUSE_RUN_SOURCES": "iris", **iris_env(broker)}
    result = cli.run("status", "--json", **only_iris)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    (queue,) = json.loads(result.stdout)["iris"]
    assert queue["queue"] == QUEUE and queue["state"] == "ok"
    assert queue["connection_drops_24h"] == 0 and queue["dead_letters_24h"] == 0
    per_dataset = {d["dataset"]: d["messages_1h"] for d in queue["datasets"]}
    assert per_dataset == {"BOALF": len(boalf), "MILS": len(mils)}
    assert queue["messages_per_min_1h"] == round((len(boalf) + len(mils)) / 60, 2)

    text = cli.run("status", **only_iris).stdout
    assert f"IRIS queue {QUEUE}: ok" in text
    assert f"{round(len(boalf) / 60, 2)} msg/min" in text

    # 31 minutes without a word from the receiver (threshold 30m): stale, and unhealthy
    from loaders.operations.status import collect
    from loaders.settings import load_settings

    settings = load_settings(env={**cli.env, **only_iris}, cwd=cli.data_dir.parent)
    later = collect(settings, now=datetime.now(UTC) + timedelta(minutes=31))
    assert [q.state for q in later.iris] == ["stale"] and later.unhealthy == [f"iris.{QUEUE}"]


def test_a_landing_file_opened_while_the_flusher_lists_the_folder_is_not_taken(
    tmp_path: Path,
) -> None:
    """The flusher deletes the files it takes: a file the receiver opens while the folder is
    being listed must not be among them, or what is appended to it afterwards is lost."""
    from loaders.sources.iris.landing import LandedMessage, LandingWriter, read_landing

    now = datetime.now(UTC)

    def message(n: int) -> LandedMessage:
        return LandedMessage(f"synthetic-{n}", n, "BOALF", "BOALF", now, now, [{"n": n}])

    appended = threading.Event()

    class Folder(type(tmp_path)):  # type: ignore[misc]
        def glob(self, pattern: str) -> Any:
            # the receiver lands a batch just as the folder is listed
            threading.Thread(target=lambda: (writer.append([message(2)]), appended.set())).start()
            appended.wait(0.5)
            return super().glob(pattern)

    writer = LandingWriter(Folder(tmp_path / "landing"))
    writer.append([message(1)])
    writer.rotate()
    taken = writer.closed_files()
    assert appended.wait(5)
    writer.append([message(3)])
    writer.rotate()
    kept = [p for p in writer.closed_files() if p not in taken]
    assert [m.message_id for p in taken for m in read_landing(p)] == ["synthetic-1"]
    assert [m.message_id for p in kept for m in read_landing(p)] == ["synthetic-2", "synthetic-3"]


def test_sigterm_to_the_process_group_lets_the_worker_finish_its_flush(
    cli: Cli, broker: Broker, tmp_path: Path
) -> None:
    """systemd stops a service by sending SIGTERM to its whole process group: the flush worker
    must finish the flush in hand (stalled here, so the signal lands mid-flush) and the
    receiver's final flush, instead of dying and failing it."""
    boalf = messages_from_api("BOALF", per_message=5)
    enqueue(broker, boalf)
    log = tmp_path / "receiver.log"
    receiver = subprocess.Popen(
        [str(GRIDWAREHOUSE), "iris", "run"],
        env={
            **cli.env,
            **iris_env(broker, GRIDWAREHOUSE_FAILPOINT="iris.after_flush_commit:2:sleep=6"),
        },
        cwd=cli.data_dir.parent,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as under systemd
    )
    try:
        wait_for(
            lambda: "failpoint iris.after_flush_commit reached: stalling" in log.read_text(),
            what="a flush to stall",
        )
        wait_for(lambda: broker.stats()["completed"] >= len(boalf), what="every message")
        os.killpg(receiver.pid, signal.SIGTERM)
        code = receiver.wait(90)
    finally:
        if receiver.poll() is None:
            os.killpg(receiver.pid, signal.SIGKILL)
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "flush worker exited" not in text and "flush into the warehouse failed" not in text
    assert "Traceback" not in text
    assert "IRIS receiver stopped" in text
    expected = distinct_keys("BOALF")
    assert cli.query(
        "select count(*), count(distinct _natural_key), count(distinct _message_id) "
        "from raw_bmrs.boalf"
    ) == [(expected, expected, len(boalf))]
    assert not list((cli.data_dir / "iris" / "landing").rglob("*.jsonl"))
