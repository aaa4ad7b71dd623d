-- BOALF segments cut at settlement-period boundaries. Each piece keeps the accepted level
-- profile (linear between the segment's end points) and carries the energy under it, so a
-- segment running 23:59 → 00:28 counts partly in one period and partly in the next.
with

segments as (

    select
        national_grid_bm_unit,
        bm_unit,
        acceptance_number,
        acceptance_time_utc,
        time_from_utc,
        time_to_utc,
        level_from_mw,
        level_to_mw,
        is_so_flagged,
        is_stor,
        is_rr,
        is_deemed_bid_offer,
        _natural_key as segment_key,
        -- the raw column, passed through untouched: a filter on it reaches the raw table's scan
        settlement_date as segment_settlement_date,
        {{ epoch_seconds('time_from_utc') }} as from_s,
        {{ epoch_seconds('time_to_utc') }} as to_s
    from {{ ref('stg_bmrs__boalf') }}
    where time_to_utc >= time_from_utc

),

bounded as (

    select
        *,
        floor(from_s / 1800) as first_slot,
        -- a segment ending exactly on a boundary does not reach into the next period
        case
            when to_s > from_s then ceil(to_s / 1800) - 1
            else floor(from_s / 1800)
        end as last_slot
    from segments

),

slot_offsets as (

    -- up to 96 half-hours (two days) per segment; a test checks no segment is longer
    select generated_number - 1 as slot_offset
    from ({{ dbt.generate_series(96) }}) as series

),

pieces as (

    select
        bounded.*,
        (bounded.first_slot + slot_offsets.slot_offset) * 1800 as slot_start_s
    from bounded
    inner join slot_offsets
        on slot_offsets.slot_offset <= bounded.last_slot - bounded.first_slot

),

clipped as (

    select
        *,
        greatest(from_s, slot_start_s) as clip_from_s,
        least(to_s, slot_start_s + 1800) as clip_to_s
    from pieces

),

levelled as (

    select
        *,
        case
            when to_s > from_s
                then level_from_mw + (level_to_mw - level_from_mw) * (clip_from_s - from_s) / (to_s - from_s)
            else level_from_mw
        end as piece_level_from_mw,
        case
            when to_s > from_s
                then level_from_mw + (level_to_mw - level_from_mw) * (clip_to_s - from_s) / (to_s - from_s)
            else level_to_mw
        end as piece_level_to_mw
    from clipped

)

select
    segment_key,
    segment_settlement_date,
    national_grid_bm_unit,
    bm_unit,
    acceptance_number,
    acceptance_time_utc,
    {{ settlement_date_of(from_epoch_seconds('slot_start_s')) }} as settlement_date,
    {{ settlement_period_of(from_epoch_seconds('slot_start_s')) }} as settlement_period,
    {{ from_epoch_seconds('slot_start_s') }} as settlement_period_start_utc,
    {{ from_epoch_seconds('clip_from_s') }} as time_from_utc,
    {{ from_epoch_seconds('clip_to_s') }} as time_to_utc,
    piece_level_from_mw as level_from_mw,
    piece_level_to_mw as level_to_mw,
    (clip_to_s - clip_from_s) / 60.0 as duration_minutes,
    (piece_level_from_mw + piece_level_to_mw) / 2 * (clip_to_s - clip_from_s) / 3600.0 as accepted_level_mwh,
    is_so_flagged,
    is_stor,
    is_rr,
    is_deemed_bid_offer
from levelled
