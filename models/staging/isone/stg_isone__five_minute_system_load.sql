-- ISO-NE five-minute system load, MW, with behind-the-meter solar estimates (loaded from web
-- services, or the website's chart endpoint as a fallback: ops.load_log says which).
with

source as (

    select * from {{ source_or_empty('isone', 'five_minute_system_load', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('load_mw', 'number'),
        ('native_load', 'number'),
        ('ard_demand', 'number'),
        ('system_load_btm_pv', 'number'),
        ('native_load_btm_pv', 'number')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        {{ isone_interval_columns(300) }},
        load_mw,
        native_load as native_load_mw,
        ard_demand as ard_demand_mw,
        system_load_btm_pv as load_with_btm_pv_mw,
        native_load_btm_pv as native_load_with_btm_pv_mw,
        {{ staged_standard_columns() }}
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
