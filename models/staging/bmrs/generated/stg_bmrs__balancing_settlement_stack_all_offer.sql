-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_settlement_stack_all_offer', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('start_time', 'timestamp'),
        ('created_date_time', 'timestamp'),
        ('sequence_number', 'integer'),
        ('id', 'string'),
        ('acceptance_id', 'integer'),
        ('bid_offer_pair_id', 'integer'),
        ('cadl_flag', 'boolean'),
        ('so_flag', 'boolean'),
        ('stor_provider_flag', 'boolean'),
        ('repriced_indicator', 'boolean'),
        ('reserve_scarcity_price', 'number'),
        ('original_price', 'number'),
        ('volume', 'number'),
        ('dmat_adjusted_volume', 'number'),
        ('arbitrage_adjusted_volume', 'number'),
        ('niv_adjusted_volume', 'number'),
        ('par_adjusted_volume', 'number'),
        ('final_price', 'number'),
        ('transmission_loss_multiplier', 'number'),
        ('tlm_adjusted_volume', 'number'),
        ('tlm_adjusted_cost', 'number'),
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
        sequence_number,
        id,
        acceptance_id,
        bid_offer_pair_id,
        cadl_flag,
        so_flag,
        stor_provider_flag,
        repriced_indicator,
        reserve_scarcity_price,
        original_price,
        volume,
        dmat_adjusted_volume,
        arbitrage_adjusted_volume,
        niv_adjusted_volume,
        par_adjusted_volume,
        final_price,
        transmission_loss_multiplier,
        tlm_adjusted_volume,
        tlm_adjusted_cost,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
