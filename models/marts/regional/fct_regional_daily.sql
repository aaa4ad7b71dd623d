-- The regional balancing picture per GSP group and settlement day.
select
    gsp_group_id,
    gsp_group_name,
    dno_licence_area,
    dno_group,
    settlement_date,
    count(*) as periods_with_activity,
    {{ sum_as_bigint('acceptance_count') }} as acceptance_count,
    {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count,
    sum(accepted_level_mwh) as accepted_level_mwh,
    {{ sum_as_bigint('bid_offer_pairs') }} as bid_offer_pairs,
    sum(metered_mwh) as metered_mwh
from {{ ref('fct_regional_balancing_by_period') }}
group by 1, 2, 3, 4, 5
