-- The balancing carbon estimate per settlement day, GSP group and reason (SO-flagged / energy),
-- summed from fct_balancing_carbon_daily.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date', ['gsp_group_id'])) }}

{%- set window_start = incremental_window_start() %}

select
    settlement_date,
    gsp_group_id,
    reason,
    cast(count(*) as {{ dbt.type_bigint() }}) as acceptances,
    cast(sum(case when emission_factor_gco2_per_kwh is null then 1 else 0 end) as {{ dbt.type_bigint() }})
        as acceptances_without_factor,
    sum(offer_volume_mwh) as offer_volume_mwh,
    sum(bid_volume_mwh) as bid_volume_mwh,
    sum(instructed_energy_mwh) as instructed_energy_mwh,
    sum(co2_added_by_offers_tonnes) as co2_added_by_offers_tonnes,
    sum(co2_avoided_by_bids_tonnes) as co2_avoided_by_bids_tonnes,
    sum(net_co2_tonnes) as net_co2_tonnes,
    sum(instructed_output_co2_tonnes) as instructed_output_co2_tonnes
from {{ ref('fct_balancing_carbon_daily') }}
where {{ on_or_after('settlement_date', window_start) }}
group by 1, 2, 3
