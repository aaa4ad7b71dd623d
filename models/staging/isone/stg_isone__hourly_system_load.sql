-- ISO-NE hourly system load (NEPOOL area, location 32), MW, per market-day hour: the UTC
-- interval and the local wall time and offset as published (23 hours in spring, 25 in autumn).
with

source as (

    select * from {{ source_or_empty('isone', 'hourly_system_load', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('location', 'string'),
        ('loc_id', 'string'),
        ('load', 'number'),
        ('native_load', 'number'),
        ('ard_demand', 'number')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        {{ isone_interval_columns(3600) }},
        cast(loc_id as {{ dbt.type_int() }}) as location_id,
        location as location_name,
        load as load_mw,
        native_load as native_load_mw,
        ard_demand as ard_demand_mw,
        {{ staged_standard_columns() }}
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
