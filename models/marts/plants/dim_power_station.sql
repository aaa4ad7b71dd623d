-- One row per power station of the Power Station Dictionary: its ids, location, nearest GSP
-- (with the distance) and that GSP's group and DNO, its latest plant-level carbon intensity, and
-- what the BM unit registry holds of it today.
with

plants as (

    select * from {{ ref('power_stations') }}

),

located as (

    select * from {{ ref('int_power_stations_located_to_gsp') }}

),

gsp_group_seed as (

    select * from {{ ref('gsp_groups') }}

),

intensity_ranked as (

    select
        power_station_id,
        year,
        carbon_intensity_gco2_per_kwh,
        row_number() over (partition by power_station_id order by year desc) as year_rank
    from {{ ref('power_station_carbon_intensity') }}

),

registry_units as (

    select
        plant_matches.power_station_id,
        count(*) as registry_bm_units,
        sum(units.generation_capacity_mw) as registry_generation_capacity_mw
    from {{ ref('int_bm_units_matched_to_power_stations') }} as plant_matches
    inner join {{ ref('int_bm_units_classified') }} as units
        on plant_matches.national_grid_bm_unit = units.national_grid_bm_unit
    where plant_matches.power_station_id is not null
    group by plant_matches.power_station_id

)

select
    cast(plants.power_station_id as {{ dbt.type_bigint() }}) as power_station_id,
    plants.power_station_name,
    plants.common_name,
    plants.fuel_type,
    cast(plants.latitude as {{ type_double() }}) as latitude,
    cast(plants.longitude as {{ type_double() }}) as longitude,
    plants.eic_ids,
    plants.gppd_ids,
    plants.old_repd_ids,
    plants.new_repd_ids,
    plants.wikidata_id,
    plants.eutl_ids,
    cast(located.nearest_gsp_id as {{ dbt.type_bigint() }}) as nearest_gsp_id,
    located.nearest_gsp_name,
    located.nearest_gsp_distance_km,
    located.nearest_gsp_group_id as gsp_group_id,
    gsp_group_seed.gsp_group_name,
    gsp_group_seed.dno_licence_area,
    gsp_group_seed.dno_group,
    cast(intensity_ranked.year as {{ dbt.type_bigint() }}) as carbon_intensity_year,
    cast(intensity_ranked.carbon_intensity_gco2_per_kwh as {{ type_double() }}) as carbon_intensity_gco2_per_kwh,
    cast(coalesce(registry_units.registry_bm_units, 0) as {{ dbt.type_bigint() }}) as registry_bm_units,
    cast(coalesce(registry_units.registry_generation_capacity_mw, 0) as {{ type_double() }})
        as registry_generation_capacity_mw
from plants
left join located on plants.power_station_id = located.power_station_id
left join gsp_group_seed on located.nearest_gsp_group_id = gsp_group_seed.gsp_group_id
left join intensity_ranked
    on
        plants.power_station_id = intensity_ranked.power_station_id
        and intensity_ranked.year_rank = 1
left join registry_units on plants.power_station_id = registry_units.power_station_id
