-- The transmission-metered generation mix with each fuel's emission factor, at both resolutions
-- Elexon publishes: FUELHH (half-hourly outturn, latest publication per period and fuel) and
-- FUELINST (5-minute instantaneous outturn, latest per instant and fuel). Per row, the supply
-- energy the mix counts: generation, and interconnector flows into GB (imports); exports and
-- negative readings are not GB supply and count as zero, kept apart in export_mwh.
with

half_hourly as (

    select
        'half_hour' as resolution,
        settlement_date,
        settlement_period,
        settlement_period_start_utc as interval_start_utc,
        fuel_type,
        generation_mw,
        generation_mwh
    from {{ ref('fct_generation_mix_by_period') }}

),

five_minute_latest as (

    {{ latest_per_key(ref('stg_bmrs__fuelinst'), 'start_time_utc, fuel_type', 'publish_time_utc desc') }}

),

five_minute as (

    select
        '5_minute' as resolution,
        settlement_date,
        settlement_period,
        start_time_utc as interval_start_utc,
        fuel_type,
        generation as generation_mw,
        -- a FUELINST figure is the MW of its 5-minute interval: energy over 5/60 h
        generation * 5.0 / 60 as generation_mwh
    from five_minute_latest

),

mix as (

    select * from half_hourly
    union all
    select * from five_minute

)

select
    mix.resolution,
    mix.settlement_date,
    cast(mix.settlement_period as {{ dbt.type_bigint() }}) as settlement_period,
    mix.interval_start_utc,
    mix.fuel_type,
    substr(mix.fuel_type, 1, 3) = 'INT' as is_interconnector,
    cast(mix.generation_mw as {{ type_double() }}) as generation_mw,
    cast(greatest(mix.generation_mwh, 0) as {{ type_double() }}) as supply_mwh,
    cast(greatest(-mix.generation_mwh, 0) as {{ type_double() }}) as export_mwh,
    cast(factors.factor_gco2_per_kwh as {{ type_double() }}) as factor_gco2_per_kwh
from mix
left join {{ ref('carbon_intensity_factors') }} as factors on mix.fuel_type = factors.fuel_type
