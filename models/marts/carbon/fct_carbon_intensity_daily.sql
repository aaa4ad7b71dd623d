-- Carbon intensity per settlement day: the periods' energy and CO2 summed, the intensity
-- recomputed from the sums (never an average of averages).
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

select
    settlement_date,
    cast(count(*) as {{ dbt.type_bigint() }}) as periods,
    sum(generation_mwh) as generation_mwh,
    sum(import_mwh) as import_mwh,
    sum(export_mwh) as export_mwh,
    sum(unfactored_generation_mwh) as unfactored_generation_mwh,
    sum(unfactored_import_mwh) as unfactored_import_mwh,
    sum(generation_emissions_tco2) as generation_emissions_tco2,
    sum(import_emissions_tco2) as import_emissions_tco2,
    cast(sum(generation_emissions_tco2) * 1000 / nullif(sum(generation_mwh), 0) as {{ type_double() }})
        as carbon_intensity_gco2_per_kwh,
    cast(
        (sum(generation_emissions_tco2) + sum(import_emissions_tco2)) * 1000
        / nullif(sum(generation_mwh) + sum(import_mwh), 0)
        as {{ type_double() }}
    ) as import_adjusted_carbon_intensity_gco2_per_kwh
from {{ ref('fct_carbon_intensity_by_period') }}
where {{ on_or_after('settlement_date', window_start) }}
group by 1
