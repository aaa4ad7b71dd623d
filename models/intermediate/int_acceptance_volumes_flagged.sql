-- Elexon's settlement acceptance volumes (BOAV) per BM unit, acceptance and settlement period,
-- bids and offers together, with the system-operator flag of each acceptance from BOALF. The
-- volume is the Accepted Bid-Offer Volume: the change an acceptance makes to the unit's level
-- against what it was already instructed to do (its previous acceptance, or its Final Physical
-- Notification), integrated over the period (BSC Section T3.7, T3.8; Elexon glossary "Accepted
-- Bid Volume", "Period Accepted Offer Volume"). Offers raise output (positive), bids lower it
-- (negative). is_so_flagged is null where BOALF for that acceptance is not loaded.
with

volumes as (

    select
        'offer' as bid_offer,
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        national_grid_bm_unit,
        bm_unit,
        acceptance_id,
        total_volume_accepted
    from {{ ref('stg_bmrs__balancing_settlement_acceptance_volumes_all_offer') }}
    union all
    select
        'bid' as bid_offer,
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        national_grid_bm_unit,
        bm_unit,
        acceptance_id,
        total_volume_accepted
    from {{ ref('stg_bmrs__balancing_settlement_acceptance_volumes_all_bid') }}

),

acceptance_flags as (

    select
        national_grid_bm_unit,
        acceptance_number,
        max(case when is_so_flagged then 1 else 0 end) = 1 as is_so_flagged
    from {{ ref('stg_bmrs__boalf') }}
    group by 1, 2

)

select
    volumes.bid_offer,
    volumes.settlement_date,
    cast(volumes.settlement_period as {{ dbt.type_bigint() }}) as settlement_period,
    volumes.settlement_period_start_utc,
    volumes.national_grid_bm_unit,
    volumes.bm_unit,
    cast(volumes.acceptance_id as {{ dbt.type_bigint() }}) as acceptance_number,
    cast(volumes.total_volume_accepted as {{ type_double() }}) as accepted_volume_mwh,
    acceptance_flags.is_so_flagged
from volumes
left join acceptance_flags
    on
        volumes.national_grid_bm_unit = acceptance_flags.national_grid_bm_unit
        and volumes.acceptance_id = acceptance_flags.acceptance_number
