-- Actual generation per production (PSR) type per settlement period (AGPT / B1620), from the
-- Insights /generation/actual/per-type endpoint, unnested in
-- int_generation_actual_per_type_by_period.
-- Incremental by settlement day (macros/incremental.sql; lookback: var incremental_lookback_days).
{{ config(**incremental_by_day('settlement_date', ['psr_type'])) }}

{%- set window_start = incremental_window_start() %}

with

per_type as (

    select * from {{ ref('int_generation_actual_per_type_by_period') }}
    where {{ on_or_after('settlement_date', window_start) }}

)

select
    settlement_date,
    settlement_period,
    start_time_utc,
    psr_type,
    business_type,
    quantity_mw,
    -- a half-hour's average MW times half an hour (a DOUBLE, as every energy column in the marts)
    quantity_mw * 0.5 as quantity_mwh,
    substr(psr_type, 1, 4) = 'Wind' or psr_type = 'Solar' as is_wind_or_solar
from per_type
