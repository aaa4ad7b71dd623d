-- Per resolution (half_hour from FUELHH, 5_minute from FUELINST) and interval: the supply energy
-- and CO2 of the transmission-metered mix, and its generation-weighted carbon intensity with and
-- without imports. Energy without a published factor (a new fuel code; North Sea Link and Viking
-- Link imports) is left out of the weighted averages and counted in its own column.
with

mix as (

    select * from {{ ref('int_generation_mix_with_emission_factors') }}

),

summed as (

    select
        resolution,
        settlement_date,
        settlement_period,
        interval_start_utc,
        count(*) as fuel_types,
        sum(case when not is_interconnector and factor_gco2_per_kwh is not null then supply_mwh else 0 end)
            as generation_mwh,
        sum(case when not is_interconnector and factor_gco2_per_kwh is null then supply_mwh else 0 end)
            as unfactored_generation_mwh,
        sum(case when is_interconnector and factor_gco2_per_kwh is not null then supply_mwh else 0 end)
            as import_mwh,
        sum(case when is_interconnector and factor_gco2_per_kwh is null then supply_mwh else 0 end)
            as unfactored_import_mwh,
        sum(export_mwh) as export_mwh,
        -- MWh x gCO2/kWh = kgCO2; / 1000 = tonnes
        sum(case when not is_interconnector then supply_mwh * factor_gco2_per_kwh else 0 end) / 1000
            as generation_emissions_tco2,
        sum(case when is_interconnector then supply_mwh * factor_gco2_per_kwh else 0 end) / 1000
            as import_emissions_tco2
    from mix
    group by 1, 2, 3, 4

)

select
    resolution,
    settlement_date,
    settlement_period,
    interval_start_utc,
    cast(fuel_types as {{ dbt.type_bigint() }}) as fuel_types,
    cast(generation_mwh as {{ type_double() }}) as generation_mwh,
    cast(import_mwh as {{ type_double() }}) as import_mwh,
    cast(export_mwh as {{ type_double() }}) as export_mwh,
    cast(unfactored_generation_mwh as {{ type_double() }}) as unfactored_generation_mwh,
    cast(unfactored_import_mwh as {{ type_double() }}) as unfactored_import_mwh,
    cast(generation_emissions_tco2 as {{ type_double() }}) as generation_emissions_tco2,
    cast(import_emissions_tco2 as {{ type_double() }}) as import_emissions_tco2,
    -- tCO2 x 1000 / MWh = gCO2/kWh
    cast(generation_emissions_tco2 * 1000 / nullif(generation_mwh, 0) as {{ type_double() }})
        as carbon_intensity_gco2_per_kwh,
    cast(
        (generation_emissions_tco2 + import_emissions_tco2) * 1000 / nullif(generation_mwh + import_mwh, 0)
        as {{ type_double() }}
    ) as import_adjusted_carbon_intensity_gco2_per_kwh
from summed
