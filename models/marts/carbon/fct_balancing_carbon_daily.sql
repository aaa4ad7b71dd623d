-- An estimate of the CO2 balancing actions add or avoid, per acceptance and settlement day: the
-- energy an acceptance changes times the unit's emission factor (int_bm_units_emission_factors_chosen).
-- Where Elexon's acceptance volumes (BOAV) are loaded, the change is theirs: the Accepted
-- Bid-Offer Volume against what the unit was already to do (its previous acceptance or its Final
-- Physical Notification; BSC Section T3.7-T3.8): offers add, bids avoid. From BOALF alone only the
-- instructed LEVEL is known, not the change against the FPN: those rows carry the CO2 of the
-- instructed output (instructed_output_co2_tonnes) and leave added/avoided/net null.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML: the
-- window's acceptances are resolved and flagged by the same macros as fct_acceptances_by_unit_period.
{{ config(**incremental_by_day('settlement_date', ['gsp_group_id'])) }}
-- depends_on: {{ ref('int_boalf_instructed_profile_resolved') }}
-- depends_on: {{ ref('int_acceptance_volumes_flagged') }}

{%- set window_start = incremental_window_start() %}

with

-- every piece of a segment that can reach the window: segments span at most 96 periods
pieces_touching_window as (

    select * from {{ ref('int_boalf_segments_split_by_period') }}
    where {{ on_or_after('segment_settlement_date', days_before(window_start, 3)) }}

),

-- acceptances supersede earlier ones per unit: resolved over every piece touching the window
resolved as (

    select *
    from (
        {{ resolve_instructed_profile('pieces_touching_window') }}
    ) as resolved_window
    where {{ on_or_after('settlement_date', window_start) }}

),

instructed as (

    select
        settlement_date,
        national_grid_bm_unit,
        acceptance_number,
        max(case when is_so_flagged then 1 else 0 end) as so_flag,
        sum(instructed_energy_mwh) as instructed_energy_mwh,
        cast(null as {{ type_double() }}) as offer_volume_mwh,
        cast(null as {{ type_double() }}) as bid_volume_mwh
    from resolved
    group by 1, 2, 3

),

volumes as (

    select
        settlement_date,
        national_grid_bm_unit,
        acceptance_number,
        max(case when is_so_flagged then 1 else 0 end) as so_flag,
        cast(null as {{ type_double() }}) as instructed_energy_mwh,
        sum(case when bid_offer = 'offer' then accepted_volume_mwh else 0 end) as offer_volume_mwh,
        sum(case when bid_offer = 'bid' then accepted_volume_mwh else 0 end) as bid_volume_mwh
    from ({{ acceptance_volumes_flagged(window_start) }}) as flagged
    group by 1, 2, 3

),

both_sources as (

    select * from instructed
    union all
    select * from volumes

),

acceptances as (

    select
        settlement_date,
        national_grid_bm_unit,
        acceptance_number,
        max(so_flag) = 1 as is_so_flagged,
        sum(instructed_energy_mwh) as instructed_energy_mwh,
        sum(offer_volume_mwh) as offer_volume_mwh,
        sum(bid_volume_mwh) as bid_volume_mwh
    from both_sources
    group by 1, 2, 3

)

select
    acceptances.settlement_date,
    acceptances.national_grid_bm_unit,
    cast(acceptances.acceptance_number as {{ dbt.type_bigint() }}) as acceptance_number,
    acceptances.is_so_flagged,
    case when acceptances.is_so_flagged then 'so_flagged' else 'energy' end as reason,
    coalesce(units.gsp_group_id, 'transmission') as gsp_group_id,
    units.gsp_group_source,
    units.dno_licence_area,
    factors.fuel_type,
    factors.power_station_id,
    factors.emission_factor_gco2_per_kwh,
    coalesce(factors.emission_factor_source, 'none') as emission_factor_source,
    case when acceptances.offer_volume_mwh is not null then 'acceptance_volume' else 'instructed_level' end
        as energy_basis,
    cast(acceptances.offer_volume_mwh as {{ type_double() }}) as offer_volume_mwh,
    cast(acceptances.bid_volume_mwh as {{ type_double() }}) as bid_volume_mwh,
    cast(acceptances.instructed_energy_mwh as {{ type_double() }}) as instructed_energy_mwh,
    -- MWh x gCO2/kWh / 1000 = tonnes
    cast(acceptances.offer_volume_mwh * factors.emission_factor_gco2_per_kwh / 1000 as {{ type_double() }})
        as co2_added_by_offers_tonnes,
    cast(-acceptances.bid_volume_mwh * factors.emission_factor_gco2_per_kwh / 1000 as {{ type_double() }})
        as co2_avoided_by_bids_tonnes,
    cast(
        (acceptances.offer_volume_mwh + acceptances.bid_volume_mwh) * factors.emission_factor_gco2_per_kwh / 1000
        as {{ type_double() }}
    ) as net_co2_tonnes,
    cast(acceptances.instructed_energy_mwh * factors.emission_factor_gco2_per_kwh / 1000 as {{ type_double() }})
        as instructed_output_co2_tonnes,
    true as is_estimate
from acceptances
left join {{ ref('dim_bm_unit') }} as units on acceptances.national_grid_bm_unit = units.national_grid_bm_unit
left join {{ ref('int_bm_units_emission_factors_chosen') }} as factors
    on acceptances.national_grid_bm_unit = factors.national_grid_bm_unit
