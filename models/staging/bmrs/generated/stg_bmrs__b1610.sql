-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'b1610', [
        ('dataset', 'string'),
        ('psr_type', 'string'),
        ('bm_unit', 'string'),
        ('national_grid_bm_unit_id', 'string'),
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('half_hour_end_time', 'timestamp'),
        ('quantity', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        psr_type,
        bm_unit,
        national_grid_bm_unit_id,
        settlement_date,
        settlement_period,
        {{ utc_timestamp('half_hour_end_time') }} as half_hour_end_time_utc,
        quantity,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
