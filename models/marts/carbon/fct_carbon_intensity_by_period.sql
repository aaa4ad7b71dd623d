-- Carbon intensity of the transmission-metered GB generation mix per settlement period (FUELHH),
-- generation-weighted with the carbon_intensity_factors seed, and import-adjusted.
{{ config(**partitioned_by_day('settlement_date')) }}

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
where resolution = 'half_hour'
