-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'feib', [
        ('dataset', 'string'),
        ('document_id', 'string'),
        ('document_revision_number', 'integer'),
        ('publish_time', 'timestamp'),
        ('status', 'string'),
        ('year', 'integer'),
        ('month', 'string'),
        ('amount', 'number'),
        ('price_direction', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        document_id,
        document_revision_number,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        status,
        {{ adapter.quote('year') }},
        {{ adapter.quote('month') }},
        amount,
        price_direction,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
