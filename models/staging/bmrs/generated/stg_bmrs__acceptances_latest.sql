-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'acceptances_latest', [
        ('settlement_date', 'date'),
        ('settlement_period_from', 'integer'),
        ('settlement_period_to', 'integer'),
        ('time_from', 'timestamp'),
        ('time_to', 'timestamp'),
        ('level_from', 'integer'),
        ('level_to', 'integer'),
        ('national_grid_bm_unit', 'string'),
        ('bm_unit', 'string'),
        ('acceptance_number', 'integer'),
        ('acceptance_time', 'timestamp'),
        ('deemed_bo_flag', 'boolean'),
        ('so_flag', 'boolean'),
        ('stor_flag', 'boolean'),
        ('rr_flag', 'boolean'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        settlement_date,
        settlement_period_from,
        settlement_period_to,
        {{ utc_timestamp('time_from') }} as time_from_utc,
        {{ utc_timestamp('time_to') }} as time_to_utc,
        level_from,
        level_to,
        national_grid_bm_unit,
        bm_unit,
        acceptance_number,
        {{ utc_timestamp('acceptance_time') }} as acceptance_time_utc,
        deemed_bo_flag,
        so_flag,
        stor_flag,
        rr_flag,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
