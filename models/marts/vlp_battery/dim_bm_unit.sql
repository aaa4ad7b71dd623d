-- One row per BM unit: who runs it, what it is, where it connects, its power station (Power
-- Station Dictionary; unknown when not listed), and whether it is a battery and/or run by a
-- virtual lead party (int_bm_units_classified says why).
with

units as (

    select * from {{ ref('int_bm_units_classified') }}

),

gsp_group_seed as (

    select * from {{ ref('gsp_groups') }}

),

plant_match as (

    select * from {{ ref('int_bm_units_matched_to_power_stations') }}

),

plants as (

    select * from {{ ref('power_stations') }}

)

select
    units.national_grid_bm_unit,
    units.elexon_bm_unit,
    units.bm_unit_name,
    units.bm_unit_type,
    units.fuel_type,
    units.lead_party_name,
    units.lead_party_id,
    units.generation_capacity_mw,
    units.demand_capacity_mw,
    units.gsp_group_id,
    gsp_group_seed.gsp_group_name,
    units.gsp_group_source,
    gsp_group_seed.dno_licence_area,
    gsp_group_seed.dno_group,
    cast(plant_match.power_station_id as {{ dbt.type_bigint() }}) as power_station_id,
    coalesce(nullif(plants.common_name, ''), plants.power_station_name) as power_station_name,
    cast(plants.latitude as {{ type_double() }}) as power_station_latitude,
    cast(plants.longitude as {{ type_double() }}) as power_station_longitude,
    coalesce(plant_match.power_station_match, 'unknown') as power_station_match,
    units.is_battery,
    units.battery_rule,
    units.battery_evidence,
    units.is_vlp_by_name,
    units.is_aggregator_code,
    units.multiple_assets,
    units.is_vlp_by_name or units.is_aggregator_code or units.multiple_assets as is_vlp
from units
left join gsp_group_seed on units.gsp_group_id = gsp_group_seed.gsp_group_id
left join plant_match on units.national_grid_bm_unit = plant_match.national_grid_bm_unit
left join plants on plant_match.power_station_id = plants.power_station_id
