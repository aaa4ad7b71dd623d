-- Daily balancing activity of each battery over the last `activity_lookback_days` days of loaded
-- acceptances: energy at the accepted level (BOALF; exporting positive, importing negative), its
-- average offer and bid prices that day (BOD pairs), and an ESTIMATED revenue = exported MWh x
-- average offer price + imported MWh x average bid price. It is an estimate: settlement prices each
-- acceptance against the exact pairs its volume used, relative to the physical notification.
{{ config(**partitioned_by_day('settlement_date', ['national_grid_bm_unit'])) }}

with

batteries as (

    select * from {{ ref('dim_bm_unit') }}
    where is_battery

),

pieces as (

    select * from {{ ref('int_boalf_segments_split_by_period') }}

),

window_end as (

    select max(settlement_date) as last_date from pieces

),

accepted as (

    select
        pieces.national_grid_bm_unit,
        pieces.settlement_date,
        count(distinct pieces.acceptance_number) as acceptance_count,
        sum(case when pieces.accepted_level_mwh > 0 then pieces.accepted_level_mwh else 0 end) as exported_mwh,
        sum(case when pieces.accepted_level_mwh < 0 then pieces.accepted_level_mwh else 0 end) as imported_mwh
    from pieces
    cross join window_end
    where pieces.settlement_date > {{ dbt.dateadd('day', - var('activity_lookback_days'), 'window_end.last_date') }}
    group by pieces.national_grid_bm_unit, pieces.settlement_date

),

prices as (

    select
        national_grid_bm_unit,
        settlement_date,
        avg(case when pair_id > 0 then offer end) as average_offer_price_gbp_per_mwh,
        avg(case when pair_id < 0 then bid end) as average_bid_price_gbp_per_mwh
    from {{ ref('stg_bmrs__bod') }}
    group by national_grid_bm_unit, settlement_date

)

select
    accepted.settlement_date,
    batteries.national_grid_bm_unit,
    batteries.elexon_bm_unit,
    batteries.bm_unit_name,
    batteries.lead_party_name,
    batteries.gsp_group_id,
    batteries.is_vlp,
    accepted.acceptance_count,
    accepted.exported_mwh,
    accepted.imported_mwh,
    prices.average_offer_price_gbp_per_mwh,
    prices.average_bid_price_gbp_per_mwh,
    accepted.exported_mwh * prices.average_offer_price_gbp_per_mwh
    + accepted.imported_mwh * prices.average_bid_price_gbp_per_mwh as estimated_revenue_gbp
from accepted
inner join batteries on accepted.national_grid_bm_unit = batteries.national_grid_bm_unit
left join prices
    on
        accepted.national_grid_bm_unit = prices.national_grid_bm_unit
        and accepted.settlement_date = prices.settlement_date
