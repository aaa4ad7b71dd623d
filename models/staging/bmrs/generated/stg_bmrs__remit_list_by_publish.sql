-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'remit_list_by_publish', [
        ('id', 'integer'),
        ('mrid', 'string'),
        ('revision_number', 'integer'),
        ('created_time', 'timestamp'),
        ('publish_time', 'timestamp'),
        ('url', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        id,
        mrid,
        revision_number,
        {{ utc_timestamp('created_time') }} as created_time_utc,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        url,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
