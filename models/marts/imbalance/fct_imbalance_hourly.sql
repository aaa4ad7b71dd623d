-- Imbalance by settlement day and hour of day in UK local time (two periods an hour; the clock
-- change hours hold one or three).
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

select
    settlement_date,
    {{ uk_local_hour('settlement_period_start_utc') }} as hour_of_day_uk,
    min(settlement_period_start_utc) as hour_start_utc,
    count(*) as periods,
    avg(system_sell_price_gbp_per_mwh) as average_system_sell_price_gbp_per_mwh,
    avg(system_buy_price_gbp_per_mwh) as average_system_buy_price_gbp_per_mwh,
    sum(net_imbalance_volume_mwh) as net_imbalance_volume_mwh,
    sum(disbsad_cost_gbp) as disbsad_cost_gbp,
    sum(disbsad_volume_mwh) as disbsad_volume_mwh,
    avg(indicated_demand_mw) as average_indicated_demand_mw,
    avg(indicated_generation_mw) as average_indicated_generation_mw
from {{ ref('fct_imbalance_by_period') }}
where {{ on_or_after('settlement_date', window_start) }}
group by 1, 2
