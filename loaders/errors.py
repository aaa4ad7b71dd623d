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


def unknown_names_error(
    kind: str, unknown: list[str], valid: list[str], list_command: str
) -> UsageError:
    """One short line for names nobody knows: the closest valid names, and where to see all
    (listing every valid name made a line of thousands of characters)."""
    import difflib

    by_upper = {name.upper(): name for name in valid}
    suggestions: list[str] = []
    for name in unknown:
        for close in difflib.get_close_matches(name.upper(), list(by_upper), n=3, cutoff=0.6):
            if by_upper[close] not in suggestions:
                suggestions.append(by_upper[close])
    plural = "s" if len(unknown) > 1 else ""
    hint = f"; did you mean {', '.join(suggestions[:3])}?" if suggestions else ""
    return UsageError(
        f"unknown {kind}{plural} {', '.join(unknown)}{hint} (`{list_command}` shows all)"
    )
