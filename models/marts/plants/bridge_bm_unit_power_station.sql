-- One row per BM unit id the Power Station Dictionary names (National Grid or Elexon), with its
-- plant and, where the BM unit registry holds the unit, the registry's pair of ids. The dictionary
-- lists each plant's two kinds of id separately, so a unit the registry no longer holds keeps
-- only the id the dictionary wrote.
with

bridge as (

    select * from {{ ref('bm_unit_power_stations') }}

),

units as (

    select * from {{ ref('int_bm_units_deduplicated') }}

),

paired as (

    select
        bridge.power_station_id,
        bridge.bm_unit_id,
        bridge.bm_unit_id_kind,
        coalesce(by_national_grid_id.national_grid_bm_unit, by_elexon_id.national_grid_bm_unit)
            as registry_national_grid_bm_unit,
        coalesce(by_national_grid_id.elexon_bm_unit, by_elexon_id.elexon_bm_unit) as registry_elexon_bm_unit
    from bridge
    left join units as by_national_grid_id
        on
            bridge.bm_unit_id_kind = 'national_grid'
            and bridge.bm_unit_id = by_national_grid_id.national_grid_bm_unit
    left join units as by_elexon_id
        on
            bridge.bm_unit_id_kind = 'elexon'
            and bridge.bm_unit_id = by_elexon_id.elexon_bm_unit

)

select
    cast(power_station_id as {{ dbt.type_bigint() }}) as power_station_id,
    bm_unit_id,
    bm_unit_id_kind,
    case when bm_unit_id_kind = 'national_grid' then bm_unit_id else registry_national_grid_bm_unit end
        as national_grid_bm_unit,
    case when bm_unit_id_kind = 'elexon' then bm_unit_id else registry_elexon_bm_unit end as elexon_bm_unit,
    registry_national_grid_bm_unit is not null as in_registry
from paired
