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
        ('native_load_btm_pv', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'string'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        {{ utc_timestamp('begin_date') }} as interval_start_utc,
        {{ add_seconds(utc_timestamp('begin_date'), 300) }} as interval_end_utc,
        begin_date_local as interval_start_local,
        begin_date_offset as utc_offset,
        cast(substr(begin_date_local, 1, 10) as date) as market_date,
        load_mw,
        native_load as native_load_mw,
        ard_demand as ard_demand_mw,
        system_load_btm_pv as load_with_btm_pv_mw,
        native_load_btm_pv as native_load_with_btm_pv_mw,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
