-- Per dataset and settlement day: what a complete day holds (from the catalogue's cardinality and
-- the day's 46/48/50 periods), what is present, and a verdict that tells "Elexon never published
-- it" (the known-gap seeds) from "we failed to load it". Check it before trusting a chart.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
-- Each dataset has its own window: datasets run on different calendars (a backfilled dataset's
-- latest day can lie years before another's), so (dataset, day) rows are replaced.
{{ config(**incremental_by_day('settlement_date', ['dataset'], unique_key=['dataset', 'settlement_date'])) }}

{%- set window_starts = incremental_window_starts('dataset') %}

with

counted as (

    select * from {{ ref('int_dataset_days_counted') }}
    where {{ on_or_after_per_key('settlement_date', 'dataset', window_starts) }}

),

day_length as (

    select
        *,
        cast(round((
            {{ epoch_seconds(settlement_period_start_utc(
            'cast(' ~ dbt.dateadd('day', 1, 'settlement_date') ~ ' as date)', 1)) }}
            - {{ epoch_seconds(settlement_period_start_utc('settlement_date', 1)) }}
        ) / 1800) as {{ dbt.type_bigint() }})
            as expected_periods
    from counted

),

expected as (

    select
        *,
        case expected_cardinality
            when 'per_period' then expected_periods
            when 'per_5_minutes' then expected_periods * 6
            when 'per_day' then 1
        end as expected_slots
    from day_length

),

-- the days Elexon left short for good, with the periods it did publish
known_gaps as (

    select
        'FUELHH' as dataset,
        settlement_date,
        actual as published_periods
    from {{ ref('fuelhh_known_gaps') }}
    union all
    select
        'SYSTEM_PRICES' as dataset,
        settlement_date,
        actual as published_periods
    from {{ ref('system_price_known_gaps') }}

)

select
    expected.dataset,
    expected.settlement_date,
    expected.expected_cardinality,
    expected.expected_periods,
    expected.expected_slots,
    expected.present_slots,
    expected.present_periods,
    expected.row_count,
    expected.first_period,
    expected.last_period,
    known_gaps.published_periods as known_published_periods,
    case
        when expected.expected_cardinality in ('per_period', 'per_5_minutes')
            then greatest(expected.expected_periods - expected.present_periods, 0)
    end as missing_periods,
    greatest(expected.expected_slots - expected.present_slots, 0) as missing_slots,
    case
        when expected.expected_slots is not null then expected.present_slots >= expected.expected_slots
    end as is_complete,
    case
        when expected.expected_slots is null then 'loaded'
        when expected.present_slots >= expected.expected_slots then 'complete'
        -- short, but we hold every period Elexon published that day
        when expected.present_periods >= known_gaps.published_periods then 'not_published'
        else 'incomplete'
    end as completeness_status,
    {{ settlement_period_start_utc('expected.settlement_date', 'expected.first_period') }}
        as first_period_start_utc,
    {{ settlement_period_start_utc('expected.settlement_date', 'expected.last_period') }}
        as last_period_start_utc
from expected
left join known_gaps
    on expected.dataset = known_gaps.dataset and expected.settlement_date = known_gaps.settlement_date
