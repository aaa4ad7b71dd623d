-- Accepted balancing actions per BM unit and settlement day, with the system-flagged ones (taken
-- for system reasons such as constraints) apart. An acceptance (unit + acceptance number) counts
-- once on each settlement day its instruction covers: one running 23:40 -> 00:20 counts on both
-- days, so daily counts do not add up across days (fct_top_constrained_units counts each once).
-- Energy: the instructed level (BOALF, later acceptances replacing earlier ones) — a level, not a
-- balancing volume — and, when loaded, Elexon's acceptance volumes (BOAV: the change against what
-- the unit would otherwise have done) and indicative cashflows (EBOCF). Cost: the cashflows where
-- loaded, else an ESTIMATE from the unit's bid-offer prices that day.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date', ['national_grid_bm_unit'])) }}

{%- set window_start = incremental_window_start() %}

with

-- segments span at most 96 periods: every piece on a day D comes from a segment dated D-3 on
pieces_touching_window as (

    select * from {{ ref('int_boalf_segments_split_by_period') }}
    where {{ on_or_after('segment_settlement_date', days_before(window_start, 3)) }}

),

pieces as (

    select * from pieces_touching_window
    where {{ on_or_after('settlement_date', window_start) }}

),

-- the first settlement day each system-flagged acceptance covers, so the all-history rankings
-- count every acceptance once by adding up one column instead of re-reading BOALF. An acceptance
-- covering D and an earlier day covers the end of D-1 (its profile is contiguous), with a
-- segment dated D-3 on: the window's pieces see every earlier day that matters.
so_flagged_first_days as (

    select
        national_grid_bm_unit,
        acceptance_number,
        min(settlement_date) as settlement_date
    from pieces_touching_window
    where is_so_flagged
    group by 1, 2

),

so_flagged_firsts_per_day as (

    select
        settlement_date,
        national_grid_bm_unit,
        count(*) as so_flagged_acceptances_first_day_count
    from so_flagged_first_days
    where {{ on_or_after('settlement_date', window_start) }}
    group by 1, 2

),

periods as (

    select * from {{ ref('fct_acceptances_by_unit_period') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

acceptances_per_day as (

    select
        settlement_date,
        national_grid_bm_unit,
        count(distinct acceptance_number) as acceptance_count,
        count(distinct case when is_so_flagged then acceptance_number end) as so_flagged_acceptance_count
    from pieces
    group by 1, 2

),

daily as (

    select
        settlement_date,
        national_grid_bm_unit,
        max(bm_unit) as bm_unit,
        max(lead_party_name) as lead_party_name,
        max(fuel_type) as fuel_type,
        max(gsp_group_id) as gsp_group_id,
        sum(accepted_level_mwh) as accepted_level_mwh,
        sum(instructed_energy_mwh) as instructed_energy_mwh,
        sum(so_flagged_instructed_energy_mwh) as so_flagged_instructed_energy_mwh,
        sum(accepted_volume_mwh) as accepted_volume_mwh,
        -- a day's flagged volume only when every period with volumes knows its flags
        case
            when count(so_flagged_volume_mwh) = count(accepted_volume_mwh) and count(accepted_volume_mwh) > 0
                then sum(so_flagged_volume_mwh)
        end as so_flagged_volume_mwh,
        sum(indicative_cashflow_gbp) as indicative_cashflow_gbp,
        max(acceptance_count) as max_period_acceptance_count
    from periods
    group by 1, 2

),

prices as (

    select
        national_grid_bm_unit,
        settlement_date,
        avg(case when pair_id > 0 then offer end) as average_offer_price_gbp_per_mwh,
        avg(case when pair_id < 0 then bid end) as average_bid_price_gbp_per_mwh
    from {{ ref('stg_bmrs__bod') }}
    where {{ on_or_after('settlement_date', window_start) }}
    group by 1, 2

),

energy as (

    select
        daily.*,
        coalesce(acceptances_per_day.acceptance_count, daily.max_period_acceptance_count, 0) as acceptance_count,
        coalesce(acceptances_per_day.so_flagged_acceptance_count, 0) as so_flagged_acceptance_count,
        coalesce(so_flagged_firsts_per_day.so_flagged_acceptances_first_day_count, 0)
            as so_flagged_acceptances_first_day_count,
        coalesce(daily.so_flagged_volume_mwh, daily.so_flagged_instructed_energy_mwh) as so_flagged_energy_mwh,
        case
            when daily.so_flagged_volume_mwh is not null then 'balancing_volume'
            when daily.so_flagged_instructed_energy_mwh is not null then 'instructed_level'
        end as energy_basis
    from daily
    left join acceptances_per_day
        on
            daily.settlement_date = acceptances_per_day.settlement_date
            and daily.national_grid_bm_unit = acceptances_per_day.national_grid_bm_unit
    left join so_flagged_firsts_per_day
        on
            daily.settlement_date = so_flagged_firsts_per_day.settlement_date
            and daily.national_grid_bm_unit = so_flagged_firsts_per_day.national_grid_bm_unit

)

select
    energy.settlement_date,
    energy.national_grid_bm_unit,
    energy.bm_unit,
    energy.lead_party_name,
    energy.fuel_type,
    energy.gsp_group_id,
    cast(energy.acceptance_count as {{ dbt.type_bigint() }}) as acceptance_count,
    cast(energy.so_flagged_acceptance_count as {{ dbt.type_bigint() }}) as so_flagged_acceptance_count,
    cast(energy.so_flagged_acceptances_first_day_count as {{ dbt.type_bigint() }})
        as so_flagged_acceptances_first_day_count,
    cast(energy.accepted_level_mwh as {{ type_double() }}) as accepted_level_mwh,
    cast(energy.instructed_energy_mwh as {{ type_double() }}) as instructed_energy_mwh,
    cast(energy.so_flagged_instructed_energy_mwh as {{ type_double() }}) as so_flagged_instructed_energy_mwh,
    cast(energy.accepted_volume_mwh as {{ type_double() }}) as accepted_volume_mwh,
    cast(energy.so_flagged_volume_mwh as {{ type_double() }}) as so_flagged_volume_mwh,
    cast(energy.so_flagged_energy_mwh as {{ type_double() }}) as so_flagged_energy_mwh,
    energy.energy_basis,
    cast(prices.average_offer_price_gbp_per_mwh as {{ type_double() }}) as average_offer_price_gbp_per_mwh,
    cast(prices.average_bid_price_gbp_per_mwh as {{ type_double() }}) as average_bid_price_gbp_per_mwh,
    cast(energy.indicative_cashflow_gbp as {{ type_double() }}) as indicative_cashflow_gbp,
    cast(
        coalesce(
            energy.indicative_cashflow_gbp,
            energy.so_flagged_energy_mwh
            * case
                when energy.so_flagged_energy_mwh >= 0 then prices.average_offer_price_gbp_per_mwh
                else prices.average_bid_price_gbp_per_mwh
            end
        ) as {{ type_double() }}
    ) as estimated_cost_gbp,
    case
        when energy.indicative_cashflow_gbp is not null then 'indicative_cashflow'
        when prices.national_grid_bm_unit is not null and energy.energy_basis = 'balancing_volume'
            then 'bid_offer_estimate_on_volume'
        when prices.national_grid_bm_unit is not null and energy.energy_basis = 'instructed_level'
            then 'bid_offer_estimate_on_instructed_level'
    end as cost_basis
from energy
left join prices
    on energy.national_grid_bm_unit = prices.national_grid_bm_unit and energy.settlement_date = prices.settlement_date
