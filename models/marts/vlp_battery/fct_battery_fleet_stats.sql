-- Battery fleet statistics: the whole fleet, by VLP status, by GSP group and by lead party.
-- One row per (breakdown, group); capacities are registered generation capacity in MW.
with

batteries as (

    select * from {{ ref('dim_bm_unit') }}
    where is_battery

),

grouped as (

    select
        'fleet' as breakdown,
        'all batteries' as group_value,
        generation_capacity_mw,
        demand_capacity_mw,
        is_vlp
    from batteries
    union all
    select
        'vlp_status' as breakdown,
        case when is_vlp then 'vlp' else 'direct' end as group_value,
        generation_capacity_mw,
        demand_capacity_mw,
        is_vlp
    from batteries
    union all
    select
        'gsp_group' as breakdown,
        coalesce(gsp_group_id, 'transmission / unknown') as group_value,
        generation_capacity_mw,
        demand_capacity_mw,
        is_vlp
    from batteries
    union all
    select
        'lead_party' as breakdown,
        coalesce(lead_party_name, 'unknown') as group_value,
        generation_capacity_mw,
        demand_capacity_mw,
        is_vlp
    from batteries

)

select
    breakdown,
    group_value,
    count(*) as bmu_count,
    sum(case when is_vlp then 1 else 0 end) as vlp_bmu_count,
    sum(generation_capacity_mw) as total_capacity_mw,
    avg(generation_capacity_mw) as average_capacity_mw,
    {{ median('generation_capacity_mw') }} as median_capacity_mw,
    sum(demand_capacity_mw) as total_demand_capacity_mw
from grouped
group by breakdown, group_value
