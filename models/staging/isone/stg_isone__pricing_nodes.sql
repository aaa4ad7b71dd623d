-- ISO-NE pricing locations, node to zone crosswalk: every node ever loaded, flagged when it was
-- in the latest list. History: snapshots/isone_pricing_nodes_snapshot.
with

source as (

    select * from {{ source_or_empty('isone', 'pricing_nodes', [
        ('location_id', 'integer'),
        ('location_type', 'string'),
        ('location_name', 'string'),
        ('area_type', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'string'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        cast(location_id as {{ dbt.type_int() }}) as location_id,
        location_name,
        location_type,
        area_type,
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
