-- Imbalance per settlement day.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

select
    settlement_date,
    count(*) as periods,
    avg(system_sell_price_gbp_per_mwh) as average_system_sell_price_gbp_per_mwh,
    max(system_sell_price_gbp_per_mwh) as max_system_sell_price_gbp_per_mwh,
    min(system_sell_price_gbp_per_mwh) as min_system_sell_price_gbp_per_mwh,
    sum(net_imbalance_volume_mwh) as net_imbalance_volume_mwh,
    {{ sum_as_bigint('case when net_imbalance_volume_mwh > 0 then 1 else 0 end') }} as short_periods,
    {{ sum_as_bigint('case when net_imbalance_volume_mwh < 0 then 1 else 0 end') }} as long_periods,
    {{ sum_as_bigint('disbsad_actions') }} as disbsad_actions,
    sum(disbsad_cost_gbp) as disbsad_cost_gbp,
    sum(disbsad_volume_mwh) as disbsad_volume_mwh
from {{ ref('fct_imbalance_by_period') }}
where {{ on_or_after('settlement_date', window_start) }}
group by 1
