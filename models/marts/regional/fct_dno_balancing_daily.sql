-- Per DNO group and day: balancing activity of the units in its GSP groups beside what the DNO
-- itself publishes (flexibility dispatched, outages started, latest headroom), the pairs the
-- correlation view compares. A DNO figure is 0 only on a day inside the span that DNO's dataset
-- was loaded for; outside it (or for a DNO never loaded) it is NULL: not published is not zero.
-- Acceptances count once per unit and day (fct_regional_daily); a DNO's GSP groups are disjoint,
-- so adding its groups adds distinct acceptances. Energy is the instructed level (BOALF).
with

balancing as (

    select
        dno_group,
        settlement_date as activity_date,
        {{ sum_as_bigint('acceptance_count') }} as acceptance_count,
        {{ sum_as_bigint('so_flagged_acceptance_count') }} as so_flagged_acceptance_count,
        sum(instructed_energy_mwh) as instructed_energy_mwh,
        sum(so_flagged_instructed_energy_mwh) as so_flagged_instructed_energy_mwh
    from {{ ref('fct_regional_daily') }}
    where dno_group is not null
    group by 1, 2

),

flexibility as (

    select
        dno as dno_group,
        cast(start_utc as date) as activity_date,
        count(*) as flexibility_events,
        sum(power_mw * {{ minutes_between('start_utc', 'end_utc') }} / 60.0) as flexibility_mwh
    from {{ ref('stg_dno__flexibility') }}
    where start_utc is not null
    group by 1, 2

),

outages as (

    select
        dno as dno_group,
        cast(start_utc as date) as activity_date,
        count(*) as outages_started,
        {{ sum_as_bigint('customers_affected') }} as customers_affected
    from {{ ref('stg_dno__outages') }}
    where start_utc is not null
    group by 1, 2

),

headroom as (

    select
        dno as dno_group,
        sum(demand_headroom_mw) as demand_headroom_mw,
        sum(generation_headroom_mw) as generation_headroom_mw
    from {{ ref('stg_dno__headroom') }}
    group by 1

),

flexibility_span as (

    select
        dno_group,
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from flexibility
    group by 1

),

outages_span as (

    select
        dno_group,
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from outages
    group by 1

),

spine as (

    select
        dno_group,
        activity_date
    from balancing
    union distinct
    select
        dno_group,
        activity_date
    from flexibility
    union distinct
    select
        dno_group,
        activity_date
    from outages

)

select
    spine.dno_group,
    spine.activity_date,
    outages.customers_affected,
    headroom.demand_headroom_mw as current_demand_headroom_mw,
    headroom.generation_headroom_mw as current_generation_headroom_mw,
    coalesce(balancing.acceptance_count, 0) as acceptance_count,
    coalesce(balancing.so_flagged_acceptance_count, 0) as so_flagged_acceptance_count,
    cast(coalesce(balancing.instructed_energy_mwh, 0) as {{ type_double() }}) as instructed_energy_mwh,
    cast(coalesce(balancing.so_flagged_instructed_energy_mwh, 0) as {{ type_double() }})
        as so_flagged_instructed_energy_mwh,
    case
        when spine.activity_date between flexibility_span.first_date and flexibility_span.last_date
            then coalesce(flexibility.flexibility_events, 0)
    end as flexibility_events,
    case
        when spine.activity_date between flexibility_span.first_date and flexibility_span.last_date
            then coalesce(flexibility.flexibility_mwh, 0)
    end as flexibility_mwh,
    case
        when spine.activity_date between outages_span.first_date and outages_span.last_date
            then coalesce(outages.outages_started, 0)
    end as outages_started
from spine
left join balancing
    on spine.dno_group = balancing.dno_group and spine.activity_date = balancing.activity_date
left join flexibility
    on spine.dno_group = flexibility.dno_group and spine.activity_date = flexibility.activity_date
left join outages
    on spine.dno_group = outages.dno_group and spine.activity_date = outages.activity_date
left join flexibility_span on spine.dno_group = flexibility_span.dno_group
left join outages_span on spine.dno_group = outages_span.dno_group
left join headroom on spine.dno_group = headroom.dno_group
