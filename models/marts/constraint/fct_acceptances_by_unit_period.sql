-- Accepted balancing actions per settlement period and BM unit, with who owns the unit,
-- what it runs on and where it connects, from the BM unit registry. Three figures of energy, each
-- named for what it is: the instructed level (BOALF, overlapping acceptances resolved: the latest
-- acceptance replaces earlier ones), the per-acceptance levels added up (overlaps counted once per
-- acceptance), and, when loaded, Elexon's settlement acceptance volumes (BOAV: the change against
-- what the unit would otherwise have done) and indicative cashflows (EBOCF).
-- Incremental by settlement day (macros/incremental.sql; the lookback is documented in the
-- model's YAML): the window's bounds are constants, so the filters below reach the raw BOALF
-- and BOAV/EBOCF scans (a test reads DuckDB's plan), and `--full-refresh` gives the same rows.
{{ config(**incremental_by_day('settlement_date', ['national_grid_bm_unit'])) }}
-- depends_on: {{ ref('int_boalf_instructed_profile_resolved') }}
-- depends_on: {{ ref('int_acceptance_volumes_flagged') }}

{%- set window_start = incremental_window_start() %}

with

-- every piece of a segment that can reach the window: segments span at most 96 periods
pieces_touching_window as (

    select * from {{ ref('int_boalf_segments_split_by_period') }}
    where {{ on_or_after('segment_settlement_date', days_before(window_start, 3)) }}

),

pieces as (

    select * from pieces_touching_window
    where {{ on_or_after('settlement_date', window_start) }}

),

-- acceptances supersede earlier ones per unit: resolved over every piece touching the window
instructed as (

    select *
    from (
        {{ resolve_instructed_profile('pieces_touching_window') }}
    ) as resolved
    where {{ on_or_after('settlement_date', window_start) }}

),

volumes as (

    select * from ({{ acceptance_volumes_flagged(window_start) }}) as flagged

),

cashflows as (

    select * from {{ ref('int_indicative_cashflows_summed') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

units as (

    select * from {{ ref('int_bm_units_classified') }}

),

per_period as (

    select
        settlement_date,
        cast(settlement_period as {{ dbt.type_bigint() }}) as settlement_period,
        national_grid_bm_unit,
        max(bm_unit) as bm_unit,
        count(distinct acceptance_number) as acceptance_count,
        count(distinct case when is_so_flagged then acceptance_number end) as so_flagged_acceptance_count,
        count(distinct case when is_stor then acceptance_number end) as stor_acceptance_count,
        count(*) as segment_count,
        sum(duration_minutes) as accepted_minutes,
        sum(accepted_level_mwh) as accepted_level_mwh,
        min(least(level_from_mw, level_to_mw)) as min_accepted_level_mw,
        max(greatest(level_from_mw, level_to_mw)) as max_accepted_level_mw,
        min(acceptance_time_utc) as first_acceptance_time_utc,
        max(acceptance_time_utc) as last_acceptance_time_utc
    from pieces
    group by 1, 2, 3

),

instructed_per_period as (

    select
        settlement_date,
        cast(settlement_period as {{ dbt.type_bigint() }}) as settlement_period,
        national_grid_bm_unit,
        sum(instructed_energy_mwh) as instructed_energy_mwh,
        sum(case when is_so_flagged then instructed_energy_mwh else 0 end) as so_flagged_instructed_energy_mwh,
        sum(case when covering_acceptances > 1 then duration_minutes else 0 end) as overlapped_minutes
    from instructed
    group by 1, 2, 3

),

volumes_per_period as (

    select
        settlement_date,
        settlement_period,
        national_grid_bm_unit,
        max(bm_unit) as bm_unit,
        sum(accepted_volume_mwh) as accepted_volume_mwh,
        sum(case when bid_offer = 'offer' then accepted_volume_mwh else 0 end) as offer_volume_mwh,
        sum(case when bid_offer = 'bid' then accepted_volume_mwh else 0 end) as bid_volume_mwh,
        sum(case when is_so_flagged then accepted_volume_mwh else 0 end) as so_flagged_volume_mwh,
        sum(case when is_so_flagged is null then 1 else 0 end) as volumes_without_boalf,
        count(distinct acceptance_number) as acceptance_count
    from volumes
    group by 1, 2, 3

),

unit_periods as (

    select distinct
        settlement_date,
        settlement_period,
        national_grid_bm_unit
    from (
        select
            settlement_date,
            settlement_period,
            national_grid_bm_unit
        from per_period
        union all
        select
            settlement_date,
            settlement_period,
            national_grid_bm_unit
        from volumes_per_period
        union all
        select
            settlement_date,
            settlement_period,
            national_grid_bm_unit
        from cashflows
    ) as every_source

)

select
    unit_periods.settlement_date,
    unit_periods.settlement_period,
    {{ settlement_period_start_utc('unit_periods.settlement_date', 'unit_periods.settlement_period') }}
        as settlement_period_start_utc,
    unit_periods.national_grid_bm_unit,
    units.bm_unit_name,
    units.lead_party_name,
    units.lead_party_id,
    units.fuel_type,
    units.bm_unit_type,
    units.gsp_group_id,
    units.gsp_group_source,
    cast(coalesce(per_period.acceptance_count, volumes_per_period.acceptance_count, 0) as {{ dbt.type_bigint() }})
        as acceptance_count,
    cast(coalesce(per_period.so_flagged_acceptance_count, 0) as {{ dbt.type_bigint() }})
        as so_flagged_acceptance_count,
    cast(coalesce(per_period.stor_acceptance_count, 0) as {{ dbt.type_bigint() }}) as stor_acceptance_count,
    cast(coalesce(per_period.segment_count, 0) as {{ dbt.type_bigint() }}) as segment_count,
    cast(per_period.accepted_minutes as {{ type_double() }}) as accepted_minutes,
    cast(per_period.accepted_level_mwh as {{ type_double() }}) as accepted_level_mwh,
    cast(instructed_per_period.instructed_energy_mwh as {{ type_double() }}) as instructed_energy_mwh,
    cast(instructed_per_period.so_flagged_instructed_energy_mwh as {{ type_double() }})
        as so_flagged_instructed_energy_mwh,
    cast(instructed_per_period.overlapped_minutes as {{ type_double() }}) as overlapped_minutes,
    cast(per_period.min_accepted_level_mw as {{ type_double() }}) as min_accepted_level_mw,
    cast(per_period.max_accepted_level_mw as {{ type_double() }}) as max_accepted_level_mw,
    per_period.first_acceptance_time_utc,
    per_period.last_acceptance_time_utc,
    cast(volumes_per_period.accepted_volume_mwh as {{ type_double() }}) as accepted_volume_mwh,
    cast(volumes_per_period.offer_volume_mwh as {{ type_double() }}) as offer_volume_mwh,
    cast(volumes_per_period.bid_volume_mwh as {{ type_double() }}) as bid_volume_mwh,
    -- null where some of the period's volumes have no BOALF row to say whether they were flagged
    cast(
        case when volumes_per_period.volumes_without_boalf = 0 then volumes_per_period.so_flagged_volume_mwh end
        as {{ type_double() }}
    ) as so_flagged_volume_mwh,
    cast(cashflows.indicative_cashflow_gbp as {{ type_double() }}) as indicative_cashflow_gbp,
    coalesce(per_period.bm_unit, volumes_per_period.bm_unit, units.elexon_bm_unit) as bm_unit,
    units.national_grid_bm_unit is not null as is_in_registry
from unit_periods
left join per_period
    on
        unit_periods.settlement_date = per_period.settlement_date
        and unit_periods.settlement_period = per_period.settlement_period
        and unit_periods.national_grid_bm_unit = per_period.national_grid_bm_unit
left join instructed_per_period
    on
        unit_periods.settlement_date = instructed_per_period.settlement_date
        and unit_periods.settlement_period = instructed_per_period.settlement_period
        and unit_periods.national_grid_bm_unit = instructed_per_period.national_grid_bm_unit
left join volumes_per_period
    on
        unit_periods.settlement_date = volumes_per_period.settlement_date
        and unit_periods.settlement_period = volumes_per_period.settlement_period
        and unit_periods.national_grid_bm_unit = volumes_per_period.national_grid_bm_unit
left join cashflows
    on
        unit_periods.settlement_date = cashflows.settlement_date
        and unit_periods.settlement_period = cashflows.settlement_period
        and unit_periods.national_grid_bm_unit = cashflows.national_grid_bm_unit
left join units
    on unit_periods.national_grid_bm_unit = units.national_grid_bm_unit
