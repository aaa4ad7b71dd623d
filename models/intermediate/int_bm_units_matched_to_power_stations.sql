-- Every registry BM unit with the Power Station Dictionary plant its National Grid id, else its
-- Elexon id, is listed under (power_stations seeds). A unit the dictionary does not list is of
-- unknown plant (the dictionary stops around 2021), never "not a plant".
with

units as (

    select * from {{ ref('int_bm_units_deduplicated') }}

),

bridge as (

    select * from {{ ref('bm_unit_power_stations') }}

),

by_national_grid_id as (

    select
        bm_unit_id,
        power_station_id
    from bridge
    where bm_unit_id_kind = 'national_grid'

),

by_elexon_id as (

    select
        bm_unit_id,
        power_station_id
    from bridge
    where bm_unit_id_kind = 'elexon'

)

select
    units.national_grid_bm_unit,
    units.elexon_bm_unit,
    coalesce(by_national_grid_id.power_station_id, by_elexon_id.power_station_id) as power_station_id,
    case
        when by_national_grid_id.power_station_id is not null and by_elexon_id.power_station_id is not null
            then 'both_ids'
        when by_national_grid_id.power_station_id is not null then 'national_grid_id'
        when by_elexon_id.power_station_id is not null then 'elexon_id'
        else 'unknown'
    end as power_station_match
from units
left join by_national_grid_id on units.national_grid_bm_unit = by_national_grid_id.bm_unit_id
left join by_elexon_id on units.elexon_bm_unit = by_elexon_id.bm_unit_id
