"""Every setting in one place: environment, then `.env`, then `gridwarehouse.toml`, then defaults.

Secrets (API keys, tokens, client secrets) are read from the environment or `.env` only and
are never accepted from the TOML file, so a committed config cannot leak one.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loaders.errors import ConfigError

TARGETS = ("duckdb", "bigquery")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

DEFAULT_BASE_URLS = {
    "bmrs": "https://data.elexon.co.uk/bmrs/api/v1",
    "neso": "https://api.neso.energy/api/3/action",
    "isone": "https://webservices.iso-ne.com/api/v1.1",
    # ISO-NE's public website: the ws/wsclient and transform/csv endpoints (no credentials)
    "isone_www": "https://www.iso-ne.com",
}

# `gridwarehouse run`: the sources it loads and how often each is due (GRIDWAREHOUSE_RUN_EVERY)
RUN_SOURCES = ("bmrs", "iris", "neso", "dno", "isone")
DEFAULT_RUN_EVERY = {
    "bmrs": timedelta(minutes=15),
    "iris": timedelta(minutes=15),
    "neso": timedelta(hours=1),
    "dno": timedelta(days=7),
    "isone": timedelta(hours=1),
}

DEFAULT_RATES = {"neso": 1.0, "dno": 2.0, "isone": 1.0}
# Variables that hold secrets by their name's ending (DNO portal tokens are named in their config).
SECRET_SUFFIXES = ("_TOKEN", "_API_KEY", "_API_KEYS", "_PASSWORD", "_SECRET", "_CONNECTION_STRING")

# Names that may only come from the environment (or .env), never from gridwarehouse.toml.
SECRET_NAMES = (
    "BMRS_API_KEYS",
    "IRIS_CLIENT_SECRET",
    "IRIS_CONNECTION_STRING",
    "NGED_API_TOKEN",
    "ISONE_USERNAME",  # credentials come from the environment only, like the password
    "ISONE_PASSWORD",
    "ISONE_API_KEY",
    "SMTP_PASSWORD",
    "GRIDWAREHOUSE_ALERT_WEBHOOK",
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    target: str = "duckdb"
    data_dir: Path = Path("data")
    duckdb_path: Path = Path("data/gridwarehouse.duckdb")
    duckdb_memory_limit: str = "512MB"
    log_level: str = "INFO"
    log_dir: Path = Path("data/logs")
    log_keep_days: int = 14
    min_free_gb: float = 2.0
    stale_after: Mapping[str, timedelta] = field(default_factory=dict)
    run_sources: tuple[str, ...] = RUN_SOURCES
    run_every: Mapping[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_RUN_EVERY))
    run_datasets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    alert_email: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_from: str = "gridwarehouse@localhost"
    smtp_starttls: bool = True
    base_urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BASE_URLS))
    http_timeout_s: float = 60.0
    http_max_retries: int = 5
    http_backoff_base_s: float = 1.0
    http_backoff_max_s: float = 60.0
    http_retry_after_max_s: float = 300.0
    bmrs_concurrency: int = 4
    bmrs_requests_per_s: float = 10.0
    # other sources' polite request rates (requests per second), e.g. NESO asks for <= 1/s
    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    dno_base_urls: Mapping[str, str] = field(default_factory=dict)
    bmrs_trailing_minutes: int = 60
    # incremental loads fetch again the failed/skipped windows that ended within this long
    retry_lookback: timedelta = timedelta(days=7)
    bmrs_api_key_param: str = "APIKey"
    isone_api_key_header: str = "X-API-Key"
    bmrs_windows: Mapping[str, timedelta] = field(default_factory=dict)
    lock_timeout_s: float = 300.0
    commit_rows: int = 250_000
    commit_windows: int = 48
    commit_seconds: float = 30.0
    iris_namespace: str = "elexon-insights-iris.servicebus.windows.net"
    iris_client_id: str | None = None
    iris_tenant_id: str | None = None
    iris_queue_name: str | None = None
    iris_secret_expires: date | None = None
    iris_batch_size: int = 100
    iris_max_wait_s: float = 5.0
    iris_flush_seconds: float = 10.0
    iris_flush_messages: int = 2000
    iris_backfill: bool = True
    bq_project: str | None = None
    bq_location: str = "EU"
    bq_dataset_prefix: str = ""
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def pipelines_dir(self) -> Path:
        return self.data_dir / "pipelines"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "warehouse.lock"

    def base_url(self, source: str) -> str:
        return self.base_urls[source].rstrip("/")

    def secret(self, name: str) -> str | None:
        return self.secrets.get(name) or None

    def requests_per_s(self, source: str) -> float:
        return self.bmrs_requests_per_s if source == "bmrs" else self.rates.get(source, 1.0)


def _read_toml(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):  # [bmrs] base_url = ... -> BMRS_BASE_URL
            for sub, subvalue in value.items():
                flat[f"{key}_{sub}".upper()] = subvalue
        else:
            flat[key.upper()] = value
    leaked = [name for name in flat if name in SECRET_NAMES or name.endswith(SECRET_SUFFIXES)]
    if leaked:
        raise ConfigError(
            f"{path} sets {', '.join(sorted(leaked))}: secrets are read from the environment "
            "or .env only; remove them from the file"
        )
    return flat


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, name: str) -> timedelta:
    """`15m`, `1h`, `7d` as a timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"{name}: {text!r} is not a duration like 15m, 1h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_window_overrides(text: str) -> dict[str, timedelta]:
    """GRIDWAREHOUSE_BMRS_WINDOWS="BOD=1h,FREQ=6h": window size per dataset (the names and
    sizes are checked against the catalogue when a load resolves its datasets)."""
    overrides = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, size = item.partition("=")
        if not size or not name.strip():
            raise ConfigError(
                f"GRIDWAREHOUSE_BMRS_WINDOWS: {item!r} is not DATASET=SIZE (e.g. BOD=1h)"
            )
        overrides[name.strip().upper()] = parse_duration(
            size, f"GRIDWAREHOUSE_BMRS_WINDOWS[{name}]"
        )
    return overrides


def parse_durations(text: str, name: str) -> dict[str, timedelta]:
    """ "bmrs=2h,neso=2d,bmrs.BOD=30m" as {name (lower-case): duration}; each name is a source
    of RUN_SOURCES, or `source.DATASET`."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, size = item.partition("=")
        if not size:
            raise ConfigError(f"{name}: {item!r} is not NAME=DURATION (e.g. bmrs=2h)")
        source, dot, dataset = key.strip().lower().partition(".")
        if source not in RUN_SOURCES or (dot and not dataset):
            raise ConfigError(
                f"{name}: {key.strip()!r} is not a source ({', '.join(RUN_SOURCES)}) "
                "or source.DATASET"
            )
        out[key.strip().lower()] = parse_duration(size, f"{name}[{key.strip()}]")
    return out


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _number(
    raw: object, name: str, kind: type, *, minimum: float | None = None, positive: bool = False
) -> float | int:
    """A finite int or float, at least `minimum` (more than 0 when `positive`)."""
    try:
        if isinstance(raw, bool):  # TOML `true` is not the number 1
            raise TypeError
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} is not a finite number")
    if positive and value <= 0:
        raise ConfigError(f"{name}={raw!r} must be more than 0")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def _iso_date(text: str | None) -> date | None:
    """IRIS_CLIENT_SECRET_EXPIRES: a date, or a datetime (its date counts); nothing else."""
    if not text:
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise ConfigError(
            f"IRIS_CLIENT_SECRET_EXPIRES={text!r} is not an ISO date like 2027-03-31"
        ) from None


# DuckDB's memory_limit units (it refuses anything else, and percentages)
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(b|bytes|kb|mb|gb|tb|kib|mib|gib|tib)$", re.IGNORECASE)
_TOKEN = re.compile(r"^[A-Za-z0-9_.~-]+$")  # a query parameter or header name
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")
_BQ_PREFIX = re.compile(r"^[A-Za-z0-9_]*$")


def _check_url(name: str, url: str, *, shown: str | None = None) -> str:
    """An http(s) URL with a host (and a numeric port, if any); `shown` replaces the value in
    the message (a secret URL, the webhook, is never echoed)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{name}={shown or repr(url)} is not an http(s) URL with a host")
    return url


def _matching(name: str, value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.match(value):
        raise ConfigError(f"{name}={value!r} is not {what}")
    return value


def _emails(text: str) -> tuple[str, ...]:
    addresses = _names(text)
    bad = [a for a in addresses if not re.match(r"^[^@\s]+@[^@\s]+$", a)]
    if bad:
        raise ConfigError(f"GRIDWAREHOUSE_ALERT_EMAIL: {', '.join(bad)} is not an e-mail address")
    return addresses


def _flag(raw: object, name: str) -> bool:
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: use true or false")


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Resolve settings: environment wins over `.env`, which wins over `gridwarehouse.toml`."""
    cwd = cwd or Path.cwd()
    environ = dict(_read_dotenv(cwd / ".env"))
    environ.update(os.environ if env is None else env)
    toml_path = Path(environ.get("GRIDWAREHOUSE_CONFIG") or cwd / "gridwarehouse.toml")
    if environ.get("GRIDWAREHOUSE_CONFIG") and not toml_path.is_file():
        raise ConfigError(f"GRIDWAREHOUSE_CONFIG={str(toml_path)!r}: no such file")
    file_values = _read_toml(toml_path)

    def get(name: str, default: object = None) -> object:
        full = f"GRIDWAREHOUSE_{name}"
        if environ.get(full) not in (None, ""):
            return environ[full]
        return file_values.get(name, default)

    target = str(get("TARGET", "duckdb")).lower()
    if target not in TARGETS:
        raise ConfigError(f"GRIDWAREHOUSE_TARGET={target!r}: use one of {', '.join(TARGETS)}")
    log_level = str(get("LOG_LEVEL", "INFO")).upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(
            f"GRIDWAREHOUSE_LOG_LEVEL={log_level!r}: use one of {', '.join(LOG_LEVELS)}"
        )

    data_dir = Path(str(get("DATA_DIR", "data")))
    duckdb_path = Path(str(get("DUCKDB_PATH", data_dir / "gridwarehouse.duckdb")))
    base_urls = {
        source: str(get(f"{source.upper()}_BASE_URL", url)).rstrip("/")
        for source, url in DEFAULT_BASE_URLS.items()
    }
    for source, url in base_urls.items():
        _check_url(f"GRIDWAREHOUSE_{source.upper()}_BASE_URL", url)

    def num(name: str, default: float, kind: type, **bounds: Any) -> float | int:
        return _number(get(name, default), f"GRIDWAREHOUSE_{name}", kind, **bounds)

    def text(name: str, default: str, pattern: re.Pattern[str], what: str) -> str:
        return _matching(f"GRIDWAREHOUSE_{name}", str(get(name, default)), pattern, what)

    secrets = {
        name: value
        for name, value in environ.items()
        if value and (name in SECRET_NAMES or name.endswith(SECRET_SUFFIXES))
    }
    if secrets.get("GRIDWAREHOUSE_ALERT_WEBHOOK"):
        _check_url(
            "GRIDWAREHOUSE_ALERT_WEBHOOK", secrets["GRIDWAREHOUSE_ALERT_WEBHOOK"], shown="(hidden)"
        )
    rates = {
        source: float(num(f"{source.upper()}_REQUESTS_PER_S", rate, float, minimum=0))
        for source, rate in DEFAULT_RATES.items()
    }
    dno_base_urls = {
        key.removeprefix("GRIDWAREHOUSE_DNO_").removesuffix("_BASE_URL"): _check_url(
            key, value.rstrip("/")
        )
        for key, value in environ.items()
        if key.startswith("GRIDWAREHOUSE_DNO_") and key.endswith("_BASE_URL") and value
    }
    return Settings(
        target=target,
        data_dir=data_dir,
        duckdb_path=duckdb_path,
        duckdb_memory_limit=text(
            "DUCKDB_MEMORY_LIMIT", "512MB", _MEMORY, "a memory size like 512MB or 2GB"
        ),
        log_level=log_level,
        log_dir=Path(str(get("LOG_DIR", data_dir / "logs"))),
        log_keep_days=int(num("LOG_KEEP_DAYS", 14, int, minimum=1)),
        min_free_gb=float(num("MIN_FREE_GB", 2.0, float, minimum=0)),
        stale_after=parse_durations(str(get("STALE_AFTER", "") or ""), "GRIDWAREHOUSE_STALE_AFTER"),
        run_sources=_run_sources(str(get("RUN_SOURCES", ",".join(RUN_SOURCES)))),
        run_every={
            **DEFAULT_RUN_EVERY,
            **parse_durations(str(get("RUN_EVERY", "") or ""), "GRIDWAREHOUSE_RUN_EVERY"),
        },
        run_datasets={
            source: _names(str(get(f"RUN_{source.upper()}_DATASETS")))
            for source in RUN_SOURCES
            if get(f"RUN_{source.upper()}_DATASETS")
        },
        alert_email=_emails(str(environ.get("GRIDWAREHOUSE_ALERT_EMAIL") or "")),
        smtp_host=environ.get("SMTP_HOST") or None,
        smtp_port=int(_port(environ.get("SMTP_PORT") or 587)),
        smtp_user=environ.get("SMTP_USER") or None,
        smtp_from=environ.get("SMTP_FROM") or "gridwarehouse@localhost",
        smtp_starttls=_flag(environ.get("SMTP_STARTTLS") or "true", "SMTP_STARTTLS"),
        base_urls=base_urls,
        http_timeout_s=float(num("HTTP_TIMEOUT_S", 60, float, positive=True)),
        http_max_retries=int(num("HTTP_MAX_RETRIES", 5, int, minimum=0)),
        http_backoff_base_s=float(num("HTTP_BACKOFF_BASE_S", 1.0, float, minimum=0)),
        http_backoff_max_s=float(num("HTTP_BACKOFF_MAX_S", 60.0, float, minimum=0)),
        http_retry_after_max_s=float(num("HTTP_RETRY_AFTER_MAX_S", 300.0, float, minimum=0)),
        bmrs_concurrency=int(num("BMRS_CONCURRENCY", 4, int, minimum=1)),
        bmrs_requests_per_s=float(num("BMRS_REQUESTS_PER_S", 10.0, float, minimum=0)),
        rates=rates,
        dno_base_urls=dno_base_urls,
        bmrs_trailing_minutes=int(num("BMRS_TRAILING_MINUTES", 60, int, minimum=0)),
        retry_lookback=parse_duration(
            str(get("RETRY_LOOKBACK", "7d")), "GRIDWAREHOUSE_RETRY_LOOKBACK"
        ),
        bmrs_api_key_param=text("BMRS_API_KEY_PARAM", "APIKey", _TOKEN, "a query parameter name"),
        isone_api_key_header=text("ISONE_API_KEY_HEADER", "X-API-Key", _TOKEN, "a header name"),
        bmrs_windows=parse_window_overrides(str(get("BMRS_WINDOWS", "") or "")),
        lock_timeout_s=float(num("LOCK_TIMEOUT_S", 300, float, minimum=0)),
        commit_rows=int(num("COMMIT_ROWS", 250_000, int, minimum=1)),
        commit_windows=int(num("COMMIT_WINDOWS", 48, int, minimum=1)),
        commit_seconds=float(num("COMMIT_SECONDS", 30.0, float, positive=True)),
        iris_namespace=_matching(
            "IRIS_NAMESPACE",
            str(environ.get("IRIS_NAMESPACE") or "elexon-insights-iris.servicebus.windows.net"),
            _HOST,
            "a host name like elexon-insights-iris.servicebus.windows.net",
        ),
        iris_client_id=environ.get("IRIS_CLIENT_ID") or None,
        iris_tenant_id=environ.get("IRIS_TENANT_ID") or None,
        iris_queue_name=environ.get("IRIS_QUEUE_NAME") or None,
        iris_secret_expires=_iso_date(environ.get("IRIS_CLIENT_SECRET_EXPIRES")),
        iris_batch_size=int(num("IRIS_BATCH_SIZE", 100, int, minimum=1)),
        iris_max_wait_s=float(num("IRIS_MAX_WAIT_S", 5.0, float, positive=True)),
        iris_flush_seconds=float(num("IRIS_FLUSH_SECONDS", 10.0, float, positive=True)),
        iris_flush_messages=int(num("IRIS_FLUSH_MESSAGES", 2000, int, minimum=1)),
        iris_backfill=_flag(get("IRIS_BACKFILL", "true"), "GRIDWAREHOUSE_IRIS_BACKFILL"),
        bq_project=(str(get("BQ_PROJECT")) if get("BQ_PROJECT") else None),
        bq_location=text("BQ_LOCATION", "EU", _TOKEN, "a BigQuery location like EU"),
        bq_dataset_prefix=text(
            "BQ_DATASET_PREFIX", "", _BQ_PREFIX, "letters, digits and underscores"
        ),
        secrets=secrets,
    )


def _port(raw: object) -> int:
    port = int(_number(raw, "SMTP_PORT", int))
    if not 0 < port < 65536:
        raise ConfigError(f"SMTP_PORT={raw!r} is not a port number (1-65535)")
    return port


def _run_sources(text: str) -> tuple[str, ...]:
    names = tuple(n.lower() for n in _names(text))
    unknown = [n for n in names if n not in RUN_SOURCES]
    if unknown:
        raise ConfigError(
            f"GRIDWAREHOUSE_RUN_SOURCES names {', '.join(unknown)}: use {', '.join(RUN_SOURCES)}"
        )
    return names
