-- Carbon intensity of the transmission-metered GB generation mix per settlement period (FUELHH),
-- generation-weighted with the carbon_intensity_factors seed, and import-adjusted.
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

select
    settlement_date,
    settlement_period,
    interval_start_utc as settlement_period_start_utc,
    fuel_types,
    generation_mwh,
    import_mwh,
    export_mwh,
    unfactored_generation_mwh,
    unfactored_import_mwh,
    generation_emissions_tco2,
    import_emissions_tco2,
    carbon_intensity_gco2_per_kwh,
    import_adjusted_carbon_intensity_gco2_per_kwh
from {{ ref('int_carbon_intensity_by_interval_summed') }}
where resolution = 'half_hour' and {{ on_or_after('settlement_date', window_start) }}
