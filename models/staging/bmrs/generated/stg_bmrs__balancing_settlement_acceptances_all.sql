-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_settlement_acceptances_all', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('bm_unit', 'string'),
        ('national_grid_bm_unit', 'string'),
        ('acceptance_number', 'integer'),
        ('acceptance_time', 'timestamp'),
        ('bid_price', 'number'),
        ('offer_price', 'number'),
        ('bid_offer_pair_id', 'integer'),
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
        bm_unit,
        national_grid_bm_unit,
        acceptance_number,
        {{ utc_timestamp('acceptance_time') }} as acceptance_time_utc,
        bid_price,
        offer_price,
        bid_offer_pair_id,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
