-- ISO-NE five-minute regulation clearing prices (final), $/MW: service and capacity. No
-- recording exists: the shape follows the service documentation.
with

source as (

    select * from {{ source_or_empty('isone', 'five_minute_rcp', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('reg_service_clearing_price', 'number'),
        ('reg_capacity_clearing_price', 'number')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        {{ isone_interval_columns(300) }},
        reg_service_clearing_price as regulation_service_price,
        reg_capacity_clearing_price as regulation_capacity_price,
        {{ staged_standard_columns() }}
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
