-- REMIT unavailability per day, fuel type and affected unit: the unavailable capacity of every
-- event active that day (latest revision of each message), so planned and forced outages can be
-- charted over time.
with

messages as (

    {{ latest_per_key(ref('stg_bmrs__remit'), 'mrid', 'revision_number desc') }}

),

events as (

    select
        mrid,
        revision_number,
        fuel_type,
        affected_unit,
        asset_id,
        unavailability_type,
        event_status,
        normal_capacity,
        available_capacity,
        unavailable_capacity,
        cast(event_start_time_utc as date) as first_day,
        cast(coalesce(event_end_time_utc, event_start_time_utc) as date) as last_day
    from messages
    where event_start_time_utc is not null and coalesce(event_status, '') != 'Dismissed'

),

day_offsets as (

    -- events up to ten years long
    {{ dbt.generate_series(3660) }}

),

days as (

    select
        {{ dbt.dateadd('day', 'day_offsets.generated_number - 1', 'events.first_day') }} as event_day,
        events.*
    from events
    inner join day_offsets
        on day_offsets.generated_number - 1 <= {{ dbt.datediff('events.first_day', 'events.last_day', 'day') }}

)

select
    cast(event_day as date) as event_date,
    fuel_type,
    affected_unit,
    count(distinct mrid) as events,
    sum(unavailable_capacity) as unavailable_capacity_mw,
    sum(normal_capacity) as normal_capacity_mw,
    sum(case when unavailability_type = 'Planned' then unavailable_capacity else 0 end) as planned_unavailable_mw,
    sum(case when unavailability_type = 'Unplanned' then unavailable_capacity else 0 end) as unplanned_unavailable_mw
from days
group by 1, 2, 3
