-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'generation_outturn_current', [
        ('dataset', 'string'),
        ('fuel_type', 'string'),
        ('current_usage', 'integer'),
        ('current_percentage', 'number'),
        ('half_hour_usage', 'integer'),
        ('half_hour_percentage', 'number'),
        ('twenty_four_hour_usage', 'integer'),
        ('twenty_four_hour_percentage', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        fuel_type,
        current_usage,
        current_percentage,
        half_hour_usage,
        half_hour_percentage,
        twenty_four_hour_usage,
        twenty_four_hour_percentage,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
