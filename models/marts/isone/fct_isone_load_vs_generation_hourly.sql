-- Hourly system load (NEPOOL area) against generation from the fuel mix: generation is the
-- mean, over the hour, of the total of all fuels at each published instant (the mix is
-- published irregularly, about every five minutes; `mix_instants` says how many went in).
-- Load minus generation is what imports (net of exports) and unreported sources covered.
{{ config(**partitioned_by_day('market_date')) }}

with

system_load as (

    select
        interval_start_utc as hour_start_utc,
        interval_start_local as hour_start_local,
        utc_offset,
        market_date,
        load_mw,
        native_load_mw
    from {{ ref('stg_isone__hourly_system_load') }}
    where location_id = 32

),

mix_totals as (

    select
        observed_at_utc,
        min(observed_at_local) as observed_at_local,
        sum(generation_mw) as generation_mw
    from {{ ref('stg_isone__fuel_mix') }}
    group by 1

),

generation as (

    select
        {{ floor_to_seconds('observed_at_utc', 3600) }} as hour_start_utc,
        min(observed_at_local) as first_instant_local,
        avg(generation_mw) as generation_mw,
        count(*) as mix_instants
    from mix_totals
    group by 1

),

hours as (

    select hour_start_utc from system_load
    union distinct
    select hour_start_utc from generation

)

select
    hours.hour_start_utc,
    system_load.hour_start_local,
    system_load.utc_offset,
    system_load.load_mw,
    system_load.native_load_mw,
    generation.generation_mw,
    generation.mix_instants,
    coalesce(
        system_load.market_date, cast(substr(generation.first_instant_local, 1, 10) as date)
    ) as market_date,
    system_load.load_mw - generation.generation_mw as load_minus_generation_mw
from hours
left join system_load on hours.hour_start_utc = system_load.hour_start_utc
left join generation on hours.hour_start_utc = generation.hour_start_utc
