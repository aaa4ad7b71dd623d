"""A local AMQP 1.0 broker, for offline tests, that the real azure-servicebus SDK (pyamqp) accepts.

It serves the queue subset of Service Bus a queue receiver needs: CBS put-token, PEEK_LOCK with the
settlement echo the SDK awaits (complete, abandon, defer, dead-letter), lock expiry and renewal,
redelivery when a receiver goes away, the max-delivery-count dead-letter rule, RECEIVE_AND_DELETE,
batched sends and the $management operations renew-lock, peek-message and update-disposition.
State lives in memory only; it survives stop()/start() of the same Broker object.

    python tests/iris/servicebus_broker.py --port 5672 --host 127.0.0.1 --queue iris-test
        [--preload DIR] [--lock-duration 30] [--max-delivery-count 5] [--stats-file f.json]

In-process: `b = Broker(port=0); b.start(); ServiceBusClient.from_connection_string(
b.connection_string())`, then `b.enqueue(...)`, `b.stats()`, `b.disconnect_all()`, `b.restart()`.
"""

from __future__ import annotations

import argparse
import json
import os
import queue as queue_mod
import re
import signal
import struct
import sys
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import proton
from proton import Array, Data, Delivery, Link, Message, symbol, timestamp
from proton.handlers import Handshaker
from proton.reactor import ApplicationEvent, Container, EventInjector

SEQ = symbol("x-opt-sequence-number")
ENQUEUED = symbol("x-opt-enqueued-time")
LOCKED_UNTIL = symbol("x-opt-locked-until")
DLQ_SUFFIX = "/$deadletterqueue"
MAX_DELIVERY = ("MaxDeliveryCountExceeded", "Delivery count exceeded max delivery count.")
BATCH_SECTION_PREFIX = b"\x00\x53"  # every section of a batch transfer is a whole described message
_KEYS = ("enqueued", "delivered", "completed", "abandoned", "released", "dead_lettered")
STAT_KEYS = (*_KEYS, "lock_expired", "redelivered_on_detach", "late_settle_ignored")
# Header section, written by hand: proton omits fields equal to their defaults, and the SDK then
# reports delivery_count=None. Fields: durable=false, priority=4, ttl=null, then the two below.
HEADER = b"\x00\x53\x70\xc0\x0b\x05\x42\x50\x04\x40"


def _header(count: int) -> bytes:
    return HEADER + (b"\x41" if count == 0 else b"\x42") + b"\x70" + struct.pack(">I", count)


def _own(value: Any) -> Any:
    # proton hands out memoryviews into reused buffers: copy before the next decode overwrites them.
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, dict):
        return {_own(k): _own(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_own(v) for v in value]
    return value


def _sections(buf: bytes) -> list[tuple[int, bytes]]:
    """Split an encoded message into (descriptor code, raw section bytes)."""
    out, pos = [], 0
    while pos < len(buf):
        data = Data()
        size = data.decode(buf[pos:])
        data.rewind()
        data.next()
        code = -1
        if data.type() == Data.DESCRIBED:
            data.enter()
            data.next()
            code = int(data.get_ulong()) if data.type() == Data.ULONG else -1
        out.append((code, bytes(buf[pos : pos + size])))
        pos += size
    return out


def _section_value(raw: bytes) -> Any:
    data = Data()
    data.decode(raw)
    data.rewind()
    data.next()
    return _own(data.get_object().value)


def _encode_section(code: int, value: Any) -> bytes:
    data = Data()
    data.put_object(proton.Described(proton.ulong(code), value))
    return bytes(data.encode())


def normalise(address: str | None) -> str:
    """`amqps://host:5672/iris-test/$DeadLetterQueue` -> `iris-test/$deadletterqueue`."""
    address = address or ""
    if "://" in address:
        address = urlparse(address).path
    parts = address.strip("/").split("/")
    return "/".join(p.lower() if p.startswith("$") else p for p in parts)


def _get(mapping: Any, key: str, default: Any = None) -> Any:
    # Keys arrive as str, symbol or bytes depending on who encoded them.
    if isinstance(mapping, dict):
        return mapping.get(key, mapping.get(key.encode(), default))
    return default


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _tokens(body: Any) -> list[uuid.UUID]:
    tokens = _get(body, "lock-tokens", [])
    return list(tokens.elements if isinstance(tokens, Array) else tokens)


@dataclass
class _Msg:
    seq: int
    enqueued_ms: int
    annotations: dict[Any, Any]
    props: bytes  # encoded properties section (kept verbatim)
    app: bytes  # encoded application-properties section
    body: bytes  # body sections and footer, verbatim
    delivery_count: int = 0


def _seq(msg: _Msg) -> int:
    return msg.seq


@dataclass
class _Lock:
    msg: _Msg
    queue: str
    link: Link
    dlv: Delivery
    tag: bytes
    until: float
    expired: bool = False  # kept so a late settle can still be echoed (and ignored)


class _Guard(proton.Handler):
    """Routes proton events to the broker and keeps one handler bug from killing the reactor."""

    def __init__(self, target: Broker) -> None:
        self._target = target
        self.add(Handshaker())  # runs after the broker: echoes opens and closes it left alone

    def on_unhandled(self, method: str, *args: Any) -> None:
        fn = getattr(self._target, method, None)
        if fn is not None:
            try:
                fn(*args)
            except Exception:
                traceback.print_exc()


class Broker:
    """In-memory queues behind an AMQP listener; every public method is safe from any thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        queue: str = "iris-test",
        lock_duration: float = 30.0,
        max_delivery_count: int = 10,
        preload: str | Path | None = None,
    ) -> None:
        self.host, self.port, self.queue = host, port, queue
        self.lock_duration, self.max_delivery_count = lock_duration, max_delivery_count
        self._queues: dict[str, deque[_Msg]] = {}
        self._seq = 0
        self._stats: Counter[str] = Counter()
        self._locks: dict[bytes, _Lock] = {}  # delivery tag (lock token bytes_le) -> lock
        self._links: dict[Link, tuple[str, str]] = {}  # link -> (role, normalised address)
        self._consumers: dict[str, list[Link]] = {}
        self._replies: dict[tuple[Any, str], Link] = {}  # (connection, address) -> link
        self._pending: dict[Link, deque[Message]] = {}
        self._conns: set[Any] = set()  # proton Connections
        self._calls: queue_mod.Queue[tuple[Callable[[], Any], Future[Any]]] = queue_mod.Queue()
        self._thread: threading.Thread | None = None
        self._container: Container | None = None
        self._guard = _Guard(self)
        self._queue_for(queue)
        if preload:
            for path in sorted(Path(preload).glob("*.json")):
                subject = re.match(r"[A-Za-z0-9]*", path.name).group(0) or None  # always matches
                self.enqueue(path.read_bytes(), subject, path.stem, content_type="application/json")

    # ---- public API (thread-safe) ---------------------------------------------------------------

    def start(self) -> Broker:
        """Listen (on self.port; 0 picks one) and run the reactor in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("broker already running")
        self._container = Container(self._guard)
        self._acceptor = self._container.acceptor(self.host, self.port)
        self.port = self._acceptor._selectable._delegate.getsockname()[1]
        self._injector = EventInjector()
        self._injector_sel = self._container.selectable(self._injector)
        self._timer = self._container.schedule(1.0, self._guard)
        self._thread = threading.Thread(target=self._run, name="servicebus-broker", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Drop every connection and stop listening; queues and counters are kept (see restart)."""
        thread = self._thread
        if thread is None:
            return
        self._call(self._shutdown)
        thread.join(10)
        self._thread = None
        for fd in self._injector.pipe:
            os.close(fd)
        self.on_broker_call(None)  # requests that raced with the shutdown
        self._drop_links(list(self._links))
        self._release(list(self._locks.values()), "redelivered_on_detach")
        self._conns.clear()

    def restart(self, pause: float = 0.0) -> None:
        """Simulate a broker restart on the same port: clients are dropped, messages stay."""
        self.stop()
        time.sleep(pause)
        self.start()

    def disconnect_all(self) -> int:
        """Close every client connection abruptly (a network drop); in-flight messages return."""
        return self._call(lambda: sum(self._abort(c) for c in list(self._conns)))

    def stats(self) -> dict[str, Any]:
        return self._call(self._snapshot)

    def enqueue(
        self,
        body: bytes,
        subject: str | None = None,
        message_id: str | None = None,
        application_properties: dict[str, Any] | None = None,
        queue: str | None = None,
        content_type: str | None = None,
    ) -> int:
        """Add one message (a data-section body) and return its sequence number."""
        msg = Message(body=bytes(body), inferred=True, subject=subject, id=message_id)
        msg.content_type, msg.properties = content_type, application_properties
        raw = bytes(msg.encode())
        return self._call(lambda: self._store(normalise(queue or self.queue), raw))

    def connection_string(self, queue: str | None = None) -> str:
        entity = f";EntityPath={queue}" if queue else ""
        return (
            f"Endpoint=sb://{self.host}:{self.port};SharedAccessKeyName=RootManageSharedAccessKey;"
            f"SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true{entity}"
        )

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- threading ------------------------------------------------------------------------------

    def _run(self) -> None:
        assert self._container is not None
        try:
            self._container.run()
        except Exception:
            traceback.print_exc()

    def _call(self, fn: Callable[[], Any]) -> Any:
        # State is only touched on the reactor thread while it runs; other threads hand work over.
        thread = self._thread
        if thread is None or not thread.is_alive() or threading.current_thread() is thread:
            return fn()
        fut: Future[Any] = Future()
        self._calls.put((fn, fut))
        self._injector.trigger(ApplicationEvent("broker_call"))
        return fut.result(timeout=30)

    def on_broker_call(self, _event: Any) -> None:
        while not self._calls.empty():
            fn, fut = self._calls.get()
            try:
                fut.set_result(fn())
            except Exception as exc:
                fut.set_exception(exc)

    def _shutdown(self) -> None:
        for conn in list(self._conns):
            self._abort(conn)
        self._acceptor.close()
        self._timer.cancel()
        self._injector_sel.terminate()
        self._injector_sel.update()
        assert self._container is not None
        self._container.stop()

    def _abort(self, conn: Any) -> int:
        # What proton's IOHandler does on a socket error: the transport closes and the connection
        # is unbound, which returns its in-flight messages; the socket closes with the selectable.
        transport = conn.transport
        if transport is None:
            return 0
        sel = getattr(transport, "_selectable", None)
        transport.close_head()
        transport.close_tail()
        if sel is not None:
            sel.terminate()
            sel._transport = None
            transport._selectable = None
            sel.update()
        return 1

    # ---- queue state ----------------------------------------------------------------------------

    def _queue_for(self, name: str) -> deque[_Msg]:
        if name not in self._queues:
            self._queues[name] = deque()
            if not name.endswith(DLQ_SUFFIX):
                self._queue_for(name + DLQ_SUFFIX)
        return self._queues[name]

    def _snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: self._stats.get(key, 0) for key in STAT_KEYS}
        out.update({k: v for k, v in sorted(self._stats.items()) if k.startswith("mgmt_")})
        out["queues"] = {name: len(q) for name, q in sorted(self._queues.items())}
        out["in_flight"] = sum(not lock.expired for lock in self._locks.values())
        return out

    def _store(self, name: str, raw: bytes) -> int:
        sections = _sections(raw)
        data = [sec for code, sec in sections if code == 0x75]
        # A batch transfer (format 0x80013700, which proton-python does not expose) carries one
        # whole encoded message per data section. Copy each one out before decoding the next.
        if data and all(code in (0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x78) for code, _ in sections):
            inner = [_section_value(sec) for sec in data]
            if all(isinstance(b, bytes) and b.startswith(BATCH_SECTION_PREFIX) for b in inner):
                for one in inner:
                    self._store(name, one)
                return self._seq
        annotations: dict[Any, Any] = {}
        props = app = b""
        body = bytearray()
        for code, sec in sections:
            if code == 0x72:
                annotations = _section_value(sec) or {}
            elif code == 0x73:
                props = sec
            elif code == 0x74:
                app = sec
            elif code not in (0x70, 0x71):  # header and delivery annotations are per delivery
                body += sec
        for key in (SEQ, ENQUEUED, LOCKED_UNTIL):
            annotations.pop(key, None)
        self._seq += 1
        msg = _Msg(self._seq, int(time.time() * 1000), annotations, props, app, bytes(body))
        self._queue_for(name).append(msg)
        self._stats["enqueued"] += 1
        self._pump(name)
        return self._seq

    def _encode(self, msg: _Msg, locked_until: float | None) -> bytes:
        annotations = {**msg.annotations, SEQ: msg.seq, ENQUEUED: timestamp(msg.enqueued_ms)}
        if locked_until is not None:
            annotations[LOCKED_UNTIL] = timestamp(int(locked_until * 1000))
        head = _header(msg.delivery_count) + _encode_section(0x72, annotations)
        return head + msg.props + msg.app + msg.body

    def _dead_letter(self, name: str, msg: _Msg, reason: Any, description: Any) -> None:
        # The SDK reads dead_letter_reason/_error_description from these application properties.
        props = _section_value(msg.app) if msg.app else {}
        props["DeadLetterReason"] = _text(reason)
        props["DeadLetterErrorDescription"] = _text(description)
        msg.app = _encode_section(0x74, props)
        target = name if name.endswith(DLQ_SUFFIX) else name + DLQ_SUFFIX
        self._queue_for(target).append(msg)
        self._stats["dead_lettered"] += 1
        self._pump(target)

    def _requeue(self, name: str, msgs: Iterable[_Msg], count: bool) -> None:
        """Put messages back at the head in sequence order; a counted attempt may dead-letter."""
        q = self._queue_for(name)
        for msg in sorted(msgs, key=_seq, reverse=True):
            if count:
                msg.delivery_count += 1
                if msg.delivery_count >= self.max_delivery_count and not name.endswith(DLQ_SUFFIX):
                    self._dead_letter(name, msg, *MAX_DELIVERY)
                    continue
            q.appendleft(msg)
        self._pump(name)

    def _release(self, locks: list[_Lock], stat: str) -> None:
        """Locks whose link or connection is gone: live ones are redelivered, all are dropped."""
        by_queue: dict[str, list[_Msg]] = {}
        for lock in locks:
            self._locks.pop(lock.tag, None)
            if not lock.expired:
                by_queue.setdefault(lock.queue, []).append(lock.msg)
                self._stats[stat] += 1
        for name, msgs in by_queue.items():
            self._requeue(name, msgs, count=True)

    # ---- delivery -------------------------------------------------------------------------------

    def _pump(self, name: str) -> None:
        q = self._queues.get(name)
        links = [link for link in self._consumers.get(name, []) if link.credit > 0]
        while q and links:
            for link in list(links):
                if not q:
                    break
                self._deliver(link, name, q.popleft())
                if link.credit <= 0:
                    links.remove(link)
        for link in self._consumers.get(name, []):
            if link.drain_mode and link.credit > 0:
                link.drained()

    def _deliver(self, link: Link, name: str, msg: _Msg) -> None:
        presettled = link.snd_settle_mode == Link.SND_SETTLED  # RECEIVE_AND_DELETE
        token = uuid.uuid4()
        until = time.time() + self.lock_duration
        dlv = link.delivery(token.bytes_le)  # the SDK's lock token is UUID(bytes_le=tag)
        dlv.sb_tag = token.bytes_le
        link.send(self._encode(msg, None if presettled else until))
        link.advance()
        self._stats["delivered"] += 1
        if presettled:
            dlv.settle()
        else:
            self._locks[token.bytes_le] = _Lock(msg, name, link, dlv, token.bytes_le, until)

    def on_timer_task(self, event: Any) -> None:
        now = time.time()
        expired = [lk for lk in self._locks.values() if not lk.expired and lk.until < now]
        for lock in expired:
            lock.expired = True
            self._stats["lock_expired"] += 1
            self._requeue(lock.queue, [lock.msg], count=True)
        self._timer = event.container.schedule(1.0, self._guard)

    def _settle(self, dlv: Delivery) -> None:
        """Apply the receiver's outcome, then echo it settled: the SDK waits for that echo."""
        state = dlv.remote_state
        if state == Delivery.RECEIVED:  # not an outcome
            state = 0
        if not state and not dlv.settled:
            return
        # proton-python decodes tags as UTF-8 when read back, so the tag rides on the delivery.
        lock = self._locks.pop(getattr(dlv, "sb_tag", b""), None)
        if lock is not None and lock.expired:
            self._stats["late_settle_ignored"] += 1
        elif lock is not None:
            msg, name = lock.msg, lock.queue
            if state == Delivery.ACCEPTED:
                self._stats["completed"] += 1
            elif state == Delivery.REJECTED:
                info = _own(dlv.remote.condition.info) if dlv.remote.condition else None
                reason = _get(info, "DeadLetterReason")
                self._dead_letter(name, msg, reason, _get(info, "DeadLetterErrorDescription"))
            elif state == Delivery.MODIFIED and dlv.remote.failed:  # abandon (defer alike)
                self._stats["abandoned"] += 1
                self._requeue(name, [msg], count=True)
            else:  # released (surplus of a receive call) or settled without outcome: not an attempt
                self._stats["released"] += 1
                self._requeue(name, [msg], count=False)
        if state:
            if state == Delivery.MODIFIED:
                dlv.local.failed = dlv.remote.failed
                dlv.local.undeliverable = dlv.remote.undeliverable
            dlv.update(state)  # a rejected echo must carry no error, or the SDK sees a failure
        dlv.settle()

    # ---- AMQP endpoints -------------------------------------------------------------------------

    def on_connection_bound(self, event: Any) -> None:
        # The acceptor does not enable SASL on server transports; the SDK insists on ANONYMOUS.
        sasl = event.transport.sasl()
        sasl.allow_insecure_mechs = True
        sasl.allowed_mechs("ANONYMOUS PLAIN")
        event.connection.container = "servicebus-broker"
        self._conns.add(event.connection)

    def on_session_remote_close(self, event: Any) -> None:
        self._drop_links([link for link in self._links if link.session == event.session])

    def on_connection_unbound(self, event: Any) -> None:
        self._conns.discard(event.connection)
        self._drop_links([link for link in self._links if link.connection == event.connection])

    def on_link_remote_open(self, event: Any) -> None:
        link = event.link
        remote = link.remote_source if link.is_sender else link.remote_target
        address = normalise(remote.address)
        if address == "$cbs":
            role = "cbs"
        elif address.endswith("/$management"):
            role = "mgmt"
        else:
            role = "queue"
            self._queue_for(address)
        self._links[link] = (role, address)
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        link.snd_settle_mode = link.remote_snd_settle_mode
        link.rcv_settle_mode = link.remote_rcv_settle_mode
        link.open()
        if link.is_receiver:
            link.flow(200)
        elif role == "queue":
            self._consumers.setdefault(address, []).append(link)
        else:  # replies to $cbs / $management requests go out on the link with that source
            self._replies[(link.connection, address)] = link
            self._pending[link] = deque()

    def on_link_remote_close(self, event: Any) -> None:
        self._drop_links([event.link])

    def _drop_links(self, links: list[Link]) -> None:
        # Unregister every link first, so that returned messages are not pumped to a dying sibling.
        for link in links:
            _role, address = self._links.pop(link, ("", ""))
            if link in self._consumers.get(address, []):
                self._consumers[address].remove(link)
            if self._replies.get((link.connection, address)) == link:
                del self._replies[(link.connection, address)]
            self._pending.pop(link, None)
        gone = set(links)
        self._release(
            [lk for lk in self._locks.values() if lk.link in gone], "redelivered_on_detach"
        )

    def on_link_flow(self, event: Any) -> None:
        link = event.link
        role, address = self._links.get(link, ("", ""))
        if role == "queue" and link.is_sender:
            self._pump(address)
        elif link in self._pending:
            self._flush(link)

    def on_delivery(self, event: Any) -> None:
        dlv, link = event.delivery, event.link
        if link.is_sender:
            self._settle(dlv)
            return
        if dlv.aborted:
            dlv.settle()
        if dlv.partial or not dlv.readable:  # wait for the last frame of a multi-frame transfer
            return
        raw = link.recv(dlv.pending)
        link.advance()
        role, address = self._links.get(link, ("", ""))
        if role == "queue":
            self._store(address, raw)
        elif role:
            self._request(link, role, address, raw)
        if not dlv.settled:
            dlv.update(Delivery.ACCEPTED)
        dlv.settle()
        if link.credit < 100:
            link.flow(200 - link.credit)

    # ---- $cbs and $management -------------------------------------------------------------------

    def _request(self, link: Link, role: str, address: str, raw: bytes) -> None:
        req = Message()
        req.decode(raw)
        op = str(_get(req.properties, "operation", ""))
        if role == "cbs":  # the SAS token is made by the client; nothing to check
            props: dict[str, Any] = {"status-code": 202, "status-description": "Accepted"}
            reply = Message(correlation_id=req.id, address=req.reply_to, properties=props)
        else:
            name = address[: -len("/$management")]
            op_name = op.split(":")[-1]
            self._stats[f"mgmt_{op_name}"] += 1
            status, desc, body = self._management(name, op_name, _own(req.body))
            props = {"statusCode": status, "statusDescription": desc}
            if status >= 400:
                props["errorCondition"] = symbol(
                    "amqp:not-implemented" if status == 501 else "com.microsoft:message-lock-lost"
                )
            reply = Message(
                body=body, correlation_id=req.id, address=req.reply_to, properties=props
            )
        out = self._replies.get((link.connection, address))
        if out is not None:
            self._pending[out].append(reply)
            self._flush(out)

    def _flush(self, link: Link) -> None:
        pending = self._pending.get(link)
        while pending and link.credit > 0:
            link.send(pending.popleft()).settle()

    def _management(self, name: str, op: str, body: Any) -> tuple[int, str, Any]:
        if op == "renew-lock":
            locks = [self._locks.get(token.bytes_le) for token in _tokens(body)]
            if not all(lock and not lock.expired for lock in locks):
                return 410, "The lock supplied is invalid or has expired.", None
            until = time.time() + self.lock_duration
            for lock in locks:
                assert lock is not None
                lock.until = until
            stamps = [timestamp(int(until * 1000))] * len(locks)
            return 200, "OK", {"expirations": Array(proton.UNDESCRIBED, Data.TIMESTAMP, *stamps)}
        if op == "peek-message":
            start = int(_get(body, "from-sequence-number", 0) or 0)
            count = int(_get(body, "message-count", 1) or 1)
            held = [lk.msg for lk in self._locks.values() if lk.queue == name and not lk.expired]
            msgs = sorted((m for m in [*self._queue_for(name), *held] if m.seq >= start), key=_seq)
            if not msgs:
                return 204, "No messages", None
            found = [{"message": self._encode(m, None)} for m in msgs[:count]]
            return 200, "OK", {"messages": found}
        if op == "update-disposition":  # the SDK's fallback when settling on the link failed
            status = str(_get(body, "disposition-status", ""))
            reason = _get(body, "deadletter-reason")
            description = _get(body, "deadletter-description")
            lost = 0
            for token in _tokens(body):
                lock = self._locks.pop(token.bytes_le, None)
                if lock is None or lock.expired:  # e.g. the connection dropped: already redelivered
                    self._stats["late_settle_ignored"] += 1
                    lost += 1
                    continue
                lock.dlv.settle()
                if status == "completed":
                    self._stats["completed"] += 1
                elif status == "suspended":
                    self._dead_letter(lock.queue, lock.msg, reason, description)
                else:  # abandoned, defered
                    self._stats["abandoned"] += 1
                    self._requeue(lock.queue, [lock.msg], count=True)
            if lost:  # tell the client, as Service Bus does: it raises MessageLockLostError
                return 410, "The lock supplied is invalid or has expired.", None
            return 200, "OK", None
        return 501, f"The operation '{op}' is not implemented by the test broker.", None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5672)
    parser.add_argument("--queue", default="iris-test")
    parser.add_argument("--preload", default=None)
    parser.add_argument("--lock-duration", type=float, default=30.0)
    parser.add_argument("--max-delivery-count", type=int, default=10)
    parser.add_argument("--stats-file", default=None, help="kept up to date with the stats as JSON")
    args = parser.parse_args(argv)
    broker = Broker(
        args.host, args.port, args.queue, args.lock_duration, args.max_delivery_count, args.preload
    )
    signals: deque[int] = deque()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(sig, lambda signum, _frame: signals.append(signum))
    broker.start()
    print(f"servicebus_broker listening on {args.host}:{broker.port}", flush=True)
    stats_file = Path(args.stats_file) if args.stats_file else None
    while True:
        time.sleep(0.05)  # signal handlers only queue; the work happens here, off the handler
        if stats_file:  # kept current, so a benchmark can watch progress from outside
            partial = stats_file.with_suffix(".partial")
            partial.write_text(json.dumps(broker.stats(), sort_keys=True) + "\n")
            partial.replace(stats_file)
        while signals:
            stats = json.dumps(broker.stats(), sort_keys=True)
            print(f"servicebus_broker stats: {stats}", flush=True)
            if signals.popleft() != signal.SIGUSR1:
                if args.stats_file:
                    Path(args.stats_file).write_text(stats + "\n")
                broker.stop()
                return 0


if __name__ == "__main__":
    sys.exit(main())
