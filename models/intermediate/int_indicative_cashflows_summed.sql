-- Elexon's indicative BM unit cashflows (EBOCF) per unit and settlement period, bids and offers
-- summed: what the unit is paid (positive) or pays (negative) for all its accepted bids and offers
-- in the period (BSC Section T3.9, the Period BM Unit Cashflow, as published before settlement
-- runs). Per unit and period, not per acceptance: system-flagged and other actions together.
with

cashflows as (

    select
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        national_grid_bm_unit,
        total_cashflow as offer_cashflow,
        cast(null as {{ type_double() }}) as bid_cashflow
    from {{ ref('stg_bmrs__balancing_settlement_indicative_cashflows_all_offer') }}
    union all
    select
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        national_grid_bm_unit,
        cast(null as {{ type_double() }}) as offer_cashflow,
        total_cashflow as bid_cashflow
    from {{ ref('stg_bmrs__balancing_settlement_indicative_cashflows_all_bid') }}

)

select
    settlement_date,
    cast(settlement_period as {{ dbt.type_bigint() }}) as settlement_period,
    max(settlement_period_start_utc) as settlement_period_start_utc,
    national_grid_bm_unit,
    cast(sum(offer_cashflow) as {{ type_double() }}) as offer_cashflow_gbp,
    cast(sum(bid_cashflow) as {{ type_double() }}) as bid_cashflow_gbp,
    cast(sum(coalesce(offer_cashflow, 0) + coalesce(bid_cashflow, 0)) as {{ type_double() }})
        as indicative_cashflow_gbp
from cashflows
group by settlement_date, settlement_period, national_grid_bm_unit
