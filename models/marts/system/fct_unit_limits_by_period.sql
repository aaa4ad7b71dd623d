-- Dynamic limits per BM unit and settlement period: the maximum export (MELS) and import (MILS)
-- levels of the latest notification for the period, at the period's start (the level of the
-- notified segment that begins first in the period).
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date', ['national_grid_bm_unit'])) }}

{%- set window_start = incremental_window_start() %}

with

limits as (

    select
        'export' as direction,
        *
    from {{ ref('stg_bmrs__mels') }}
    where {{ on_or_after('settlement_date', window_start) }}
    union all
    select
        'import' as direction,
        *
    from {{ ref('stg_bmrs__mils') }}
    where {{ on_or_after('settlement_date', window_start) }}

),

latest as (

    select
        direction,
        national_grid_bm_unit,
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        level_from,
        row_number() over (
            partition by direction, national_grid_bm_unit, settlement_date, settlement_period
            order by notification_time_utc desc, notification_sequence desc, time_from_utc asc
        ) as pick
    from limits

)

select
    national_grid_bm_unit,
    settlement_date,
    settlement_period,
    min(settlement_period_start_utc) as settlement_period_start_utc,
    max(case when direction = 'export' then level_from end) as max_export_limit_mw,
    max(case when direction = 'import' then level_from end) as max_import_limit_mw
from latest
where pick = 1
group by 1, 2, 3
