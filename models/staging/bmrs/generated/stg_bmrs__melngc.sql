-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'melngc', [
        ('dataset', 'string'),
        ('margin', 'integer'),
        ('publish_time', 'timestamp'),
        ('start_time', 'timestamp'),
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('boundary', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        margin,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        {{ utc_timestamp('start_time') }} as start_time_utc,
        settlement_date,
        settlement_period,
        boundary,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
