-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'temperature', [
        ('measurement_date', 'date'),
        ('publish_time', 'timestamp'),
        ('temperature', 'number'),
        ('temperature_reference_average', 'number'),
        ('temperature_reference_high', 'number'),
        ('temperature_reference_low', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        measurement_date,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        temperature,
        temperature_reference_average,
        temperature_reference_high,
        temperature_reference_low,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
