-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'system_prices', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('start_time', 'timestamp'),
        ('created_date_time', 'timestamp'),
        ('system_sell_price', 'number'),
        ('system_buy_price', 'number'),
        ('bsad_defaulted', 'boolean'),
        ('price_derivation_code', 'string'),
        ('reserve_scarcity_price', 'number'),
        ('net_imbalance_volume', 'number'),
        ('sell_price_adjustment', 'number'),
        ('buy_price_adjustment', 'number'),
        ('replacement_price', 'number'),
        ('replacement_price_reference_volume', 'number'),
        ('total_accepted_offer_volume', 'number'),
        ('total_accepted_bid_volume', 'number'),
        ('total_adjustment_sell_volume', 'number'),
        ('total_adjustment_buy_volume', 'number'),
        ('total_system_tagged_accepted_offer_volume', 'number'),
        ('total_system_tagged_accepted_bid_volume', 'number'),
        ('total_system_tagged_adjustment_sell_volume', 'number'),
        ('total_system_tagged_adjustment_buy_volume', 'number'),
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
        {{ utc_timestamp('created_date_time') }} as created_date_time_utc,
        system_sell_price,
        system_buy_price,
        bsad_defaulted,
        price_derivation_code,
        reserve_scarcity_price,
        net_imbalance_volume,
        sell_price_adjustment,
        buy_price_adjustment,
        replacement_price,
        replacement_price_reference_volume,
        total_accepted_offer_volume,
        total_accepted_bid_volume,
        total_adjustment_sell_volume,
        total_adjustment_buy_volume,
        total_system_tagged_accepted_offer_volume,
        total_system_tagged_accepted_bid_volume,
        total_system_tagged_adjustment_sell_volume,
        total_system_tagged_adjustment_buy_volume,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
