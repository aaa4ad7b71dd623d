-- System-flagged balancing per GSP group and day, beside NESO's published constraint costs for
-- that day (national figures: the same on every region's row of a day).
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML. NESO's
-- file is loaded whole and may revise any day, so the window also reaches back to the first day
-- whose NESO figures in the table differ from the loaded ones (a small join: one row a day).
{{ config(**incremental_by_day('settlement_date', ['gsp_group_id'])) }}

{%- set neso_daily -%}
    select
        constraint_date,
        sum(thermal_cost_gbp) as neso_thermal_cost_gbp,
        sum(voltage_cost_gbp) as neso_voltage_cost_gbp,
        sum(largest_loss_cost_gbp) as neso_largest_loss_cost_gbp,
        sum(inertia_cost_gbp) as neso_inertia_cost_gbp
    from {{ ref('stg_neso__constraint_breakdown') }}
    where constraint_date is not null
    group by 1
{%- endset -%}

{%- set window_start = earliest_neso_revision(incremental_window_start(), neso_daily) %}

with

regional as (

    select
        settlement_date,
        coalesce(gsp_group_id, 'transmission') as gsp_group_id,
        count(distinct national_grid_bm_unit) as units,
        {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count,
        sum(so_flagged_instructed_energy_mwh) as so_flagged_instructed_energy_mwh,
        sum(so_flagged_volume_mwh) as so_flagged_volume_mwh,
        sum(so_flagged_energy_mwh) as so_flagged_energy_mwh,
        case when min(energy_basis) = max(energy_basis) then min(energy_basis) else 'mixed' end as energy_basis,
        sum(estimated_cost_gbp) as estimated_cost_gbp
    from {{ ref('fct_constraint_actions_daily') }}
    where {{ on_or_after('settlement_date', window_start) }}
    group by 1, 2

),

neso as (

    select * from ({{ neso_daily }}) as neso_days
    where {{ on_or_after('constraint_date', window_start) }}

)

select
    regional.settlement_date,
    regional.gsp_group_id,
    gsp_group_seed.gsp_group_name,
    gsp_group_seed.dno_group,
    cast(regional.units as {{ dbt.type_bigint() }}) as units,
    cast(regional.so_flagged_acceptance_count as {{ dbt.type_bigint() }}) as so_flagged_acceptance_count,
    cast(regional.so_flagged_instructed_energy_mwh as {{ type_double() }}) as so_flagged_instructed_energy_mwh,
    cast(regional.so_flagged_volume_mwh as {{ type_double() }}) as so_flagged_volume_mwh,
    cast(regional.so_flagged_energy_mwh as {{ type_double() }}) as so_flagged_energy_mwh,
    regional.energy_basis,
    cast(regional.estimated_cost_gbp as {{ type_double() }}) as estimated_cost_gbp,
    neso.neso_thermal_cost_gbp,
    neso.neso_voltage_cost_gbp,
    neso.neso_largest_loss_cost_gbp,
    neso.neso_inertia_cost_gbp
from regional
left join {{ ref('gsp_groups') }} as gsp_group_seed on regional.gsp_group_id = gsp_group_seed.gsp_group_id
left join neso on regional.settlement_date = neso.constraint_date
