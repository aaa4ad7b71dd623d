"""Errors the CLI turns into exit codes (see CONTRACTS.md: 1 load failed, 2 bad input)."""

from __future__ import annotations


class GridwarehouseError(Exception):
    """Base class: a failure with a message written for the user."""

    exit_code = 1


class UsageError(GridwarehouseError):
    """Bad input or usage: nothing was written (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A setting is missing or malformed."""


class SourceError(GridwarehouseError):
    """A source could not be read; the message names the URL."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = 1


class UnreachableError(SourceError):
    """The host cannot be reached at all (offline, wrong host, refused): a connect failure."""


class HostDownError(UnreachableError):
    """Not sent: the request's host could not be reached earlier in this run."""


class SourceTimeoutError(SourceError):
    """The host accepted the connection but did not answer in time (not "unreachable")."""


class BadResponseError(SourceError):
    """The server answered with something that is not the data: HTML, truncated JSON."""


class RequestFailedError(SourceError):
    """The request failed for another reason: a redirect loop, a body that would not decode
    (a bad gzip stream), a broken protocol exchange, a URL the client cannot send."""


class HttpStatusError(SourceError):
    """A non-retryable HTTP status (4xx), or a retryable one that never cleared."""


class WarehouseBusyError(GridwarehouseError):
    """Another process held the warehouse write lock for longer than the timeout."""


class DiskSpaceError(GridwarehouseError):
    """The data folder is short of free space; a load would risk a half-written warehouse."""


def error_kind(exc: BaseException | None) -> str:
    """The `FetchResult.error_kind` of a failed request, the same word for every source."""
    if isinstance(exc, HostDownError):
        return "host_down"
    if isinstance(exc, UnreachableError):
        return "unreachable"
    if isinstance(exc, SourceTimeoutError):
        return "timeout"
    if isinstance(exc, BadResponseError):
        return "bad_response"
    if isinstance(exc, RequestFailedError):
        return "request"
    return "http"
