-- Each BM unit's CO2 emission factor for balancing estimates: its power station's own carbon
-- intensity for the latest year the Power Station Dictionary gives (2016-2020), else the factor
-- of its fuel (the registry's fuel type, else its plant's) in carbon_intensity_factors. Units
-- with neither (most supplier and virtual units, batteries without a fuel) get no factor.
with

units as (

    select * from {{ ref('int_bm_units_classified') }}

),

plant_match as (

    select * from {{ ref('int_bm_units_matched_to_power_stations') }}

),

plants as (

    select * from {{ ref('power_stations') }}

),

plant_intensity as (

    select
        power_station_id,
        year,
        carbon_intensity_gco2_per_kwh,
        row_number() over (partition by power_station_id order by year desc) as year_rank
    from {{ ref('power_station_carbon_intensity') }}

),

factors as (

    select * from {{ ref('carbon_intensity_factors') }}

),

chosen as (

    select
        units.national_grid_bm_unit,
        plant_match.power_station_id,
        plant_intensity.carbon_intensity_gco2_per_kwh as plant_factor,
        plant_intensity.year as plant_factor_year,
        coalesce(nullif(units.fuel_type, ''), nullif(plants.fuel_type, '')) as fuel_type
    from units
    left join plant_match on units.national_grid_bm_unit = plant_match.national_grid_bm_unit
    left join plants on plant_match.power_station_id = plants.power_station_id
    left join plant_intensity
        on
            plant_match.power_station_id = plant_intensity.power_station_id
            and plant_intensity.year_rank = 1

)

select
    chosen.national_grid_bm_unit,
    cast(chosen.power_station_id as {{ dbt.type_bigint() }}) as power_station_id,
    chosen.fuel_type,
    cast(coalesce(chosen.plant_factor, factors.factor_gco2_per_kwh) as {{ type_double() }})
        as emission_factor_gco2_per_kwh,
    case
        when chosen.plant_factor is not null
            then concat('plant ', cast(chosen.plant_factor_year as {{ dbt.type_string() }}))
        when factors.factor_gco2_per_kwh is not null then concat('fuel ', chosen.fuel_type)
        else 'none'
    end as emission_factor_source
from chosen
left join factors on chosen.fuel_type = factors.fuel_type
