-- ISO-NE five-minute flows on the external ties, MW (ISO-NE reports imports as negative).
with

source as (

    select * from {{ source_or_empty('isone', 'external_flows', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('location', 'string'),
        ('loc_id', 'string'),
        ('actual', 'number'),
        ('current', 'number'),
        ('purchase', 'number'),
        ('sale', 'number'),
        ('import', 'number'),
        ('export', 'number'),
        ('total_imports', 'number'),
        ('total_exports', 'number')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        {{ isone_interval_columns(300) }},
        cast(loc_id as {{ dbt.type_int() }}) as location_id,
        location as location_name,
        actual as actual_flow_mw,
        {{ adapter.quote("current") }} as scheduled_flow_mw,
        purchase as purchase_mw,
        sale as sale_mw,
        {{ adapter.quote("import") }} as import_limit_mw,
        {{ adapter.quote("export") }} as export_limit_mw,
        total_imports as total_imports_mw,
        total_exports as total_exports_mw,
        {{ staged_standard_columns() }}
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
