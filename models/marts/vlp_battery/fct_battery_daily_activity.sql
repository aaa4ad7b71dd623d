-- Daily balancing activity of each battery over the last `activity_lookback_days` days of loaded
-- acceptances: energy at the instructed level (BOALF, later acceptances replacing earlier ones;
-- exporting positive, importing negative), its average offer and bid prices that day (BOD pairs),
-- and an ESTIMATED revenue = exported MWh x average offer price + imported MWh x average bid price.
-- Exported and imported are split by the sign of each settlement period's instructed energy (the
-- period is the grain settlement nets a unit's energy at), then added up over the day. It is an
-- estimate: settlement prices each acceptance against the exact pairs its volume used, relative to
-- the physical notification, and an instructed level is not that volume.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML; the
-- post-hook drops the days that have left the activity window, as a full refresh would not build
-- them.
{{ config(
    post_hook=[{
        'sql': "delete from {{ this }} where settlement_date <= (select "
            ~ "{{ dbt.dateadd('day', - var('activity_lookback_days'), 'max(settlement_date)') }} "
            ~ "from {{ ref('fct_acceptances_by_unit_period') }} where segment_count > 0)",
        'transaction': false
    }],
    **incremental_by_day('settlement_date', ['national_grid_bm_unit'])
) }}

{%- set window_start = incremental_window_start() %}

with

batteries as (

    select * from {{ ref('dim_bm_unit') }}
    where is_battery

),

pieces as (

    select * from {{ ref('int_boalf_segments_split_by_period') }}
    -- segments span at most 96 periods: every piece on a day D comes from a segment dated D-3 on
    where
        {{ on_or_after('segment_settlement_date', days_before(window_start, 3)) }}
        and {{ on_or_after('settlement_date', window_start) }}

),

unit_periods as (

    select * from {{ ref('fct_acceptances_by_unit_period') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

-- the last day with acceptances: the latest day of the acceptances mart that holds BOALF pieces
-- (the same day as the latest piece's, read from a table instead of every piece)
window_end as (

    select max(settlement_date) as last_date
    from {{ ref('fct_acceptances_by_unit_period') }}
    where segment_count > 0

),

-- an acceptance counts once on each day it covers, however many periods it spans
acceptances as (

    select
        national_grid_bm_unit,
        settlement_date,
        count(distinct acceptance_number) as acceptance_count
    from pieces
    group by national_grid_bm_unit, settlement_date

),

energy as (

    select
        national_grid_bm_unit,
        settlement_date,
        sum(case when instructed_energy_mwh > 0 then instructed_energy_mwh else 0 end) as exported_mwh,
        sum(case when instructed_energy_mwh < 0 then instructed_energy_mwh else 0 end) as imported_mwh
    from unit_periods
    where instructed_energy_mwh is not null
    group by national_grid_bm_unit, settlement_date

),

accepted as (

    select
        acceptances.national_grid_bm_unit,
        acceptances.settlement_date,
        acceptances.acceptance_count,
        coalesce(energy.exported_mwh, 0) as exported_mwh,
        coalesce(energy.imported_mwh, 0) as imported_mwh
    from acceptances
    cross join window_end
    left join energy
        on
            acceptances.national_grid_bm_unit = energy.national_grid_bm_unit
            and acceptances.settlement_date = energy.settlement_date
    where
        acceptances.settlement_date
        > {{ dbt.dateadd('day', - var('activity_lookback_days'), 'window_end.last_date') }}

),

prices as (

    select
        national_grid_bm_unit,
        settlement_date,
        avg(case when pair_id > 0 then offer end) as average_offer_price_gbp_per_mwh,
        avg(case when pair_id < 0 then bid end) as average_bid_price_gbp_per_mwh
    from {{ ref('stg_bmrs__bod') }}
    where {{ on_or_after('settlement_date', window_start) }}
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
    cast(accepted.acceptance_count as {{ dbt.type_bigint() }}) as acceptance_count,
    cast(accepted.exported_mwh as {{ type_double() }}) as exported_mwh,
    cast(accepted.imported_mwh as {{ type_double() }}) as imported_mwh,
    prices.average_offer_price_gbp_per_mwh,
    prices.average_bid_price_gbp_per_mwh,
    cast(
        accepted.exported_mwh * prices.average_offer_price_gbp_per_mwh
        + accepted.imported_mwh * prices.average_bid_price_gbp_per_mwh
        as {{ type_double() }}
    ) as estimated_revenue_gbp
from accepted
inner join batteries on accepted.national_grid_bm_unit = batteries.national_grid_bm_unit
left join prices
    on
        accepted.national_grid_bm_unit = prices.national_grid_bm_unit
        and accepted.settlement_date = prices.settlement_date
