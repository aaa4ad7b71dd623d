-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_dynamic_all', [
        ('dataset', 'string'),
        ('bm_unit', 'string'),
        ('national_grid_bm_unit', 'string'),
        ('time', 'timestamp'),
        ('value', 'integer'),
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        bm_unit,
        national_grid_bm_unit,
        {{ utc_timestamp(adapter.quote('time')) }} as time_utc,
        {{ adapter.quote('value') }},
        settlement_date,
        settlement_period,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
