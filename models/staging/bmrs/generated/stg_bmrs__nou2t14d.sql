-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'nou2t14d', [
        ('dataset', 'string'),
        ('publish_time', 'timestamp'),
        ('system_zone', 'string'),
        ('forecast_date', 'date'),
        ('forecast_date_timezone', 'string'),
        ('output_usable', 'integer'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        system_zone,
        forecast_date,
        forecast_date_timezone,
        output_usable,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
