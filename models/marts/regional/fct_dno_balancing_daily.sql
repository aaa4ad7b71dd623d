-- Per DNO group and day: balancing activity of the units in its GSP groups beside what the DNO
-- itself publishes (flexibility dispatched, outages started, latest headroom), the pairs the
-- correlation view compares.
with

balancing as (

    select
        dno_group,
        settlement_date as activity_date,
        sum(acceptance_count) as acceptance_count,
        sum(so_flagged_acceptance_count) as so_flagged_acceptance_count,
        sum(accepted_level_mwh) as accepted_level_mwh
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
        sum(customers_affected) as customers_affected
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
    coalesce(balancing.accepted_level_mwh, 0) as accepted_level_mwh,
    coalesce(flexibility.flexibility_events, 0) as flexibility_events,
    coalesce(flexibility.flexibility_mwh, 0) as flexibility_mwh,
    coalesce(outages.outages_started, 0) as outages_started
from spine
left join balancing
    on spine.dno_group = balancing.dno_group and spine.activity_date = balancing.activity_date
left join flexibility
    on spine.dno_group = flexibility.dno_group and spine.activity_date = flexibility.activity_date
left join outages
    on spine.dno_group = outages.dno_group and spine.activity_date = outages.activity_date
left join headroom on spine.dno_group = headroom.dno_group
