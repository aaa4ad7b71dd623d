-- Generation by fuel type per settlement period (FUELHH half-hourly outturn, latest publication),
-- interconnectors flagged so they can be split out (their fuel types start INT).
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date', ['fuel_type'])) }}

{%- set window_start = incremental_window_start() %}

with

fuelhh as (

    select * from {{ ref('stg_bmrs__fuelhh') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

outturn as (

    {{ latest_per_key('fuelhh', 'settlement_date, settlement_period, fuel_type', 'publish_time_utc desc') }}

)

select
    settlement_date,
    settlement_period,
    settlement_period_start_utc,
    fuel_type,
    cast(generation as {{ type_double() }}) as generation_mw,
    publish_time_utc,
    substr(fuel_type, 1, 3) = 'INT' as is_interconnector,
    -- a half-hour's average MW times half an hour (a DOUBLE, as every energy column in the marts)
    cast(generation as {{ type_double() }}) * 0.5 as generation_mwh
from outturn
