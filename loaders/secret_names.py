"""Which settings hold secrets, by name: read by the settings (secrets come from the environment
or `.env` only) and by the redactor in loaders.logs. Standard library only, so that masking
output does not import pydantic on the paths that never read a setting (`--version`)."""

from __future__ import annotations

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


def is_secret(name: str) -> bool:
    """Whether the variable `name` holds a secret (environment or `.env` only, always redacted)."""
    return name in SECRET_NAMES or name.endswith(SECRET_SUFFIXES)
