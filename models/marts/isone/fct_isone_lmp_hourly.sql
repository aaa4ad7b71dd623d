-- Hourly LMP per pricing location (the hub and load zones the loader is configured for): the
-- day-ahead price beside the real-time price averaged over the hour's five-minute intervals,
-- and the spread between them (real-time minus day-ahead). An hour priced in only one market
-- keeps its row, with the other side null.
{{ config(**partitioned_by_day('market_date', ['location_id'])) }}

with

day_ahead as (

    select
        location_id,
        location_name,
        location_type,
        interval_start_utc as hour_start_utc,
        interval_start_local as hour_start_local,
        market_date,
        lmp as da_lmp,
        energy_component as da_energy_component,
        congestion_component as da_congestion_component,
        loss_component as da_loss_component
    from {{ ref('stg_isone__da_hourly_lmp') }}

),

real_time as (

    select
        location_id,
        {{ floor_to_seconds('interval_start_utc', 3600) }} as hour_start_utc,
        max(location_name) as location_name,
        max(location_type) as location_type,
        min(interval_start_local) as hour_start_local,
        min(market_date) as market_date,
        avg(lmp) as rt_lmp,
        avg(congestion_component) as rt_congestion_component,
        count(*) as rt_intervals
    from {{ ref('stg_isone__rt_five_minute_lmp') }}
    group by 1, 2

),

hours as (

    select
        location_id,
        hour_start_utc
    from day_ahead
    union distinct
    select
        location_id,
        hour_start_utc
    from real_time

)

select
    hours.location_id,
    hours.hour_start_utc,
    day_ahead.da_lmp,
    day_ahead.da_energy_component,
    day_ahead.da_congestion_component,
    day_ahead.da_loss_component,
    real_time.rt_lmp,
    real_time.rt_congestion_component,
    real_time.rt_intervals,
    coalesce(day_ahead.location_name, real_time.location_name) as location_name,
    coalesce(day_ahead.location_type, real_time.location_type) as location_type,
    coalesce(day_ahead.hour_start_local, real_time.hour_start_local) as hour_start_local,
    coalesce(day_ahead.market_date, real_time.market_date) as market_date,
    real_time.rt_lmp - day_ahead.da_lmp as rt_minus_da_spread
from hours
left join day_ahead
    on
        hours.location_id = day_ahead.location_id
        and hours.hour_start_utc = day_ahead.hour_start_utc
left join real_time
    on
        hours.location_id = real_time.location_id
        and hours.hour_start_utc = real_time.hour_start_utc
