"""Every setting in one place: environment, then `.env`, then `gridwarehouse.toml`, then defaults.

`Settings` is a pydantic-settings model: a field is a setting and its default, read from
GRIDWAREHOUSE_<FIELD> unless it names another variable (SMTP_PORT); the TOML file drops the
prefix (`[bmrs] base_url` is GRIDWAREHOUSE_BMRS_BASE_URL). Secrets (API keys, tokens, client
secrets) are read from the environment or `.env` only and are never accepted from the TOML
file, so a committed config cannot leak one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AliasGenerator, BeforeValidator, Field, ValidationError, ValidationInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from loaders.errors import ConfigError
from loaders.secret_names import is_secret
from loaders.settings_layers import ENV_ONLY, PREFIX, Each, layers, one_line

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
IRIS_NAMESPACE = "elexon-insights-iris.servicebus.windows.net"
# -- parsers: text (and the variable it came from) to a value, or a ConfigError naming it -----

_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, name: str) -> timedelta:
    """`15m`, `1h`, `7d` as a timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"{name}: {text!r} is not a duration like 15m, 1h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _pairs(text: str, name: str, form: str) -> Iterator[tuple[str, str]]:
    """ "a=1h, b=2h" as (a, 1h), (b, 2h)."""
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        if not value or not key.strip():
            raise ConfigError(f"{name}: {item!r} is not {form}")
        yield key.strip(), value


def parse_window_overrides(text: str) -> dict[str, timedelta]:
    """GRIDWAREHOUSE_BMRS_WINDOWS="BOD=1h,FREQ=6h": window size per dataset (the names and
    sizes are checked against the catalogue when a load resolves its datasets)."""
    name = "GRIDWAREHOUSE_BMRS_WINDOWS"
    return {
        dataset.upper(): parse_duration(size, f"{name}[{dataset}]")
        for dataset, size in _pairs(text, name, "DATASET=SIZE (e.g. BOD=1h)")
    }


def parse_durations(text: str, name: str) -> dict[str, timedelta]:
    """ "bmrs=2h,neso=2d,bmrs.BOD=30m" as {name (lower-case): duration}; each name is a source
    of RUN_SOURCES, or `source.DATASET`."""
    out = {}
    for key, size in _pairs(text, name, "NAME=DURATION (e.g. bmrs=2h)"):
        source, dot, dataset = key.lower().partition(".")
        if source not in RUN_SOURCES or (dot and not dataset):
            raise ConfigError(
                f"{name}: {key!r} is not a source ({', '.join(RUN_SOURCES)}) or source.DATASET"
            )
        out[key.lower()] = parse_duration(size, f"{name}[{key}]")
    return out


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _run_sources(text: str, name: str) -> tuple[str, ...]:
    names = tuple(n.lower() for n in _names(text))
    unknown = [n for n in names if n not in RUN_SOURCES]
    if unknown:
        raise ConfigError(f"{name} names {', '.join(unknown)}: use {', '.join(RUN_SOURCES)}")
    return names


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


def _rate(raw: object, name: str) -> float:
    return float(_number(raw, name, float, minimum=0))


def _port(raw: object, name: str) -> int:
    port = int(_number(raw, name, int))
    if not 0 < port < 65536:
        raise ConfigError(f"{name}={raw!r} is not a port number (1-65535)")
    return port


def _iso_date(text: str, name: str) -> date:
    """IRIS_CLIENT_SECRET_EXPIRES: a date, or a datetime (its date counts); nothing else."""
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not an ISO date like 2027-03-31") from None


def _url(raw: object, name: str, *, shown: str | None = None) -> str:
    """An http(s) URL with a host (and a numeric port, if any), without a trailing slash;
    `shown` replaces the value in the message (a secret URL, the webhook, is never echoed)."""
    url = str(raw).rstrip("/")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{name}={shown or repr(url)} is not an http(s) URL with a host")
    return url


def _secret(raw: object, name: str) -> str:
    if name == "GRIDWAREHOUSE_ALERT_WEBHOOK":  # a URL, checked but never echoed
        _url(raw, name, shown="(hidden)")
    return str(raw)


def _emails(text: str, name: str) -> tuple[str, ...]:
    addresses = _names(text)
    bad = [a for a in addresses if not re.match(r"^[^@\s]+@[^@\s]+$", a)]
    if bad:
        raise ConfigError(f"{name}: {', '.join(bad)} is not an e-mail address")
    return addresses


def _flag(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={text!r}: use true or false")


# -- setting types: a type and the parser its values go through ------------------------------


def _variable(info: ValidationInfo) -> str:
    """The variable of the setting being checked (every message names it)."""
    return str(Settings.model_fields[info.field_name or ""].validation_alias)


def _checked(parse: Callable[[Any, str], Any], raw: Any, name: str) -> Any:
    """`parse(raw, name)`, its ConfigError as the ValueError pydantic collects per field."""
    try:
        return parse(raw, name)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def _raw(kind: Any, parse: Callable[[Any, str], Any]) -> Any:
    """`kind`, its value (text, or a TOML value) put through `parse(value, variable)` first."""
    return Annotated[kind, BeforeValidator(lambda raw, info: _checked(parse, raw, _variable(info)))]


def _parsed(kind: Any, parse: Callable[[str, str], Any]) -> Any:
    """`kind`, written as text: a TOML value is parsed as its text, as an environment one."""
    return _raw(kind, lambda raw, name: parse(str(raw), name))


def _numeric(kind: type, **bounds: Any) -> Any:
    return _raw(kind, lambda raw, name: _number(raw, name, kind, **bounds))


def _one_of(options: tuple[str, ...], normal: Callable[[str], str]) -> Any:
    def parse(text: str, name: str) -> str:
        if normal(text) not in options:
            raise ConfigError(f"{name}={normal(text)!r}: use one of {', '.join(options)}")
        return normal(text)

    return _parsed(str, parse)


def _matching(pattern: str, what: str) -> Any:
    def parse(text: str, name: str) -> str:
        if not re.match(pattern, text):
            raise ConfigError(f"{name}={text!r} is not {what}")
        return text

    return _parsed(str, parse)


def _each(
    each: Each, kind: Any, parse: Callable[[Any, str], Any], defaults: Mapping[str, Any] = {}
) -> Any:
    """A mapping read by `each`, over `defaults`; each value parsed naming its own variable."""

    def check(raw: Mapping[str, Any]) -> dict[str, Any]:
        found = {key: _checked(parse, v, each.variable(key)) for key, v in raw.items()}
        return {**defaults, **found}

    return Annotated[Mapping[str, kind], each, BeforeValidator(check)]


Target = _one_of(TARGETS, str.lower)
LogLevel = _one_of(LOG_LEVELS, str.upper)
Positive = _numeric(float, positive=True)
NonNegative = _numeric(float, minimum=0)
NonNegativeInt = _numeric(int, minimum=0)
AtLeastOne = _numeric(int, minimum=1)
Text = _parsed(str, lambda text, _: text)
FilePath = _parsed(Path, lambda text, _: Path(text))
Flag = _parsed(bool, _flag)
Durations = _parsed(Mapping[str, timedelta], parse_durations)
Duration = _parsed(timedelta, parse_duration)
RunSources = _parsed(tuple[str, ...], _run_sources)
RunEvery = _parsed(
    Mapping[str, timedelta], lambda text, name: {**DEFAULT_RUN_EVERY, **parse_durations(text, name)}
)
WindowSizes = _parsed(Mapping[str, timedelta], lambda text, _: parse_window_overrides(text))
Emails = Annotated[_parsed(tuple[str, ...], _emails), ENV_ONLY]
Port = _raw(int, _port)
IsoDate = _parsed(date, _iso_date)
# DuckDB's memory_limit units (it refuses anything else, and percentages)
MemorySize = _matching(
    r"(?i)^\d+(\.\d+)?\s*(b|bytes|kb|mb|gb|tb|kib|mib|gib|tib)$", "a memory size like 512MB or 2GB"
)
_TOKEN = r"^[A-Za-z0-9_.~-]+$"  # a query parameter or header name
ParamName = _matching(_TOKEN, "a query parameter name")
HeaderName = _matching(_TOKEN, "a header name")
BqLocation = _matching(_TOKEN, "a BigQuery location like EU")
BqPrefix = _matching(r"^[A-Za-z0-9_]*$", "letters, digits and underscores")
Host = _matching(
    r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$", f"a host name like {IRIS_NAMESPACE}"
)
BaseUrls = _each(
    Each(PREFIX + "{}_BASE_URL", tuple(DEFAULT_BASE_URLS)), str, _url, DEFAULT_BASE_URLS
)
Rates = _each(Each(PREFIX + "{}_REQUESTS_PER_S", tuple(DEFAULT_RATES)), float, _rate, DEFAULT_RATES)
RunDatasets = _each(
    Each(PREFIX + "RUN_{}_DATASETS", RUN_SOURCES), tuple[str, ...], lambda raw, _: _names(str(raw))
)
DnoBaseUrls = Annotated[_each(Each(PREFIX + "DNO_{}_BASE_URL"), str, _url), ENV_ONLY]
Secrets = Annotated[_each(Each("{}", only=is_secret), str, _secret), ENV_ONLY]


class Settings(BaseSettings):
    """Resolved settings for one process (`load_settings` builds them)."""

    model_config = SettingsConfigDict(
        frozen=True,
        # a field is read from GRIDWAREHOUSE_<FIELD> unless it names another variable
        alias_generator=AliasGenerator(validation_alias=lambda field: PREFIX + field.upper()),
        case_sensitive=True,
        enable_decoding=False,  # lists are comma-separated text, never JSON
        validate_default=False,  # a default is a value already; the parsers read text
        extra="ignore",
    )

    target: Target = "duckdb"
    data_dir: FilePath = Path("data")
    duckdb_path: FilePath = Field(default_factory=lambda s: s["data_dir"] / "gridwarehouse.duckdb")
    duckdb_memory_limit: MemorySize = "512MB"
    log_level: LogLevel = "INFO"
    log_dir: FilePath = Field(default_factory=lambda s: s["data_dir"] / "logs")
    log_keep_days: AtLeastOne = 14
    min_free_gb: NonNegative = 2.0
    stale_after: Durations = {}
    run_sources: RunSources = RUN_SOURCES
    run_every: RunEvery = DEFAULT_RUN_EVERY
    run_datasets: RunDatasets = {}
    # `run` tests only the new window of the large models, and every row once this long has passed
    full_test_every: Duration = timedelta(hours=24)
    alert_email: Emails = ()
    smtp_host: str | None = Field(None, validation_alias="SMTP_HOST")
    smtp_port: Port = Field(587, validation_alias="SMTP_PORT")
    smtp_user: str | None = Field(None, validation_alias="SMTP_USER")
    smtp_from: str = Field("gridwarehouse@localhost", validation_alias="SMTP_FROM")
    smtp_starttls: Flag = Field(True, validation_alias="SMTP_STARTTLS")
    base_urls: BaseUrls = DEFAULT_BASE_URLS
    http_timeout_s: Positive = 60.0
    http_max_retries: NonNegativeInt = 5
    http_backoff_base_s: NonNegative = 1.0
    http_backoff_max_s: NonNegative = 60.0
    http_retry_after_max_s: NonNegative = 300.0
    bmrs_concurrency: AtLeastOne = 4
    bmrs_requests_per_s: NonNegative = 10.0
    # other sources' polite request rates (requests per second), e.g. NESO asks for <= 1/s
    rates: Rates = DEFAULT_RATES
    dno_base_urls: DnoBaseUrls = {}
    bmrs_trailing_minutes: NonNegativeInt = 60
    # incremental loads fetch again the failed/skipped windows that ended within this long
    retry_lookback: Duration = timedelta(days=7)
    bmrs_api_key_param: ParamName = "APIKey"
    isone_api_key_header: HeaderName = "X-API-Key"
    bmrs_windows: WindowSizes = {}
    lock_timeout_s: NonNegative = 300.0
    commit_rows: AtLeastOne = 250_000
    commit_windows: AtLeastOne = 48
    commit_seconds: Positive = 30.0
    iris_namespace: Host = Field(IRIS_NAMESPACE, validation_alias="IRIS_NAMESPACE")
    iris_client_id: str | None = Field(None, validation_alias="IRIS_CLIENT_ID")
    iris_tenant_id: str | None = Field(None, validation_alias="IRIS_TENANT_ID")
    iris_queue_name: str | None = Field(None, validation_alias="IRIS_QUEUE_NAME")
    iris_secret_expires: IsoDate | None = Field(None, validation_alias="IRIS_CLIENT_SECRET_EXPIRES")
    iris_batch_size: AtLeastOne = 100
    iris_max_wait_s: Positive = 5.0
    iris_flush_seconds: Positive = 10.0
    iris_flush_messages: AtLeastOne = 2000
    iris_backfill: Flag = True
    bq_project: Text | None = None
    bq_location: BqLocation = "EU"
    bq_dataset_prefix: BqPrefix = ""
    # every secret variable by name: never shown, never dumped (the logs' redactor reads them)
    secrets: Secrets = Field(default_factory=dict, repr=False, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, **_: Any
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """`Settings()` reads what `load_settings()` reads, after its own arguments."""
        return (init_settings, *layers(settings_cls, None, Path.cwd(), is_secret))

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
        # BMRS has its own long-standing variable; the other sources share `rates`
        return {**self.rates, "bmrs": self.bmrs_requests_per_s}.get(source, 1.0)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed by code (not parsed again, as dataclasses.replace)."""
        return self.model_copy(update=changes)


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Resolve settings: environment wins over `.env`, which wins over `gridwarehouse.toml`;
    malformed ones are one ConfigError, on one line, naming each variable."""
    sources = layers(Settings, env, cwd or Path.cwd(), is_secret)
    try:
        return Settings(_build_sources=(sources, {}))
    except ValidationError as exc:
        raise ConfigError(one_line(exc)) from None
