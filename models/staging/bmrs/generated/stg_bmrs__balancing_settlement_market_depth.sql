-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_settlement_market_depth', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('indicated_imbalance', 'integer'),
        ('offer_volume', 'number'),
        ('bid_volume', 'number'),
        ('total_accepted_offer_volume', 'number'),
        ('total_accepted_bid_volume', 'number'),
        ('priced_accepted_offers_volume', 'number'),
        ('priced_accepted_bids_volume', 'number'),
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
        indicated_imbalance,
        offer_volume,
        bid_volume,
        total_accepted_offer_volume,
        total_accepted_bid_volume,
        priced_accepted_offers_volume,
        priced_accepted_bids_volume,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
