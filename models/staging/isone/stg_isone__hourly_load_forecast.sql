-- ISO-NE system hourly load forecast, every published vintage, MW.
with

source as (

    select * from {{ source_or_empty('isone', 'hourly_load_forecast', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('creation_date', 'timestamp'),
        ('creation_date_local', 'string'),
        ('creation_date_offset', 'string'),
        ('load_mw', 'number'),
        ('net_load_mw', 'number')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        {{ isone_interval_columns(3600) }},
        {{ utc_timestamp('creation_date') }} as published_at_utc,
        load_mw as load_forecast_mw,
        net_load_mw as net_load_forecast_mw,
        {{ staged_standard_columns() }}
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
