-- ISO-NE seven-day solar power forecast, hourly, MW: one report per day, each forecasting
-- up to eight market days (report_date is the day of the report).
with

source as (

    select * from {{ source_or_empty('isone', 'seven_day_solar_forecast', [
        ('report_date', 'date'),
        ('creation_date', 'timestamp'),
        ('creation_date_local', 'string'),
        ('creation_date_offset', 'string'),
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('hour_ending', 'string'),
        ('mw', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'string'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        report_date,
        {{ utc_timestamp('creation_date') }} as published_at_utc,
        {{ utc_timestamp('begin_date') }} as interval_start_utc,
        {{ add_seconds(utc_timestamp('begin_date'), 3600) }} as interval_end_utc,
        begin_date_local as interval_start_local,
        begin_date_offset as utc_offset,
        cast(substr(begin_date_local, 1, 10) as date) as market_date,
        hour_ending,
        mw as forecast_mw,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
