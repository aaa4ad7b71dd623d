-- System-flagged balancing actions (BOALF with the SO flag: taken for system reasons such as
-- constraints) per BM unit and day, their energy at the accepted level, and their cost: Elexon's
-- indicative cashflows where loaded, else an ESTIMATE from the unit's bid-offer pairs that day.
{{ config(**partitioned_by_day('settlement_date', ['national_grid_bm_unit'])) }}

with

acceptances as (

    select * from {{ ref('fct_acceptances_by_unit_period') }}

),

daily as (

    select
        settlement_date,
        national_grid_bm_unit,
        max(bm_unit) as bm_unit,
        max(lead_party_name) as lead_party_name,
        max(fuel_type) as fuel_type,
        max(gsp_group_id) as gsp_group_id,
        {{ sum_as_bigint('acceptance_count') }} as acceptance_count,
        {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count,
        sum(accepted_level_mwh) as accepted_level_mwh,
        sum(case when so_flagged_acceptance_count > 0 then accepted_level_mwh else 0 end) as so_flagged_level_mwh
    from acceptances
    group by 1, 2

),

cashflows as (

    select
        national_grid_bm_unit,
        settlement_date,
        sum(total_cashflow) as indicative_cashflow_gbp
    from (
        select
            national_grid_bm_unit,
            settlement_date,
            total_cashflow
        from {{ ref('stg_bmrs__balancing_settlement_indicative_cashflows_all_bid') }}
        union all
        select
            national_grid_bm_unit,
            settlement_date,
            total_cashflow
        from {{ ref('stg_bmrs__balancing_settlement_indicative_cashflows_all_offer') }}
    ) as both_sides
    group by 1, 2

),

prices as (

    select
        national_grid_bm_unit,
        settlement_date,
        avg(case when pair_id > 0 then offer end) as average_offer_price_gbp_per_mwh,
        avg(case when pair_id < 0 then bid end) as average_bid_price_gbp_per_mwh
    from {{ ref('stg_bmrs__bod') }}
    group by 1, 2

)

select
    daily.settlement_date,
    daily.national_grid_bm_unit,
    daily.bm_unit,
    daily.lead_party_name,
    daily.fuel_type,
    daily.gsp_group_id,
    daily.acceptance_count,
    daily.so_flagged_acceptance_count,
    daily.accepted_level_mwh,
    daily.so_flagged_level_mwh,
    prices.average_offer_price_gbp_per_mwh,
    prices.average_bid_price_gbp_per_mwh,
    cashflows.indicative_cashflow_gbp,
    coalesce(
        cashflows.indicative_cashflow_gbp,
        daily.so_flagged_level_mwh
        * case
            when daily.so_flagged_level_mwh >= 0 then prices.average_offer_price_gbp_per_mwh
            else prices.average_bid_price_gbp_per_mwh
        end
    ) as estimated_cost_gbp,
    case
        when cashflows.indicative_cashflow_gbp is not null then 'indicative_cashflow' when
            prices.national_grid_bm_unit is not null
            then 'bid_offer_estimate'
    end
        as cost_basis
from daily
left join cashflows
    on daily.national_grid_bm_unit = cashflows.national_grid_bm_unit
        and daily.settlement_date = cashflows.settlement_date
left join prices
    on daily.national_grid_bm_unit = prices.national_grid_bm_unit and daily.settlement_date = prices.settlement_date
