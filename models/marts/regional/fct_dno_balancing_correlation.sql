-- How regional balancing activity moves with what each DNO reports, over the loaded days:
-- Pearson correlations (null until there are at least three days with both sides loaded). The DNO
-- totals are NULL when that DNO's dataset was never loaded for these days (sum() of NULLs).
-- Balancing energy is the instructed level of the accepted actions (BOALF), not a balancing volume.
select
    dno_group,
    count(*) as days_compared,
    min(activity_date) as first_date,
    max(activity_date) as last_date,
    sum(instructed_energy_mwh) as instructed_energy_mwh,
    sum(flexibility_mwh) as flexibility_mwh,
    {{ sum_as_bigint('outages_started') }} as outages_started,
    case
        when count(flexibility_mwh) >= 3 then corr(instructed_energy_mwh, flexibility_mwh)
    end as correlation_instructed_vs_flexibility,
    case
        when count(outages_started) >= 3 then corr(so_flagged_acceptance_count, outages_started)
    end as correlation_so_flagged_vs_outages
from {{ ref('fct_dno_balancing_daily') }}
group by dno_group
