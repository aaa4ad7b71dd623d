-- Bid-offer acceptance levels (BOALF): one row per acceptance segment, the accepted MW level
-- moving linearly from level_from to level_to between time_from and time_to.
with

source as (

    select * from {{ source_or_empty('bmrs', 'boalf', [
        ('dataset', 'string'),
        ('settlement_date', 'date'),
        ('settlement_period_from', 'integer'),
        ('settlement_period_to', 'integer'),
        ('time_from', 'timestamp'),
        ('time_to', 'timestamp'),
        ('level_from', 'integer'),
        ('level_to', 'integer'),
        ('acceptance_number', 'integer'),
        ('acceptance_time', 'timestamp'),
        ('deemed_bo_flag', 'boolean'),
        ('so_flag', 'boolean'),
        ('amendment_flag', 'string'),
        ('stor_flag', 'boolean'),
        ('rr_flag', 'boolean'),
        ('national_grid_bm_unit', 'string'),
        ('bm_unit', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        national_grid_bm_unit,
        bm_unit,
        acceptance_number,
        {{ utc_timestamp('acceptance_time') }} as acceptance_time_utc,
        settlement_date,
        cast(settlement_period_from as {{ dbt.type_int() }}) as settlement_period_from,
        cast(settlement_period_to as {{ dbt.type_int() }}) as settlement_period_to,
        -- Periods are numbered per settlement date: a segment running past midnight wraps from
        -- 48 (46/50 on clock-change days) to 1, and its end lies on the next settlement date.
        case
            when settlement_period_to < settlement_period_from
                then cast({{ dbt.dateadd('day', 1, 'settlement_date') }} as date)
            else settlement_date
        end as settlement_date_to,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period_from') }}
            as settlement_period_start_utc,
        {{ utc_timestamp('time_from') }} as time_from_utc,
        {{ utc_timestamp('time_to') }} as time_to_utc,
        cast(level_from as {{ type_double() }}) as level_from_mw,
        cast(level_to as {{ type_double() }}) as level_to_mw,
        so_flag as is_so_flagged,
        stor_flag as is_stor,
        rr_flag as is_rr,
        deemed_bo_flag as is_deemed_bid_offer,
        amendment_flag,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

-- no re-ranking: the loader and the IRIS flush merge the raw table on its natural key (the
-- unique test on _natural_key holds it), and without a window a filter on settlement_date
-- reaches the raw table's scan
select * from renamed
