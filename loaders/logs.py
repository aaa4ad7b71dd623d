"""Logging: readable lines on the console, JSON lines in daily files (kept N days), and no
secret in either — API keys, tokens, passwords and connection strings are masked in every
message and exception text before it is written.

Daily files are named by date (`gridwarehouse-2026-11-26.jsonl`) and opened for append, so
several processes (cron loads, the IRIS receiver, dbt builds) share one file without the
renames that rotating handlers do, which would race between processes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loaders.secret_names import is_secret

if TYPE_CHECKING:
    from loaders.settings import Settings

CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
# name=value pairs whose value is a secret, in URLs, connection strings and headers; after a
# colon only a credential-like value (with a digit, or long), so prose such as "needs an API
# token: set NGED_API_TOKEN" in an error stays readable
_SECRET_NAMES = (
    r"(?i)\b(api[_-]?keys?|apikey|key|token|secret|password|passwd|sharedaccesskey|sig|"
    r"client[_-]?secret|access[_-]?token)"
)
_SECRET_PAIRS = re.compile(
    _SECRET_NAMES + r"(\s*=\s*|\s*:\s*(?=[^&;,\s'\"]*\d|[^&;,\s'\"]{16}))([^&;,\s'\"]+)"
)
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*)(basic|bearer)\s+[A-Za-z0-9+/=._-]+")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)(@)")
NOISY = ("httpx", "httpcore", "dlt", "azure")


class Redactor:
    """Masks known secret values and secret-looking name=value pairs in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # each part of a comma-separated list (BMRS_API_KEYS) too; longest first, so a secret
        # that contains another is masked whole
        parts = {p.strip() for s in secrets if s for p in [s, *s.split(",")]}
        self.values = sorted({p for p in parts if len(p) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        text = _SECRET_PAIRS.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
        text = _AUTH_HEADER.sub(lambda m: f"{m[1]}{m[2]} {MASK}", text)
        return _URL_PASSWORD.sub(lambda m: f"{m[1]}{MASK}{m[3]}", text)


_ACTIVE: Redactor | None = None  # the process's redactor, set up with logging


def redactor() -> Redactor:
    """The one redactor of this process: the one logging was set up with, else one that knows
    the secrets in the environment (library use, tests)."""
    global _ACTIVE
    if _ACTIVE is None:
        _ACTIVE = Redactor([v for k, v in os.environ.items() if is_secret(k)])
    return _ACTIVE


def redact(text: str | None) -> str | None:
    """`text` with every secret masked (None stays None): for whatever leaves the process or is
    stored — load log, schema changes, endpoint status, IRIS stats, alerts, status outputs."""
    return redactor()(text) if text else text


def redact_value(value: Any) -> Any:
    """`value` with every string in it masked, through dicts, lists and tuples."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


class RedactingFormatter(logging.Formatter):
    def __init__(self, redact: Redactor, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, process, exception."""

    def __init__(self, redact: Redactor, command: str) -> None:
        super().__init__()
        self.redact = redact
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
            "pid": record.process,
            "command": self.command,
        }
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info))
            entry["exception"] = self.redact(text)
        return json.dumps(entry, ensure_ascii=False)


class DailyFileHandler(logging.Handler):
    """Appends to `<folder>/gridwarehouse-<UTC date>.jsonl`; removes files older than
    `keep_days` when it opens a new day's file."""

    def __init__(self, folder: Path, keep_days: int) -> None:
        super().__init__()
        self.folder = folder
        self.keep_days = keep_days
        self._day: str | None = None
        self._stream: Any = None
        self._lock_io = threading.Lock()

    def path_for(self, day: str) -> Path:
        return self.folder / f"gridwarehouse-{day}.jsonl"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            day = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d")
            with self._lock_io:
                if day != self._day:
                    self._open(day)
                self._stream.write(line)
                self._stream.flush()
        except Exception:  # logging must never take the program down
            self.handleError(record)

    def _open(self, day: str) -> None:
        if self._stream is not None:
            self._stream.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._stream = self.path_for(day).open("a", encoding="utf-8")
        self._day = day
        prune_logs(self.folder, self.keep_days)

    def close(self) -> None:
        with self._lock_io:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        super().close()


def prune_logs(folder: Path, keep_days: int, today: datetime | None = None) -> list[Path]:
    """Delete daily log files older than `keep_days` (by the date in their name)."""
    # today and the keep_days - 1 days before it stay
    cutoff = ((today or datetime.now(UTC)) - timedelta(days=keep_days - 1)).strftime("%Y-%m-%d")
    removed = []
    for path in folder.glob("gridwarehouse-*.jsonl"):
        day = path.stem.removeprefix("gridwarehouse-")
        if day < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def make_redactor(settings: Settings | None) -> Redactor:
    """The one redactor: the settings' secrets and every secret-named environment variable."""
    secrets = list(settings.secrets.values()) if settings else []
    secrets += [v for k, v in os.environ.items() if is_secret(k)]
    return Redactor(secrets)


def setup_logging(settings: Settings | None, level: str, command: str = "") -> Redactor:
    """Console (stderr, readable) and, with settings, the daily JSON-lines file; both masked."""
    redact = make_redactor(settings)
    global _ACTIVE
    _ACTIVE = redact  # the same masking for every other output (see `redact`)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(getattr(logging, level))
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(RedactingFormatter(redact, CONSOLE_FORMAT))
    root.addHandler(console)
    if settings is not None and settings.log_keep_days > 0:
        daily = DailyFileHandler(settings.log_dir, settings.log_keep_days)
        daily.setFormatter(JsonLinesFormatter(redact, command))
        root.addHandler(daily)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, getattr(logging, level)))
    return redact


def log_internal_error(exc: BaseException) -> tuple[str, Path | None]:
    """Write an unexpected exception's (masked) traceback to the daily log file only, never the
    console; returns its masked one-line description and the file it went to (None if no file
    could be written)."""
    daily = next((h for h in logging.getLogger().handlers if isinstance(h, DailyFileHandler)), None)
    formatter = daily.formatter if daily else None
    if not isinstance(formatter, JsonLinesFormatter):
        formatter = JsonLinesFormatter(make_redactor(_settings_or_none()), command="")
    record = logging.LogRecord(
        "loaders.cli", logging.ERROR, __file__, 0, "internal error", None,
        (type(exc), exc, exc.__traceback__),
    )  # fmt: skip
    line = formatter.format(record) + "\n"
    text = str(exc).strip().splitlines()
    summary = formatter.redact(f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": "))
    day = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d")
    for folder in _log_folders(daily):
        path = folder / f"gridwarehouse-{day}.jsonl"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as stream:
                stream.write(line)
            return summary, path
        except OSError:
            continue  # e.g. the data folder itself is what is broken: try the next place
    return summary, None


def _log_folders(daily: DailyFileHandler | None) -> list[Path]:
    """Where an internal error's details may go: the configured log folder, else (when that
    is unwritable or unknown) a folder in the system's temporary directory."""
    folders = [daily.folder] if daily else []
    if not folders:
        settings = _settings_or_none()
        if settings is not None:
            folders.append(settings.log_dir)
    folders.append(Path(tempfile.gettempdir()) / "gridwarehouse-logs")
    return folders


def _settings_or_none() -> Settings | None:
    # imported here, not at the top: every command masks its output through this module, and
    # pydantic-settings costs `gridwarehouse --version` more than all the rest of its start-up
    from loaders.settings import load_settings

    try:
        return load_settings()
    except Exception:  # the error being reported may be the settings themselves
        return None
