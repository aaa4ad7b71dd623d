-- BM units ranked by system-flagged energy over everything loaded (rank 1 = most): Elexon's
-- acceptance volumes where loaded, else the instructed level (energy_basis says which). Each
-- acceptance (unit + acceptance number) counts once, however many periods and days it spans:
-- on the first day it covers (so_flagged_acceptances_first_day_count).
-- A table, not incremental: a rank is over all history, so any new day can move every row. It
-- reads only the incremental daily mart (one row per unit and day), never BOALF.
with

daily as (

    select * from {{ ref('fct_constraint_actions_daily') }}

),

per_unit as (

    select
        national_grid_bm_unit,
        max(bm_unit) as bm_unit,
        max(lead_party_name) as lead_party_name,
        max(fuel_type) as fuel_type,
        max(gsp_group_id) as gsp_group_id,
        count(distinct settlement_date) as days_with_actions,
        sum(so_flagged_acceptances_first_day_count) as so_flagged_acceptance_count,
        sum(abs(so_flagged_instructed_energy_mwh)) as so_flagged_instructed_energy_mwh,
        sum(abs(so_flagged_volume_mwh)) as so_flagged_volume_mwh,
        sum(abs(so_flagged_energy_mwh)) as so_flagged_energy_mwh,
        case when min(energy_basis) = max(energy_basis) then min(energy_basis) else 'mixed' end as energy_basis,
        sum(estimated_cost_gbp) as estimated_cost_gbp
    from daily
    where so_flagged_acceptance_count > 0
    group by national_grid_bm_unit

)

select
    per_unit.national_grid_bm_unit,
    per_unit.bm_unit,
    per_unit.lead_party_name,
    per_unit.fuel_type,
    per_unit.gsp_group_id,
    cast(per_unit.days_with_actions as {{ dbt.type_bigint() }}) as days_with_actions,
    cast(per_unit.so_flagged_acceptance_count as {{ dbt.type_bigint() }}) as so_flagged_acceptance_count,
    cast(per_unit.so_flagged_instructed_energy_mwh as {{ type_double() }}) as so_flagged_instructed_energy_mwh,
    cast(per_unit.so_flagged_volume_mwh as {{ type_double() }}) as so_flagged_volume_mwh,
    cast(per_unit.so_flagged_energy_mwh as {{ type_double() }}) as so_flagged_energy_mwh,
    per_unit.energy_basis,
    cast(per_unit.estimated_cost_gbp as {{ type_double() }}) as estimated_cost_gbp,
    cast(rank() over (order by per_unit.so_flagged_energy_mwh desc) as {{ dbt.type_bigint() }}) as constraint_rank
from per_unit
