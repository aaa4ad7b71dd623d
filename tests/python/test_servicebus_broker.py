"""The local Service Bus broker (tests/iris/servicebus_broker.py) against the real azure-servicebus SDK."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from azure.servicebus import (
    AutoLockRenewer,
    ServiceBusClient,
    ServiceBusMessage,
    ServiceBusReceivedMessage,
    ServiceBusReceiveMode,
    ServiceBusSubQueue,
)
from azure.servicebus.exceptions import MessageLockLostError, ServiceBusError

from tests.iris.servicebus_broker import Broker

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "iris" / "servicebus_broker.py"
QUEUE = "iris-test"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = Broker(port=0, queue=QUEUE, lock_duration=30, max_delivery_count=10).start()
    yield b
    b.stop()


def client(b: Broker) -> ServiceBusClient:
    return ServiceBusClient.from_connection_string(b.connection_string())


def fill(b: Broker, n: int, prefix: str = "m") -> list[str]:
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    for mid in ids:
        b.enqueue(json.dumps({"id": mid}).encode(), subject="TEST", message_id=mid)
    return ids


def receive(
    receiver, want: int | None = None, wait: float = 1.0
) -> list[ServiceBusReceivedMessage]:
    """Receive until the queue stays empty for `wait` seconds (or `want` messages arrived)."""
    out: list[ServiceBusReceivedMessage] = []
    while want is None or len(out) < want:
        count = 100 if want is None else min(100, want - len(out))
        batch = receiver.receive_messages(max_message_count=count, max_wait_time=wait)
        if not batch:
            break
        out.extend(batch)
    return out


def drain(
    b: Broker, want: int, sub_queue: ServiceBusSubQueue | None = None
) -> list[ServiceBusReceivedMessage]:
    """Receive and complete `want` messages with a fresh client, then check the queue is empty."""
    with client(b) as c, c.get_queue_receiver(QUEUE, sub_queue=sub_queue) as r:
        msgs = receive(r, want=want, wait=2)
        for m in msgs:
            r.complete_message(m)
    name = QUEUE if sub_queue is None else f"{QUEUE}/$deadletterqueue"
    assert b.stats()["queues"][name] == 0
    return msgs


def readline(stream, timeout: float) -> str:
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise AssertionError(f"no output within {timeout}s")
    return stream.readline()


def test_batch_send_then_peek_lock_receive_and_complete(broker: Broker) -> None:
    with client(broker) as c:
        with c.get_queue_sender(QUEUE) as sender:
            sender.send_messages(
                [ServiceBusMessage(f'{{"n": {i}}}', subject="B") for i in range(200)]
            )
        assert broker.stats()["queues"][QUEUE] == 200
        with c.get_queue_receiver(QUEUE) as r:
            msgs = receive(r, want=200)
            for m in msgs:
                r.complete_message(m)
    # Each batch section is its own message: 200 distinct bodies, not 200 copies of the last one.
    assert sorted(json.loads(str(m))["n"] for m in msgs) == list(range(200))
    assert {m.delivery_count for m in msgs} == {0}
    seqs = [m.sequence_number for m in msgs]
    assert seqs == sorted(seqs) and len(set(seqs)) == 200
    stats = broker.stats()
    assert stats["completed"] == 200 and stats["in_flight"] == 0
    assert stats["queues"][QUEUE] == 0


def test_abandon_redelivers_with_delivery_count(broker: Broker) -> None:
    fill(broker, 1)
    with client(broker) as c, c.get_queue_receiver(QUEUE) as r:
        (first,) = receive(r, want=1)
        assert first.delivery_count == 0
        r.abandon_message(first)
        (again,) = receive(r, want=1)
        assert again.message_id == first.message_id and again.delivery_count == 1
        r.complete_message(again)
    stats = broker.stats()
    assert stats["abandoned"] == 1 and stats["completed"] == 1 and stats["released"] == 0


def test_dead_letter_with_reason_and_max_delivery_count() -> None:
    with Broker(port=0, queue=QUEUE, max_delivery_count=2) as b:
        fill(b, 2)
        with client(b) as c, c.get_queue_receiver(QUEUE) as r:
            first, second = receive(r, want=2)
            r.dead_letter_message(first, reason="bad-payload", error_description="not JSON")
            r.abandon_message(second)
            (again,) = receive(r, want=1)
            r.abandon_message(again)  # second failed attempt: over the limit of 2
        dead = sorted(drain(b, 2, ServiceBusSubQueue.DEAD_LETTER), key=lambda m: m.sequence_number)
        assert [(m.message_id, m.dead_letter_reason) for m in dead] == [
            ("m0000", "bad-payload"),
            ("m0001", "MaxDeliveryCountExceeded"),
        ]
        assert dead[0].dead_letter_error_description == "not JSON"
        assert b.stats()["queues"] == {QUEUE: 0, f"{QUEUE}/$deadletterqueue": 0}


CHILD = """
import sys, time
from azure.servicebus import ServiceBusClient
c = ServiceBusClient.from_connection_string(sys.argv[1])
r = c.get_queue_receiver(sys.argv[2])
got = []
while len(got) < 20:
    got += r.receive_messages(max_message_count=20 - len(got), max_wait_time=5)
print("received", len(got), flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_sigkilled_receiver_gives_its_messages_back(broker: Broker) -> None:
    ids = fill(broker, 40)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, broker.connection_string(), QUEUE],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert readline(child.stdout, 30).split() == ["received", "20"]
        assert broker.stats()["in_flight"] == 20
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    msgs = drain(broker, 40)
    assert sorted(m.message_id for m in msgs) == ids
    assert sorted(m.delivery_count for m in msgs) == [0] * 20 + [1] * 20
    assert broker.stats()["redelivered_on_detach"] == 20


@pytest.mark.slow
def test_lock_expiry_redelivers_on_the_same_receiver() -> None:
    with Broker(port=0, queue=QUEUE, lock_duration=2) as b:
        fill(b, 3)
        with client(b) as c, c.get_queue_receiver(QUEUE) as r:
            stale = receive(r, want=3)
            time.sleep(3.2)
            fresh = receive(r, want=3, wait=2)
            assert sorted(m.message_id for m in fresh) == ["m0000", "m0001", "m0002"]
            assert {m.delivery_count for m in fresh} == {1}
            with pytest.raises(MessageLockLostError):
                r.complete_message(stale[0])
            for m in fresh:
                r.complete_message(m)
        stats = b.stats()
        assert stats["lock_expired"] == 3 and stats["completed"] == 3 and stats["in_flight"] == 0


@pytest.mark.slow
def test_auto_lock_renewer_keeps_a_short_lock() -> None:
    with Broker(port=0, queue=QUEUE, lock_duration=2) as b:
        fill(b, 1)
        renewer = AutoLockRenewer(max_lock_renewal_duration=30)
        with client(b) as c, c.get_queue_receiver(QUEUE, auto_lock_renewer=renewer) as r:
            (msg,) = receive(r, want=1)
            time.sleep(5)
            r.complete_message(msg)
        renewer.close()
        stats = b.stats()
        assert stats["completed"] == 1 and stats["lock_expired"] == 0
        assert stats["mgmt_renew-lock"] >= 2


def test_preload_directory(tmp_path: Path) -> None:
    (tmp_path / "FUELINST_20260101T0000.json").write_text('{"a": 1}')
    (tmp_path / "MELS-123.json").write_text('{"b": 2}')
    (tmp_path / "notes.txt").write_text("ignored")
    with Broker(port=0, queue=QUEUE, preload=tmp_path) as b:
        msgs = drain(b, 2)
    assert [(m.subject, m.message_id, m.content_type) for m in msgs] == [
        ("FUELINST", "FUELINST_20260101T0000", "application/json"),
        ("MELS", "MELS-123", "application/json"),
    ]
    assert b"".join(msgs[0].body) == b'{"a": 1}'


@pytest.mark.slow
def test_disconnect_all_mid_stream(broker: Broker) -> None:
    ids = fill(broker, 50)
    c = client(broker)
    r = c.get_queue_receiver(QUEUE)
    held = receive(r, want=10)
    for m in held[:5]:
        r.complete_message(m)
    assert broker.disconnect_all() >= 1
    assert broker.stats()["in_flight"] == 0
    # The SDK reconnects, finds the link gone and settles over $management, where the lock
    # is reported lost: the message was already given back to the queue.
    with pytest.raises(MessageLockLostError):
        r.complete_message(held[5])
    with suppress(ServiceBusError, RuntimeError):
        r.close()
        c.close()
    msgs = drain(broker, 45)
    assert sorted(m.message_id for m in msgs) == ids[5:]
    assert broker.stats()["late_settle_ignored"] == 1


@pytest.mark.slow
def test_restart_keeps_queue_state(broker: Broker) -> None:
    ids = fill(broker, 30)
    port = broker.port
    with client(broker) as c, c.get_queue_receiver(QUEUE) as r:
        receive(r, want=10)
        broker.restart()
        assert broker.port == port
    msgs = drain(broker, 30)
    assert sorted(m.message_id for m in msgs) == ids
    assert sorted(m.delivery_count for m in msgs) == [0] * 20 + [1] * 10


def test_receive_and_delete_peek_and_unsupported_operations(broker: Broker) -> None:
    fill(broker, 5)
    with client(broker) as c:
        with c.get_queue_receiver(QUEUE) as r:
            peeked = r.peek_messages(max_message_count=10)
            assert [m.message_id for m in peeked] == [f"m{i:04d}" for i in range(5)]
            with pytest.raises(ServiceBusError):
                r.receive_deferred_messages([1])
        with c.get_queue_receiver(
            QUEUE, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
        ) as r:
            assert len(receive(r, want=5)) == 5
    stats = broker.stats()
    assert stats["delivered"] == 5 and stats["in_flight"] == 0 and stats["queues"][QUEUE] == 0
    assert stats["mgmt_peek-message"] == 1 and stats["mgmt_receive-by-sequence-number"] == 1


def test_script_mode(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    for i in range(3):
        (data / f"FUELINST_{i}.json").write_text(json.dumps({"i": i}))
    stats_file = tmp_path / "stats.json"
    cmd = [sys.executable, str(SCRIPT), "--port", "0", "--preload", str(data), "--queue", QUEUE]
    proc = subprocess.Popen(
        [*cmd, "--stats-file", str(stats_file)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        line = readline(proc.stdout, 30)
        assert line.startswith("servicebus_broker listening on 127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        cs = f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true"
        with ServiceBusClient.from_connection_string(cs) as c, c.get_queue_receiver(QUEUE) as r:
            msgs = receive(r, want=3)
            for m in msgs:
                r.complete_message(m)
        assert [m.subject for m in msgs] == ["FUELINST"] * 3
        proc.send_signal(signal.SIGUSR1)
        assert json.loads(readline(proc.stdout, 10).split(": ", 1)[1])["completed"] == 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        last = proc.stdout.read().strip().splitlines()[-1]
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    assert last.startswith("servicebus_broker stats: ")
    stats = json.loads(last.split(": ", 1)[1])
    assert stats["enqueued"] == 3 and stats["completed"] == 3 and stats["queues"][QUEUE] == 0
    assert json.loads(stats_file.read_text()) == stats
