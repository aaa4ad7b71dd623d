-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'soso_prices', [
        ('contract_identification', 'string'),
        ('trade_direction', 'string'),
        ('trade_quantity', 'number'),
        ('trade_price', 'number'),
        ('trader_unit', 'string'),
        ('start_time', 'timestamp'),
        ('settlement_date', 'date'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        contract_identification,
        trade_direction,
        trade_quantity,
        trade_price,
        trader_unit,
        {{ utc_timestamp('start_time') }} as start_time_utc,
        settlement_date,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
