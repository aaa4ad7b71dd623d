-- The regional balancing picture per GSP group and settlement day. An acceptance (unit +
-- acceptance number) counts once on each settlement day its instruction covers, however many
-- periods it spans: the counts come from fct_constraint_actions_daily (distinct per unit and day;
-- a unit sits in one group, so adding units adds distinct acceptances), not from adding up the
-- per-period counts. Energy is the units' instructed level (a level from BOALF, not a balancing
-- volume), additive over periods and units.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

with

periods as (

    select
        gsp_group_id,
        gsp_group_name,
        dno_licence_area,
        dno_group,
        settlement_date,
        count(*) as periods_with_activity,
        sum(instructed_energy_mwh) as instructed_energy_mwh,
        sum(so_flagged_instructed_energy_mwh) as so_flagged_instructed_energy_mwh,
        {{ sum_as_bigint('bid_offer_pairs') }} as bid_offer_pairs,
        sum(metered_mwh) as metered_mwh
    from {{ ref('fct_regional_balancing_by_period') }}
    where {{ on_or_after('settlement_date', window_start) }}
    group by 1, 2, 3, 4, 5

),

acceptances as (

    select
        coalesce(gsp_group_id, 'transmission') as gsp_group_id,
        settlement_date,
        {{ sum_as_bigint('acceptance_count') }} as acceptance_count,
        {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count
    from {{ ref('fct_constraint_actions_daily') }}
    where {{ on_or_after('settlement_date', window_start) }}
    group by 1, 2

)

select
    periods.gsp_group_id,
    periods.gsp_group_name,
    periods.dno_licence_area,
    periods.dno_group,
    periods.settlement_date,
    periods.periods_with_activity,
    cast(coalesce(acceptances.acceptance_count, 0) as {{ dbt.type_bigint() }}) as acceptance_count,
    cast(coalesce(acceptances.so_flagged_acceptance_count, 0) as {{ dbt.type_bigint() }})
        as so_flagged_acceptance_count,
    cast(periods.instructed_energy_mwh as {{ type_double() }}) as instructed_energy_mwh,
    cast(periods.so_flagged_instructed_energy_mwh as {{ type_double() }}) as so_flagged_instructed_energy_mwh,
    periods.bid_offer_pairs,
    periods.metered_mwh
from periods
left join acceptances
    on periods.gsp_group_id = acceptances.gsp_group_id and periods.settlement_date = acceptances.settlement_date
