-- ISO-NE five-minute regulation clearing prices (final), $/MW: service and capacity. No
-- recording exists: the shape follows the service documentation.
with

source as (

    select * from {{ source_or_empty('isone', 'five_minute_rcp', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('reg_service_clearing_price', 'number'),
        ('reg_capacity_clearing_price', 'number'),
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
        reg_service_clearing_price as regulation_service_price,
        reg_capacity_clearing_price as regulation_capacity_price,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
