-- Schema changes the loaders saw, one row per source, dataset, field and kind of change.
with

source as (

    select * from {{ source_or_empty('ops', 'schema_changes', [
        ('source', 'string'),
        ('dataset', 'string'),
        ('field', 'string'),
        ('change', 'string'),
        ('detail', 'string'),
        ('first_seen', 'timestamp'),
        ('last_seen', 'timestamp'),
        ('run_id', 'string')
    ]) }}

)

select
    source as source_name,
    dataset,
    field as field_name,
    change as change_kind,
    detail,
    {{ utc_timestamp('first_seen') }} as first_seen_utc,
    {{ utc_timestamp('last_seen') }} as last_seen_utc,
    run_id
from source
