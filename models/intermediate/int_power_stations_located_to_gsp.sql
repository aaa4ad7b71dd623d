-- Each located power station with its nearest grid supply point by great-circle distance (ties:
-- the lower GSP id), the distance kept so a far match can be judged. Nearest is a proxy for
-- where a plant connects: the GSP points carry no connection data.
with

plants as (

    select * from {{ ref('power_stations') }}
    where latitude is not null and longitude is not null

),

gsps as (

    select * from {{ ref('gsps') }}

),

distances as (

    select
        plants.power_station_id,
        gsps.gsp_id,
        gsps.gsp_name,
        gsps.gsp_group_id,
        cast(
            {{ great_circle_km('plants.latitude', 'plants.longitude', 'gsps.latitude', 'gsps.longitude') }}
            as {{ type_double() }}
        ) as gsp_distance_km
    from plants
    cross join gsps

),

ranked as (

    select
        *,
        row_number() over (partition by power_station_id order by gsp_distance_km asc, gsp_id asc) as gsp_rank
    from distances

)

select
    power_station_id,
    gsp_id as nearest_gsp_id,
    gsp_name as nearest_gsp_name,
    gsp_group_id as nearest_gsp_group_id,
    gsp_distance_km as nearest_gsp_distance_km
from ranked
where gsp_rank = 1
