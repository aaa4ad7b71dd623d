-- GSP groups ranked by system-flagged accepted energy over everything loaded (rank 1 = most).
select
    gsp_group_id,
    max(gsp_group_name) as gsp_group_name,
    max(dno_group) as dno_group,
    count(distinct settlement_date) as days_with_actions,
    {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count,
    sum(abs(so_flagged_level_mwh)) as so_flagged_energy_mwh,
    sum(estimated_cost_gbp) as estimated_cost_gbp,
    rank() over (order by sum(abs(so_flagged_level_mwh)) desc) as constraint_rank
from {{ ref('fct_constraint_daily_by_region') }}
where so_flagged_acceptance_count > 0
group by gsp_group_id
