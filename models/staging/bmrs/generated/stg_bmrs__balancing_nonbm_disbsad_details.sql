-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_nonbm_disbsad_details', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('start_time', 'timestamp'),
        ('id', 'integer'),
        ('cost', 'number'),
        ('volume', 'number'),
        ('price', 'number'),
        ('so_flag', 'boolean'),
        ('stor_flag', 'boolean'),
        ('party_id', 'string'),
        ('asset_id', 'string'),
        ('is_tendered', 'boolean'),
        ('service', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        settlement_date,
        settlement_period,
        {{ utc_timestamp('start_time') }} as start_time_utc,
        id,
        {{ adapter.quote('cost') }},
        volume,
        price,
        so_flag,
        stor_flag,
        party_id,
        asset_id,
        is_tendered,
        service,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
