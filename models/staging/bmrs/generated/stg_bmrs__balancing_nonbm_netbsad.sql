-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_nonbm_netbsad', [
        ('start_time', 'timestamp'),
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('net_buy_price_cost_adjustment_energy', 'number'),
        ('net_buy_price_volume_adjustment_energy', 'number'),
        ('net_buy_price_volume_adjustment_system', 'number'),
        ('buy_price_price_adjustment', 'number'),
        ('net_sell_price_cost_adjustment_energy', 'number'),
        ('net_sell_price_volume_adjustment_energy', 'number'),
        ('net_sell_price_volume_adjustment_system', 'number'),
        ('sell_price_price_adjustment', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        {{ utc_timestamp('start_time') }} as start_time_utc,
        settlement_date,
        settlement_period,
        net_buy_price_cost_adjustment_energy,
        net_buy_price_volume_adjustment_energy,
        net_buy_price_volume_adjustment_system,
        buy_price_price_adjustment,
        net_sell_price_cost_adjustment_energy,
        net_sell_price_volume_adjustment_energy,
        net_sell_price_volume_adjustment_system,
        sell_price_price_adjustment,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
