-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_nonbm_disbsad_summary', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('start_time', 'timestamp'),
        ('buy_action_count', 'integer'),
        ('sell_action_count', 'integer'),
        ('buy_price_minimum', 'number'),
        ('buy_price_maximum', 'number'),
        ('buy_price_average', 'number'),
        ('sell_price_minimum', 'number'),
        ('sell_price_maximum', 'number'),
        ('sell_price_average', 'number'),
        ('buy_volume_total', 'number'),
        ('sell_volume_total', 'number'),
        ('net_volume', 'number'),
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
        buy_action_count,
        sell_action_count,
        buy_price_minimum,
        buy_price_maximum,
        buy_price_average,
        sell_price_minimum,
        sell_price_maximum,
        sell_price_average,
        buy_volume_total,
        sell_volume_total,
        net_volume,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
