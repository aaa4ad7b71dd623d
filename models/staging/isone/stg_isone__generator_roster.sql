-- ISO-NE generator roster (assets, fuel, load zone, seasonal claimed capability): every asset
-- ever loaded, flagged when it was in the latest list. History: snapshots/isone_generator_roster_snapshot.
with

source as (

    select * from {{ source_or_empty('isone', 'generator_roster', [
        ('asset_id', 'integer'),
        ('asset_name', 'string'),
        ('asset_type', 'string'),
        ('fuel_type', 'string'),
        ('load_zone', 'string'),
        ('scc_summer_mw', 'number'),
        ('scc_winter_mw', 'number')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        cast(asset_id as {{ dbt.type_int() }}) as asset_id,
        asset_name,
        asset_type,
        fuel_type,
        load_zone,
        scc_summer_mw,
        scc_winter_mw,
        {{ staged_standard_columns() }}
    from source

),

latest as (

    {{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}

)

select
    *,
    loaded_at_utc = max(loaded_at_utc) over () as is_in_latest_load
from latest
