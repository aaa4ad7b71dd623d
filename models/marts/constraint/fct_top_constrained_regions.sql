-- GSP groups ranked by system-flagged energy over everything loaded (rank 1 = most): Elexon's
-- acceptance volumes where loaded, else the instructed level (energy_basis says which). Each
-- acceptance (unit + acceptance number) counts once, however many periods and days it spans.
with

regional as (

    select * from {{ ref('fct_constraint_daily_by_region') }}

),

unit_groups as (

    select distinct
        national_grid_bm_unit,
        coalesce(gsp_group_id, 'transmission') as gsp_group_id
    from {{ ref('fct_constraint_actions_daily') }}

),

so_flagged_acceptances as (

    select
        unit_groups.gsp_group_id,
        count(distinct concat(
            pieces.national_grid_bm_unit, '#', cast(pieces.acceptance_number as {{ dbt.type_string() }})
        )) as so_flagged_acceptance_count
    from {{ ref('int_boalf_segments_split_by_period') }} as pieces
    inner join unit_groups on pieces.national_grid_bm_unit = unit_groups.national_grid_bm_unit
    where pieces.is_so_flagged
    group by unit_groups.gsp_group_id

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
    group by gsp_group_id

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
