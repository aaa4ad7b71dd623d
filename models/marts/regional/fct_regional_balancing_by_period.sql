-- Balancing activity per GSP group and settlement period: accepted actions of the units in the
-- group (BOALF, units placed by the BM unit registry's GSP group, else their power station's
-- nearest GSP's group, else the group their id encodes — counted per source), bid-offer pairs
-- submitted (BOD) and metered volumes (B1610), with the group's DNO.
-- Energy is the units' instructed level (later acceptances replacing earlier ones, per unit and
-- period in fct_acceptances_by_unit_period) added over the group's units: a level from BOALF, not
-- a balancing volume. accepted_level_mwh keeps the per-acceptance sum beside it, so the overlap
-- (their difference) stays visible.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date', ['gsp_group_id'])) }}

{%- set window_start = incremental_window_start() %}

with

acceptances as (

    select
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        coalesce(gsp_group_id, 'transmission') as gsp_group_id,
        count(*) as units_with_acceptances,
        {{ sum_as_bigint("case when gsp_group_source = 'registry' then 1 else 0 end") }} as units_placed_by_registry,
        {{ sum_as_bigint("case when gsp_group_source = 'location' then 1 else 0 end") }} as units_placed_by_location,
        {{ sum_as_bigint("case when gsp_group_source = 'id letter' then 1 else 0 end") }} as units_placed_by_id_letter,
        {{ sum_as_bigint('acceptance_count') }} as acceptance_count,
        {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count,
        sum(accepted_level_mwh) as accepted_level_mwh,
        sum(instructed_energy_mwh) as instructed_energy_mwh,
        sum(so_flagged_instructed_energy_mwh) as so_flagged_instructed_energy_mwh
    from {{ ref('fct_acceptances_by_unit_period') }}
    where {{ on_or_after('settlement_date', window_start) }}
    group by 1, 2, 3, 4

),

units as (

    select
        national_grid_bm_unit,
        elexon_bm_unit,
        coalesce(gsp_group_id, 'transmission') as gsp_group_id
    from {{ ref('int_bm_units_classified') }}

),

bid_offer as (

    select
        units.gsp_group_id,
        bod.settlement_date,
        bod.settlement_period,
        min(bod.settlement_period_start_utc) as settlement_period_start_utc,
        count(distinct bod.national_grid_bm_unit) as units_with_bid_offer_pairs,
        count(*) as bid_offer_pairs
    from {{ ref('stg_bmrs__bod') }} as bod
    inner join units on bod.national_grid_bm_unit = units.national_grid_bm_unit
    where {{ on_or_after('bod.settlement_date', window_start) }}
    group by 1, 2, 3

),

metered as (

    select
        units.gsp_group_id,
        b1610.settlement_date,
        b1610.settlement_period,
        min(b1610.settlement_period_start_utc) as settlement_period_start_utc,
        sum(b1610.quantity) as metered_mwh
    from {{ ref('stg_bmrs__b1610') }} as b1610
    inner join units on b1610.bm_unit = units.elexon_bm_unit
    where {{ on_or_after('b1610.settlement_date', window_start) }}
    group by 1, 2, 3

),

spine as (

    select
        gsp_group_id,
        settlement_date,
        settlement_period,
        settlement_period_start_utc
    from acceptances
    union distinct
    select
        gsp_group_id,
        settlement_date,
        settlement_period,
        settlement_period_start_utc
    from bid_offer
    union distinct
    select
        gsp_group_id,
        settlement_date,
        settlement_period,
        settlement_period_start_utc
    from metered

)

select
    spine.gsp_group_id,
    gsp_group_seed.gsp_group_name,
    gsp_group_seed.dno_licence_area,
    gsp_group_seed.dno_group,
    spine.settlement_date,
    spine.settlement_period,
    spine.settlement_period_start_utc,
    metered.metered_mwh,
    coalesce(acceptances.units_with_acceptances, 0) as units_with_acceptances,
    cast(coalesce(acceptances.units_placed_by_registry, 0) as {{ dbt.type_bigint() }}) as units_placed_by_registry,
    cast(coalesce(acceptances.units_placed_by_location, 0) as {{ dbt.type_bigint() }}) as units_placed_by_location,
    cast(coalesce(acceptances.units_placed_by_id_letter, 0) as {{ dbt.type_bigint() }}) as units_placed_by_id_letter,
    coalesce(acceptances.acceptance_count, 0) as acceptance_count,
    coalesce(acceptances.so_flagged_acceptance_count, 0) as so_flagged_acceptance_count,
    coalesce(acceptances.accepted_level_mwh, 0) as accepted_level_mwh,
    cast(coalesce(acceptances.instructed_energy_mwh, 0) as {{ type_double() }}) as instructed_energy_mwh,
    cast(coalesce(acceptances.so_flagged_instructed_energy_mwh, 0) as {{ type_double() }})
        as so_flagged_instructed_energy_mwh,
    coalesce(bid_offer.units_with_bid_offer_pairs, 0) as units_with_bid_offer_pairs,
    coalesce(bid_offer.bid_offer_pairs, 0) as bid_offer_pairs
from spine
left join {{ ref('gsp_groups') }} as gsp_group_seed on spine.gsp_group_id = gsp_group_seed.gsp_group_id
left join acceptances
    on
        spine.gsp_group_id = acceptances.gsp_group_id
        and spine.settlement_date = acceptances.settlement_date
        and spine.settlement_period = acceptances.settlement_period
left join bid_offer
    on
        spine.gsp_group_id = bid_offer.gsp_group_id
        and spine.settlement_date = bid_offer.settlement_date
        and spine.settlement_period = bid_offer.settlement_period
left join metered
    on
        spine.gsp_group_id = metered.gsp_group_id
        and spine.settlement_date = metered.settlement_date
        and spine.settlement_period = metered.settlement_period
