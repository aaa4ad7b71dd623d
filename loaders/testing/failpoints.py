"""Crash points for tests of durability: `GRIDWAREHOUSE_FAILPOINT=name:N` kills the process
(SIGKILL, no cleanup, like a power cut) the N-th time execution reaches `hit("name")`;
`name:N:sleep=S` instead stalls there once, for S seconds (a slow disk, a long pause).

Production code marks the moments where a crash matters most (data durable but not yet
acknowledged); with the variable unset, `hit` is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import sys
import time

_counts: dict[str, int] = {}


def _target() -> tuple[str, int, float | None] | None:
    spec = os.environ.get("GRIDWAREHOUSE_FAILPOINT")
    if not spec:
        return None
    name, _, rest = spec.partition(":")
    nth, _, action = rest.partition(":")
    sleep = float(action.removeprefix("sleep=")) if action.startswith("sleep=") else None
    return name, int(nth or 1), sleep


def hit(name: str, also: tuple[int, ...] = ()) -> None:
    """Mark a crash point; `also` names processes that die with this one (a worker's parent)."""
    target = _target()
    if target is None or target[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if target[2] is not None:
        if _counts[name] == target[1]:
            print(f"failpoint {name} reached: stalling {target[2]}s", file=sys.stderr, flush=True)
            time.sleep(target[2])
        return
    if _counts[name] >= target[1]:
        print(
            f"failpoint {name} reached: killing process {os.getpid()}", file=sys.stderr, flush=True
        )
        for pid in also:
            os.kill(pid, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
