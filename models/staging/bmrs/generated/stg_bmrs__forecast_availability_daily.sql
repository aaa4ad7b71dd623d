-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'forecast_availability_daily', [
        ('dataset', 'string'),
        ('publish_time', 'timestamp'),
        ('fuel_type', 'string'),
        ('ngc_bm_unit', 'string'),
        ('output_usable', 'integer'),
        ('forecast_date', 'date'),
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
        fuel_type,
        ngc_bm_unit,
        output_usable,
        forecast_date,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
