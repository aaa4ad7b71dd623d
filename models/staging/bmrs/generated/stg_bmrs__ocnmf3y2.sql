-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'ocnmf3y2', [
        ('dataset', 'string'),
        ('publish_time', 'timestamp'),
        ('week', 'integer'),
        ('year', 'integer'),
        ('margin', 'integer'),
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
        {{ adapter.quote('week') }},
        {{ adapter.quote('year') }},
        margin,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
