-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'uou2t3yw', [
        ('dataset', 'string'),
        ('fuel_type', 'string'),
        ('national_grid_bm_unit', 'string'),
        ('bm_unit', 'string'),
        ('publish_time', 'timestamp'),
        ('week', 'integer'),
        ('year', 'integer'),
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
        fuel_type,
        national_grid_bm_unit,
        bm_unit,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        {{ adapter.quote('week') }},
        {{ adapter.quote('year') }},
        output_usable,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
