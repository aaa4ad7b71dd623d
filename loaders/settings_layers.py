"""Where settings are read from: the environment over `.env` over `gridwarehouse.toml`.

Each is a layer of variables that pydantic-settings reads field by field, as it reads the
environment (loaders/settings.py declares the fields). The TOML file's keys stand for variables
without the GRIDWAREHOUSE_ prefix, a table for a prefix: `[bmrs] base_url` is
GRIDWAREHOUSE_BMRS_BASE_URL. A secret in the file is refused; an empty variable is an unset one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource

from loaders.errors import ConfigError

PREFIX = "GRIDWAREHOUSE_"

# Marks a GRIDWAREHOUSE_ setting that gridwarehouse.toml may not set (the file cannot reach
# the variables without the prefix, SMTP_* and IRIS_*, at all).
ENV_ONLY = "environment or .env only"


@dataclass(frozen=True)
class Each:
    """Marks a mapping setting read from one variable per key: `template` names a key's variable;
    the keys are `keys`, or else every name that fits the template (and `only`)."""

    template: str
    keys: tuple[str, ...] = ()
    only: Callable[[str], bool] = bool

    def variable(self, key: str) -> str:
        return self.template.format(key.upper())

    def gather(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        if self.keys:
            found = {key: variables.get(self.variable(key)) for key in self.keys}
        else:
            pattern = re.compile("^" + re.escape(self.template).replace(r"\{\}", "(.+)") + "$")
            found = {
                m[1]: v for n, v in variables.items() if self.only(n) and (m := pattern.match(n))
            }
        return {key: value for key, value in found.items() if value is not None}


class Layer(EnvSettingsSource):
    """One layer of variables, read as pydantic-settings reads the environment, plus the
    settings gathered from many variables (`Each`); a file's layer skips ENV_ONLY ones."""

    def __init__(
        self, settings_cls: type[BaseSettings], variables: Mapping[str, Any], *, file: bool = False
    ) -> None:
        self.variables = variables
        self.file = file
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, Any]:
        # an empty variable is an unset one: the next layer (or the default) decides
        return {name: value for name, value in self.variables.items() if value not in (None, "")}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if self.file and ENV_ONLY in field.metadata:
            return None, field_name, False
        each = next((m for m in field.metadata if isinstance(m, Each)), None)
        if each is not None:
            return each.gather(self.env_vars) or None, field_name, False
        return super().get_field_value(field, field_name)


def read_toml(path: Path, secret: Callable[[str], bool]) -> dict[str, object]:
    """The TOML file as variables; a `secret` one, named with or without the prefix, is
    refused so that a committed file cannot hold one."""
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
    leaked = [name for name in flat if secret(name) or secret(PREFIX + name)]
    if leaked:
        raise ConfigError(
            f"{path} sets {', '.join(sorted(leaked))}: secrets are read from the environment "
            "or .env only; remove them from the file"
        )
    return {PREFIX + name: value for name, value in flat.items()}


def layers(
    settings_cls: type[BaseSettings],
    env: Mapping[str, str] | None,
    cwd: Path,
    secret: Callable[[str], bool],
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The environment (`env`, or the process's), `.env` and the TOML file in `cwd`, in that
    order of precedence; GRIDWAREHOUSE_CONFIG names another TOML file."""
    environ = os.environ if env is None else env
    dotenv = {k: v for k, v in dotenv_values(cwd / ".env").items() if v is not None}
    config = environ.get("GRIDWAREHOUSE_CONFIG") or dotenv.get("GRIDWAREHOUSE_CONFIG")
    if config and not Path(config).is_file():
        raise ConfigError(f"GRIDWAREHOUSE_CONFIG={config!r}: no such file")
    toml = read_toml(Path(config) if config else cwd / "gridwarehouse.toml", secret)
    return (
        Layer(settings_cls, environ),
        Layer(settings_cls, dotenv),
        Layer(settings_cls, toml, file=True),
    )


def one_line(exc: ValidationError) -> str:
    """Every setting's error on one line, each naming its variable."""
    messages = []
    for error in exc.errors():
        if error["type"] == "default_factory_not_called":  # follows another setting's error
            continue
        if error["type"] == "value_error":  # a parser's message, naming the variable
            messages.append(str(error["ctx"]["error"]))
        else:  # pydantic's own check: its location is the variable
            messages.append(f"{error['loc'][0]}={error['input']!r}: {error['msg']}")
    return "; ".join(messages)
