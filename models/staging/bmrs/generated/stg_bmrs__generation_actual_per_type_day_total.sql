-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'generation_actual_per_type_day_total', [
        ('psr_type', 'string'),
        ('half_hour_usage', 'number'),
        ('half_hour_percentage', 'number'),
        ('twenty_four_hour_usage', 'number'),
        ('twenty_four_hour_percentage', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        psr_type,
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
