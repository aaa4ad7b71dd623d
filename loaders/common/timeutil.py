"""Time handling shared by every source: GB settlement periods <-> UTC, windows, parsing.

GB settlement days run midnight-to-midnight UK local time, split into half-hour periods
numbered from 1. A day has 48 periods, 46 on the spring clock change and 50 in autumn,
so period N of a day starts (N - 1) half-hours after local midnight, in absolute time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
HALF_HOUR = timedelta(minutes=30)

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def settlement_day_start_utc(settlement_date: date) -> datetime:
    """UTC instant of local (UK) midnight that opens the settlement day."""
    return datetime.combine(settlement_date, time(0), tzinfo=LONDON).astimezone(UTC)


def periods_in_day(settlement_date: date) -> int:
    """Number of settlement periods in a day: 48, or 46/50 on clock-change days."""
    start = settlement_day_start_utc(settlement_date)
    end = settlement_day_start_utc(settlement_date + timedelta(days=1))
    return int((end - start) / HALF_HOUR)


def settlement_period_start_utc(settlement_date: date, period: int) -> datetime:
    """UTC start of settlement period `period` (1-based) of `settlement_date`."""
    count = periods_in_day(settlement_date)
    if not 1 <= period <= count:
        raise ValueError(
            f"settlement period {period} is out of range for {settlement_date} "
            f"(which has {count} periods)"
        )
    return settlement_day_start_utc(settlement_date) + (period - 1) * HALF_HOUR


def settlement_period_end_utc(settlement_date: date, period: int) -> datetime:
    """UTC end (exclusive) of a settlement period."""
    return settlement_period_start_utc(settlement_date, period) + HALF_HOUR


def to_settlement_period(instant: datetime) -> tuple[date, int]:
    """The (settlement date, period) containing a timezone-aware instant."""
    if instant.tzinfo is None:
        raise ValueError("to_settlement_period needs a timezone-aware datetime")
    local_date = instant.astimezone(LONDON).date()
    offset = instant - settlement_day_start_utc(local_date)
    return local_date, int(offset // HALF_HOUR) + 1


def settlement_periods_utc(settlement_date: date) -> list[tuple[int, datetime, datetime]]:
    """Every period of a day as (period, utc_start, utc_end)."""
    start = settlement_day_start_utc(settlement_date)
    return [
        (n, start + (n - 1) * HALF_HOUR, start + n * HALF_HOUR)
        for n in range(1, periods_in_day(settlement_date) + 1)
    ]


def parse_user_datetime(text: str, *, option: str = "date") -> datetime:
    """Parse a command-line date (`2024-03-30`, midnight UTC) or ISO datetime (UTC if naive)."""
    value = text.strip()
    try:
        if _DATE_ONLY.match(value):
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{option} '{text}' is not a date: use YYYY-MM-DD or an ISO datetime "
            "such as 2024-03-30T12:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last instant Python holds
        raise ValueError(f"{option} '{text}' is out of range") from None


def parse_api_timestamp(text: str) -> datetime:
    """Parse an API timestamp (`...Z`, `+00:00`, up to 7 fractional digits) to aware UTC."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def rfc3339(instant: datetime) -> str:
    """Format an aware datetime as the APIs expect: `2024-05-01T00:00:00Z`."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_to(instant: datetime, step: timedelta) -> datetime:
    """Round an aware UTC instant down to a multiple of `step` since the epoch."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((instant - epoch) // step) * step


def split_windows(
    start: datetime, end: datetime, size: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Split [start, end) into consecutive half-open windows of at most `size`."""
    if size <= timedelta(0):
        raise ValueError("window size must be positive")
    cursor = start
    while cursor < end:
        stop = min(cursor + size, end)
        yield cursor, stop
        cursor = stop
