"""Process memory settings shared by the CLI and the IRIS flush worker."""

from __future__ import annotations

import contextlib
import ctypes
import sys


def pin_malloc_threshold() -> None:
    """glibc raises its mmap threshold each time a large block is freed; after that, multi-MB
    response bodies are carved from (and fragment) the heap, and a long load's memory grows
    window by window. Pinning the threshold (M_MMAP_THRESHOLD) keeps it flat, and two arenas
    (M_ARENA_MAX) stop each fetch thread from keeping a fragmented heap of its own."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to pin
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-8, 2)  # M_ARENA_MAX
