-- GSP groups ranked by system-flagged energy over everything loaded (rank 1 = most): Elexon's
-- acceptance volumes where loaded, else the instructed level (energy_basis says which). Each
-- acceptance (unit + acceptance number) counts once, however many periods and days it spans:
-- on the first day it covers (so_flagged_acceptances_first_day_count; a unit sits in one group).
-- A table, not incremental: a rank is over all history, so any new day can move every row. It
-- reads only the incremental daily marts (one row per unit or group and day), never BOALF.
with

regional as (

    select * from {{ ref('fct_constraint_daily_by_region') }}

),

so_flagged_acceptances as (

    select
        coalesce(gsp_group_id, 'transmission') as gsp_group_id,
        sum(so_flagged_acceptances_first_day_count) as so_flagged_acceptance_count
    from {{ ref('fct_constraint_actions_daily') }}
    group by 1
    having sum(so_flagged_acceptances_first_day_count) > 0

),

per_group as (

    select
        gsp_group_id,
        max(gsp_group_name) as gsp_group_name,
        max(dno_group) as dno_group,
        count(distinct settlement_date) as days_with_actions,
        sum(abs(so_flagged_instructed_energy_mwh)) as so_flagged_instructed_energy_mwh,
        sum(abs(so_flagged_volume_mwh)) as so_flagged_volume_mwh,
        sum(abs(so_flagged_energy_mwh)) as so_flagged_energy_mwh,
        case when min(energy_basis) = max(energy_basis) then min(energy_basis) else 'mixed' end as energy_basis,
        sum(estimated_cost_gbp) as estimated_cost_gbp
    from regional
    where so_flagged_acceptance_count > 0
    group by 1

)

select
    per_group.gsp_group_id,
    per_group.gsp_group_name,
    per_group.dno_group,
    cast(per_group.days_with_actions as {{ dbt.type_bigint() }}) as days_with_actions,
    cast(so_flagged_acceptances.so_flagged_acceptance_count as {{ dbt.type_bigint() }})
        as so_flagged_acceptance_count,
    cast(per_group.so_flagged_instructed_energy_mwh as {{ type_double() }}) as so_flagged_instructed_energy_mwh,
    cast(per_group.so_flagged_volume_mwh as {{ type_double() }}) as so_flagged_volume_mwh,
    cast(per_group.so_flagged_energy_mwh as {{ type_double() }}) as so_flagged_energy_mwh,
    per_group.energy_basis,
    cast(per_group.estimated_cost_gbp as {{ type_double() }}) as estimated_cost_gbp,
    cast(rank() over (order by per_group.so_flagged_energy_mwh desc) as {{ dbt.type_bigint() }}) as constraint_rank
from per_group
inner join so_flagged_acceptances on per_group.gsp_group_id = so_flagged_acceptances.gsp_group_id
