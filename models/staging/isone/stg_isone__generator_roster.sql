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
        ('scc_winter_mw', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'string'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

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
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

),

latest as (

    {{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}

)

select
    *,
    loaded_at_utc = max(loaded_at_utc) over () as is_in_latest_load
from latest
