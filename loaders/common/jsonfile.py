"""Small JSON state files (when `run` last loaded each source, which alerts were sent): read
forgivingly, written whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path) -> dict[str, Any]:
    """The file's object; empty when it is missing or unreadable, which means "no state yet"."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Write through a partial file renamed into place: another process reads the old state or
    the new, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(value, indent=2, sort_keys=True))
    partial.replace(path)
