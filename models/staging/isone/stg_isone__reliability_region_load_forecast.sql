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
        ('reliability_region_load_percentage', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'string'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        {{ utc_timestamp('begin_date') }} as interval_start_utc,
        {{ add_seconds(utc_timestamp('begin_date'), 3600) }} as interval_end_utc,
        begin_date_local as interval_start_local,
        begin_date_offset as utc_offset,
        cast(substr(begin_date_local, 1, 10) as date) as market_date,
        {{ utc_timestamp('creation_date') }} as published_at_utc,
        reliability_region,
        load_mw as load_forecast_mw,
        reliability_region_load_percentage as share_of_system_pct,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
