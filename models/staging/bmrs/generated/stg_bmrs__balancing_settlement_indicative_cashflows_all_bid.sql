-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_settlement_indicative_cashflows_all_bid', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('start_time', 'timestamp'),
        ('created_date_time', 'timestamp'),
        ('bm_unit', 'string'),
        ('bm_unit_type', 'string'),
        ('lead_party_name', 'string'),
        ('national_grid_bm_unit', 'string'),
        ('bid_offer_pair_cashflows', 'json'),
        ('total_cashflow', 'number'),
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
        bm_unit,
        bm_unit_type,
        lead_party_name,
        national_grid_bm_unit,
        bid_offer_pair_cashflows,
        total_cashflow,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
