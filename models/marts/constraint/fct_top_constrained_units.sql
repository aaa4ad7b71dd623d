-- BM units ranked by system-flagged accepted energy over everything loaded (rank 1 = most).
select
    national_grid_bm_unit,
    max(bm_unit) as bm_unit,
    max(lead_party_name) as lead_party_name,
    max(fuel_type) as fuel_type,
    max(gsp_group_id) as gsp_group_id,
    count(distinct settlement_date) as days_with_actions,
    {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count,
    sum(abs(so_flagged_level_mwh)) as so_flagged_energy_mwh,
    sum(estimated_cost_gbp) as estimated_cost_gbp,
    rank() over (order by sum(abs(so_flagged_level_mwh)) desc) as constraint_rank
from {{ ref('fct_constraint_actions_daily') }}
where so_flagged_acceptance_count > 0
group by national_grid_bm_unit
