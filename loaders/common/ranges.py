"""The date range a user asks for (--from/--to), checked once for every source."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from loaders.common.timeutil import parse_user_datetime
from loaders.errors import UsageError


def parse_range(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """--from/--to as UTC datetimes, or None for an incremental load."""
    if start is None:
        if end is not None:
            raise UsageError("--to needs --from (leave both out for an incremental load)")
        return None
    try:
        lo = parse_user_datetime(start, option="--from")
        hi = parse_user_datetime(end, option="--to") if end else datetime.now(UTC)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if lo >= hi:
        raise UsageError(
            f"--from {start} is not before --to {end or 'now'}"
            + ("" if end else ": a range without --to ends now, and nothing after now is loaded")
        )
    return lo, hi


def refuse_future_range(end: datetime, latest: Mapping[str, datetime]) -> None:
    """A range reaching past what a dataset can have published (now, or now plus a forecast's
    horizon; `latest` per dataset) is bad input: its windows would come back empty, be recorded
    as done, and every later incremental load would start after them."""
    late = {name: limit for name, limit in latest.items() if end > limit}
    if not late:
        return
    now = datetime.now(UTC)
    shown = [f"{n} {t:%Y-%m-%dT%H:%MZ}" for n, t in sorted(late.items())]
    limits = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    raise UsageError(
        f"the range ends at {end:%Y-%m-%dT%H:%MZ}, after now ({now:%Y-%m-%dT%H:%MZ}) or beyond "
        f"what a forecast covers: the latest possible end is {limits}"
        + ". End the range there, or leave out --to to load up to now; nothing was loaded"
    )
