-- System-wide dynamic limits per settlement period: the sum over BM units of their maximum
-- export and import levels, and how many units notified each.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

select
    settlement_date,
    settlement_period,
    min(settlement_period_start_utc) as settlement_period_start_utc,
    count(max_export_limit_mw) as units_with_export_limit,
    {{ sum_as_bigint('max_export_limit_mw') }} as total_max_export_limit_mw,
    count(max_import_limit_mw) as units_with_import_limit,
    {{ sum_as_bigint('max_import_limit_mw') }} as total_max_import_limit_mw
from {{ ref('fct_unit_limits_by_period') }}
where {{ on_or_after('settlement_date', window_start) }}
group by 1, 2
