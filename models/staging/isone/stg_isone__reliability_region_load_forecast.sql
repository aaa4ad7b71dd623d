-- ISO-NE hourly load forecast per reliability region, every published vintage.
with

source as (

    select * from {{ source_or_empty('isone', 'reliability_region_load_forecast', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('creation_date', 'timestamp'),
        ('creation_date_local', 'string'),
        ('creation_date_offset', 'string'),
        ('reliability_region', 'string'),
        ('load_mw', 'number'),
        ('reliability_region_load_percentage', 'number')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        {{ isone_interval_columns(3600) }},
        {{ utc_timestamp('creation_date') }} as published_at_utc,
        reliability_region,
        load_mw as load_forecast_mw,
        reliability_region_load_percentage as share_of_system_pct,
        {{ staged_standard_columns() }}
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
