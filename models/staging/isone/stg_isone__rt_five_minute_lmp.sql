-- ISO-NE real-time five-minute LMP (preliminary) per pricing location, $/MWh, with components.
-- No recording exists: the shape follows the service documentation.
with

source as (

    select * from {{ source_or_empty('isone', 'rt_five_minute_lmp', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('location', 'string'),
        ('loc_id', 'string'),
        ('loc_type', 'string'),
        ('lmp_total', 'number'),
        ('energy_component', 'number'),
        ('congestion_component', 'number'),
        ('loss_component', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'string'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        {{ utc_timestamp('begin_date') }} as interval_start_utc,
        {{ add_seconds(utc_timestamp('begin_date'), 300) }} as interval_end_utc,
        begin_date_local as interval_start_local,
        begin_date_offset as utc_offset,
        cast(substr(begin_date_local, 1, 10) as date) as market_date,
        cast(loc_id as {{ dbt.type_int() }}) as location_id,
        location as location_name,
        loc_type as location_type,
        lmp_total as lmp,
        energy_component,
        congestion_component,
        loss_component,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
