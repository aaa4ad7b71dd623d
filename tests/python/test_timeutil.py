"""Settlement periods <-> UTC, proved on real recorded data including both 2023 clock changes."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from loaders.common.timeutil import (
    parse_api_timestamp,
    parse_user_datetime,
    periods_in_day,
    settlement_period_start_utc,
    settlement_periods_utc,
    split_windows,
    to_settlement_period,
)

from .conftest import RECORDED, recorded_records

NESO_2023 = RECORDED / "neso" / "historic_demand" / "historic_demand_year_2023.csv"


def neso_periods() -> list[tuple[date, int]]:
    with NESO_2023.open() as fh:
        return [
            (date.fromisoformat(r["settlement_date"]), int(r["settlement_period"]))
            for r in csv.DictReader(fh)
        ]


def test_clock_change_days_in_real_neso_data_have_46_and_50_periods():
    per_day = Counter(d for d, _ in neso_periods())
    assert per_day[date(2023, 3, 26)] == 46 == periods_in_day(date(2023, 3, 26))
    assert per_day[date(2023, 10, 29)] == 50 == periods_in_day(date(2023, 10, 29))
    # and every day of the real file has exactly as many periods as the time module says
    assert all(count == periods_in_day(d) for d, count in per_day.items())


def test_every_real_2023_period_maps_to_a_distinct_contiguous_utc_half_hour():
    starts = sorted(settlement_period_start_utc(d, p) for d, p in neso_periods())
    assert len(starts) == len(set(starts)) == 17520
    assert starts[0] == datetime(2023, 1, 1, tzinfo=UTC)
    assert starts[-1] == datetime(2023, 12, 31, 23, 30, tzinfo=UTC)
    gaps = {b - a for a, b in itertools.pairwise(starts)}
    assert gaps == {timedelta(minutes=30)}  # no gap, no overlap, across both clock changes


def test_clock_change_days_map_to_46_and_50_utc_half_hours():
    spring = settlement_periods_utc(date(2023, 3, 26))
    autumn = settlement_periods_utc(date(2023, 10, 29))
    assert len(spring) == 46 and spring[0][1] == datetime(2023, 3, 26, 0, 0, tzinfo=UTC)
    assert spring[-1][2] == datetime(2023, 3, 26, 23, 0, tzinfo=UTC)  # next local midnight, BST
    assert len(autumn) == 50 and autumn[0][1] == datetime(2023, 10, 28, 23, 0, tzinfo=UTC)
    assert autumn[-1][2] == datetime(2023, 10, 30, 0, 0, tzinfo=UTC)
    for day in (date(2023, 3, 26), date(2023, 10, 29)):
        for period, start, _ in settlement_periods_utc(day):
            assert to_settlement_period(start) == (day, period)


def test_period_out_of_range_for_the_day_is_an_error():
    with pytest.raises(ValueError, match="has 46 periods"):
        settlement_period_start_utc(date(2023, 3, 26), 47)
    assert settlement_period_start_utc(date(2023, 10, 29), 50) == datetime(
        2023, 10, 29, 23, 30, tzinfo=UTC
    )


def test_real_boalf_segments_start_in_their_stated_settlement_period():
    records = recorded_records("bmrs/BOALF/boalf_stream_2024-05-01.json")
    for r in records:
        when = parse_api_timestamp(r["timeFrom"])
        assert to_settlement_period(when) == (
            date.fromisoformat(r["settlementDate"]),
            r["settlementPeriodFrom"],
        )


def test_real_mils_and_atl_periods_agree_with_their_times():
    for r in recorded_records("bmrs/MILS/mils_2024-05-01T10-11Z.json"):
        assert to_settlement_period(parse_api_timestamp(r["timeFrom"])) == (
            date.fromisoformat(r["settlementDate"]),
            r["settlementPeriod"],
        )
    for r in recorded_records("bmrs/ATL/atl_2024-05-01.json"):
        assert settlement_period_start_utc(
            date.fromisoformat(r["settlementDate"]), r["settlementPeriod"]
        ) == parse_api_timestamp(r["startTime"])


def test_api_timestamps_with_seven_fractional_digits_parse():
    assert parse_api_timestamp("2022-06-25T01:00:00.0000000+00:00") == datetime(
        2022, 6, 25, 1, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["2024-13-01", "yesterday", "2024/03/30", ""])
def test_malformed_user_dates_are_rejected_with_the_option_name(text):
    with pytest.raises(ValueError, match="--from"):
        parse_user_datetime(text, option="--from")


def test_user_dates_are_utc_midnight_and_naive_datetimes_are_utc():
    assert parse_user_datetime("2024-03-30") == datetime(2024, 3, 30, tzinfo=UTC)
    assert parse_user_datetime("2024-03-30T12:00") == datetime(2024, 3, 30, 12, tzinfo=UTC)
    assert parse_user_datetime("2024-03-30T12:00+01:00") == datetime(2024, 3, 30, 11, tzinfo=UTC)


def test_windows_cover_the_range_exactly_once():
    start, end = datetime(2024, 3, 30, 5, tzinfo=UTC), datetime(2024, 4, 1, 7, tzinfo=UTC)
    windows = list(split_windows(start, end, timedelta(days=1)))
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
