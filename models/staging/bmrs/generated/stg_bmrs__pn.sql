-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'pn', [
        ('dataset', 'string'),
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('time_from', 'timestamp'),
        ('time_to', 'timestamp'),
        ('level_from', 'integer'),
        ('level_to', 'integer'),
        ('national_grid_bm_unit', 'string'),
        ('bm_unit', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        settlement_date,
        settlement_period,
        {{ utc_timestamp('time_from') }} as time_from_utc,
        {{ utc_timestamp('time_to') }} as time_to_utc,
        level_from,
        level_to,
        national_grid_bm_unit,
        bm_unit,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
