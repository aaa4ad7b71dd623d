-- Interconnector flows per settlement period, split out of the generation mix (positive into GB).
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

select
    settlement_date,
    settlement_period,
    settlement_period_start_utc,
    fuel_type as interconnector,
    generation_mw as flow_mw,
    generation_mwh as flow_mwh
from {{ ref('fct_generation_mix_by_period') }}
where is_interconnector and {{ on_or_after('settlement_date', window_start) }}
