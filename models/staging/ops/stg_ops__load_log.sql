-- Every load attempt of every window, typed, with UTC times; the latest attempt per window is
-- flagged, and decides whether the window is done (ok, empty or fallback).
with

source as (

    select * from {{ source_or_empty('ops', 'load_log', [
        ('source', 'string'),
        ('dataset', 'string'),
        ('window_start', 'timestamp'),
        ('window_end', 'timestamp'),
        ('rows', 'integer'),
        ('status', 'string'),
        ('started_at', 'timestamp'),
        ('finished_at', 'timestamp'),
        ('attempts', 'integer'),
        ('error', 'string'),
        ('notes', 'string'),
        ('run_id', 'string'),
        ('load_id', 'string')
    ]) }}

),

renamed as (

    select
        source as source_name,
        dataset,
        {{ utc_timestamp('window_start') }} as window_start_utc,
        {{ utc_timestamp('window_end') }} as window_end_utc,
        {{ adapter.quote('rows') }} as row_count,
        status,
        {{ utc_timestamp('started_at') }} as started_at_utc,
        {{ utc_timestamp('finished_at') }} as finished_at_utc,
        attempts,
        error,
        notes,
        run_id,
        load_id
    from source

)

select
    *,
    row_number() over (
        partition by source_name, dataset, window_start_utc, window_end_utc
        order by finished_at_utc desc
    ) = 1 as is_latest_attempt,
    status in ('ok', 'empty', 'fallback') as is_success
from renamed
