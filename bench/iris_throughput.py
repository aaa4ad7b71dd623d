"""IRIS receiver benchmark: two figures, each a ratio against a baseline measured in the same run.

    uv run python bench/iris_throughput.py                 # 20k messages, then 100k
    uv run python bench/iris_throughput.py --small 5000 --large 20000   # a quicker look

The project's AMQP 1.0 broker (tests/iris/servicebus_broker.py) runs as its own process on 127.0.0.1;
messages are sent with the real azure-servicebus SDK. Bodies are slices of the recorded real
BOALF and MILS API responses (5 records each), repeated under new message ids (`_from_api`).

1. throughput: messages/s that `gridwarehouse iris run` lands durably (fsynced landing file, then
   completed, with its flushes into DuckDB running alongside) vs the SDK's bare receive +
   complete on the same broker (target >= 0.7x);
2. memory: peak RSS of the receiver and its flush worker (summed) over the large run vs after
   the small count (target <= 1.2x: landing files and bounded flushes keep nothing per message).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Session  # noqa: E402
from tests.python.iris_messages import messages_from_api  # noqa: E402

GRIDWAREHOUSE = Path(sys.executable).with_name("gridwarehouse")
QUEUE = "bench"
EXTRA_ENV = dict(e.split("=", 1) for e in os.environ.get("IRIS_BENCH_ENV", "").split() if e)


class BrokerProcess:
    def __init__(self, folder: Path) -> None:
        self.stats_file = folder / "broker-stats.json"
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "iris" / "servicebus_broker.py"), "--port", "0",
             "--queue", QUEUE, "--lock-duration", "60", "--stats-file", str(self.stats_file)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "listening on" not in line:
            raise SystemExit(f"broker did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        self.connection_string = (
            f"Endpoint=sb://127.0.0.1:{self.port};SharedAccessKeyName=RootManageSharedAccessKey;"
            "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true"
        )

    def stats(self) -> dict[str, Any]:
        try:
            return json.loads(self.stats_file.read_text())
        except (OSError, ValueError):
            return {}

    def completed(self) -> int:
        return int(self.stats().get("completed", 0))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def send(broker: BrokerProcess, count: int, tag: str) -> None:
    from azure.servicebus import ServiceBusClient, ServiceBusMessage

    pool = messages_from_api("BOALF", 5) + messages_from_api("MILS", 5)
    client = ServiceBusClient.from_connection_string(broker.connection_string)
    with client, client.get_queue_sender(QUEUE) as sender:
        batch = sender.create_message_batch()
        for i in range(count):
            message_id, body = pool[i % len(pool)]
            message = ServiceBusMessage(
                body, subject=message_id.split("_")[0], message_id=f"{message_id}_{tag}{i}"
            )
            try:
                batch.add_message(message)
            except ValueError:  # batch full
                sender.send_messages(batch)
                batch = sender.create_message_batch()
                batch.add_message(message)
        sender.send_messages(batch)


def wait_completed(broker: BrokerProcess, base: int, target: int) -> tuple[float, float]:
    """(when the first message after `base` was completed, when `target` more were),
    polling the broker's stats file."""
    first = None
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        done = broker.completed() - base
        now = time.monotonic()
        if first is None and done > 0:
            first = now
        if done >= target:
            return first or now, now
        time.sleep(0.02)
    raise SystemExit(f"timed out: {broker.completed() - base:,} of {target:,} completed")


def bare_sdk(broker: BrokerProcess, count: int) -> float:
    """The baseline: receive_messages(100) + complete_message, nothing else."""
    import threading

    from azure.servicebus import ServiceBusClient

    def consume() -> None:
        got = 0
        client = ServiceBusClient.from_connection_string(broker.connection_string)
        with client, client.get_queue_receiver(QUEUE) as receiver:
            while got < count:
                for msg in receiver.receive_messages(max_message_count=100, max_wait_time=2):
                    receiver.complete_message(msg)
                    got += 1

    base = broker.completed()
    thread = threading.Thread(target=consume)
    thread.start()
    first, last = wait_completed(broker, base, count)
    thread.join()
    return count / max(last - first, 1e-9)


def vm_hwm_kib(pid: int) -> int:
    """Peak RSS of a process and its children (the receiver and its flush worker)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            total += int(line.split()[1])
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        total += vm_hwm_kib(int(child))
    return total


def receiver_run(
    broker: BrokerProcess, folder: Path, small: int, large: int
) -> tuple[float, float, int, int]:
    """Run `gridwarehouse iris run` over `large` queued messages: its rate over the first
    `small` and over all, and its peak RSS after `small` and after `large`."""
    env = {
        **os.environ,
        "GRIDWAREHOUSE_DATA_DIR": str(folder / "data"),
        "IRIS_CONNECTION_STRING": broker.connection_string,
        "IRIS_QUEUE_NAME": QUEUE,
        "GRIDWAREHOUSE_IRIS_BACKFILL": "false",
        "GRIDWAREHOUSE_LOG_LEVEL": "WARNING",
        **EXTRA_ENV,
    }
    base = broker.completed()
    proc = subprocess.Popen([str(GRIDWAREHOUSE), "iris", "run"], env=env, cwd=folder)
    try:
        first, at_small = wait_completed(broker, base, small)
        rss_small = vm_hwm_kib(proc.pid)
        _, at_large = wait_completed(broker, base, large)
        rss_large = vm_hwm_kib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
    return small / (at_small - first), large / (at_large - first), rss_small, rss_large


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=int, default=20_000, help="messages for the SDK run")
    parser.add_argument("--small", type=int, default=10_000, help="the first RSS mark")
    parser.add_argument("--large", type=int, default=100_000, help="messages for the receiver")
    args = parser.parse_args()
    session = Session("bench/iris_throughput.py")
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as tmp:
        folder = Path(tmp)
        broker = BrokerProcess(folder)
        try:
            print(f"sending {args.baseline:,} messages for the SDK baseline ...", flush=True)
            send(broker, args.baseline, "base")
            baseline = bare_sdk(broker, args.baseline)
            print(f"sending {args.large:,} messages for the receiver ...", flush=True)
            send(broker, args.large, "run")
            rate_small, rate_large, rss_small, rss_large = receiver_run(
                broker, folder, args.small, args.large
            )
        finally:
            broker.stop()
    print()
    print(f"SDK bare receive + complete : {baseline:8,.0f} msg/s")
    print(f"iris run, first {args.small:>7,}   : {rate_small:8,.0f} msg/s  "
          f"= {rate_small / baseline:.2f}x baseline (target >= 0.7x)")  # fmt: skip
    print(f"iris run, all {args.large:>9,}   : {rate_large:8,.0f} msg/s  "
          f"= {rate_large / baseline:.2f}x baseline")  # fmt: skip
    print(f"peak RSS after {args.small:>7,}     : {rss_small / 1024:8.0f} MiB")
    print(f"peak RSS after {args.large:>7,}     : {rss_large / 1024:8.0f} MiB  "
          f"= {rss_large / rss_small:.2f}x (target <= 1.2x)")  # fmt: skip
    session.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
