-- Accepted balancing actions per settlement period and BM unit, with who owns the unit,
-- what it runs on and where it connects, from the BM unit registry. Incremental: each build
-- merges the last `incremental_lookback_days` settlement days again (late and revised
-- acceptances), the same MERGE on DuckDB and BigQuery; `dbt build --full-refresh` rebuilds it.
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['settlement_date', 'settlement_period', 'national_grid_bm_unit'],
    on_schema_change='append_new_columns',
    **partitioned_by_day('settlement_date', ['national_grid_bm_unit'])
) }}

with

pieces as (

    select * from {{ ref('int_boalf_segments_split_by_period') }}
    {% if is_incremental() %}
        where settlement_date >= (
            select {{ dbt.dateadd('day', - var('incremental_lookback_days'), 'max(settlement_date)') }}
            from {{ this }}
        )
    {% endif %}

),

units as (

    select * from {{ ref('int_bm_units_classified') }}

),

per_period as (

    select
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
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
    group by 1, 2, 3, 4

)

select
    per_period.settlement_date,
    per_period.settlement_period,
    per_period.settlement_period_start_utc,
    per_period.national_grid_bm_unit,
    units.bm_unit_name,
    units.lead_party_name,
    units.lead_party_id,
    units.fuel_type,
    units.bm_unit_type,
    units.gsp_group_id,
    units.gsp_group_source,
    per_period.acceptance_count,
    per_period.so_flagged_acceptance_count,
    per_period.stor_acceptance_count,
    per_period.segment_count,
    per_period.accepted_minutes,
    per_period.accepted_level_mwh,
    per_period.min_accepted_level_mw,
    per_period.max_accepted_level_mw,
    per_period.first_acceptance_time_utc,
    per_period.last_acceptance_time_utc,
    coalesce(per_period.bm_unit, units.elexon_bm_unit) as bm_unit,
    units.national_grid_bm_unit is not null as is_in_registry
from per_period
left join units
    on per_period.national_grid_bm_unit = units.national_grid_bm_unit
